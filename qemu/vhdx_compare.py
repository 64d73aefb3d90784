#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compare two replayed copies of one VHDX image, ignoring the two headers.

Usage: vhdx_compare.py QEMU_COPY OUR_COPY

QEMU_COPY was replayed by `qemu-img check -r all`, OUR_COPY by `vhdxlog
replay`. The 4 KiB headers at 64 KiB and 128 KiB are skipped: both tools
rewrite them with their own SequenceNumber / FileWriteGuid choices.

The common prefix (up to the shorter length) must be identical. When the
lengths differ, the extra tail of the longer file is checked for zeros and
reported precisely (QEMU never extends a file to a 1 MiB-aligned
LastFileOffset; the spec and our replay do).

Exit status: 0 identical apart from the headers; 1 the common prefix
differs, or the extra tail is not all zero; 3 identical prefix, and the
only difference is an all-zero tail (printed; the caller decides whether
that deviation was expected).
"""
import os
import sys

SKIP = ((64 * 1024, 68 * 1024), (128 * 1024, 132 * 1024))
CHUNK = 1 << 20


def masked(buf, base):
    """buf (read at file offset base) with the header ranges zeroed."""
    b = None
    for lo, hi in SKIP:
        s, e = max(lo, base), min(hi, base + len(buf))
        if s < e:
            if b is None:
                b = bytearray(buf)
            b[s - base:e - base] = bytes(e - s)
    return bytes(b) if b is not None else buf


def main(args):
    if len(args) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    pa, pb = args
    sa, sb = os.path.getsize(pa), os.path.getsize(pb)
    common = min(sa, sb)
    diffs = []  # (offset, length) of differing 4 KiB-aligned runs, first few
    ndiff = 0
    with open(pa, "rb") as fa, open(pb, "rb") as fb:
        off = 0
        while off < common:
            n = min(CHUNK, common - off)
            a = masked(fa.read(n), off)
            b = masked(fb.read(n), off)
            if a != b:
                for s in range(0, n, 4096):
                    if a[s:s + 4096] != b[s:s + 4096]:
                        ndiff += 1
                        if len(diffs) < 10:
                            first = next(i for i in range(s, min(s + 4096, n))
                                         if a[i] != b[i])
                            diffs.append((off + first, off + s))
            off += n
        longer, lname, lsize = (fa, pa, sa) if sa > sb else (fb, pb, sb)
        tail_nonzero = None
        if sa != sb:
            longer.seek(common)
            off = common
            while off < lsize:
                chunk = longer.read(min(CHUNK, lsize - off))
                if not chunk:
                    break
                if chunk.count(0) != len(chunk):
                    tail_nonzero = off + next(i for i, c in enumerate(chunk) if c)
                    break
                off += len(chunk)
    print("sizes: qemu %d (0x%x), ours %d (0x%x)" % (sa, sa, sb, sb))
    if ndiff:
        print("DIFFERENT: %d 4 KiB sector(s) of the common prefix differ (headers "
              "excluded); first byte differences at:" % ndiff)
        for first, sec in diffs:
            print("  file offset 0x%x (sector 0x%x)" % (first, sec))
        return 1
    print("common prefix of %d bytes identical (headers at 0x10000 and 0x20000 "
          "excluded)" % common)
    if sa == sb:
        return 0
    who = "ours" if sb > sa else "qemu"
    if tail_nonzero is not None:
        print("DIFFERENT: %s is longer by %d bytes and its tail is NOT zero "
              "(first non-zero byte at 0x%x)" % (who, lsize - common, tail_nonzero))
        return 1
    print("LENGTH DIFFERS: %s is longer by %d bytes (0x%x..0x%x), all zero" % (
        who, lsize - common, common, lsize))
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
