#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Print the headers, region table and pending log entries of a VHDX file.

Independent of the vhdxlog library: plain struct unpacking of MS-VHDX 2.2/2.3
(docs/FORMAT.md), used by the QEMU interop scripts to show what QEMU left in
a log, and importable: crc32c(), parse_header(), read_headers(),
parse_regions(), parse_entry() and data_extents() serve every Python script
that reads or writes VHDX bytes.

Usage:
  vhdx_inspect.py FILE [--json]     print headers, regions, log entries
      exit status: 0 clean, 1 dirty (LogGuid != 0), 2 no current header
  vhdx_inspect.py --plan FILE FINAL [PRE...]
      (for make_dirty.sh) check the OFF:LEN:PAT write specs and print the
      BAT sector whose write must fail
  vhdx_inspect.py --check-our-headers DIRTY REPLAYED VHDXLOG
      (for interop_test.sh) check REPLAYED's headers against docs/RULES.md's
      replay order (LogGuid 0, +2 sequence, the FileWriteGuid VHDXLOG's dry
      run predicts)
  vhdx_inspect.py --bump-last-file-offset FILE DELTA
      (for interop_test.sh) raise LastFileOffset of the entry at log offset 0
      by DELTA and recompute its checksum; prints the new value
"""
import errno
import json
import os
import struct
import subprocess
import sys
import uuid

MIB = 1 << 20
SECTOR = 4096
BAT_GUID = uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
META_GUID = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_T = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _T
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc_zeroed(buf):
    return crc32c(bytes(buf[:4]) + b"\0\0\0\0" + bytes(buf[8:]))


def guid(b):
    return str(uuid.UUID(bytes_le=bytes(b)))


def parse_header(raw):
    sig = raw[0:4]
    (csum, seq) = struct.unpack_from("<IQ", raw, 4)
    fwg, dwg, lg = raw[16:32], raw[32:48], raw[48:64]
    logver, ver, loglen, logoff = struct.unpack_from("<HHIQ", raw, 64)
    valid = sig == b"head" and crc_zeroed(raw) == csum
    return dict(valid=valid, sequence=seq, file_write_guid=guid(fwg),
                data_write_guid=guid(dwg), log_guid=guid(lg),
                log_guid_raw=bytes(lg), log_version=logver, version=ver,
                log_length=loglen, log_offset=logoff)


def parse_regions(raw):
    if raw[0:4] != b"regi" or crc_zeroed(raw) != struct.unpack_from("<I", raw, 4)[0]:
        return None
    count = struct.unpack_from("<I", raw, 8)[0]
    out = {}
    for i in range(min(count, 2047)):
        g, off, ln, req = struct.unpack_from("<16sQII", raw, 16 + 32 * i)
        u = uuid.UUID(bytes_le=g)
        name = "bat" if u == BAT_GUID else "metadata" if u == META_GUID else str(u)
        out[name] = dict(offset=off, length=ln, required=req)
    return out


def parse_entry(log, off, log_guid_raw):
    """Parse the entry at log offset off (wrapping). Returns a dict or None."""
    n = len(log)

    def sect(i):
        o = (off + i * SECTOR) % n
        return log[o:o + SECTOR]

    s0 = sect(0)
    if s0[0:4] != b"loge":
        return None
    csum, length, tail, seq, dcount, res = struct.unpack_from("<IIIQII", s0, 4)
    lg = bytes(s0[32:48])
    flushed, last = struct.unpack_from("<QQ", s0, 48)
    e = dict(log_offset=off, checksum=csum, entry_length=length, tail=tail,
             sequence=seq, descriptor_count=dcount, reserved=res,
             log_guid=guid(lg), guid_matches=(lg == log_guid_raw),
             flushed_file_offset=flushed, last_file_offset=last)
    if length == 0 or length % SECTOR or length > n:
        e["valid"] = False
        e["problem"] = "bad EntryLength"
        return e
    body = b"".join(bytes(sect(i)) for i in range(length // SECTOR))
    e["checksum_ok"] = crc_zeroed(body) == csum
    dsec = 1 if dcount <= 126 else 1 + (dcount - 126 + 127) // 128
    descs = []
    for k in range(dcount):
        if k < 126:
            pos = 64 + 32 * k
        else:
            pos = SECTOR * (1 + (k - 126) // 128) + 32 * ((k - 126) % 128)
        if pos + 32 > len(body):
            break
        d = body[pos:pos + 32]
        sig = d[0:4].decode("latin-1")
        if sig == "zero":
            _, zlen, foff, dseq = struct.unpack_from("<IQQQ", d, 4)
            descs.append(dict(type="zero", zero_length=zlen, file_offset=foff,
                              sequence=dseq))
        else:
            trail, lead, foff, dseq = struct.unpack_from("<IQQQ", d, 4)
            descs.append(dict(type=sig, trailing=trail, leading=lead,
                              file_offset=foff, sequence=dseq))
    e["descriptor_sectors"] = dsec
    e["data_sectors"] = length // SECTOR - dsec
    e["descriptors"] = descs
    e["valid"] = (e["checksum_ok"] and e["guid_matches"] and res == 0 and seq != 0)
    return e


FILE_PARAMS_GUID = uuid.UUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
LOGICAL_SECTOR_GUID = uuid.UUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
VDISK_SIZE_GUID = uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8")


def parse_metadata(f, region):
    """Block size, logical sector size and virtual size from the metadata region."""
    f.seek(region["offset"])
    raw = f.read(region["length"])
    if raw[0:8] != b"metadata":
        raise SystemExit("metadata table signature missing")
    count = struct.unpack_from("<H", raw, 10)[0]
    items = {}
    for i in range(count):
        g, off, ln = struct.unpack_from("<16sII", raw, 32 + 32 * i)
        items[uuid.UUID(bytes_le=g)] = raw[off:off + ln]
    return dict(block_size=struct.unpack_from("<I", items[FILE_PARAMS_GUID])[0],
                logical_sector_size=struct.unpack_from("<I", items[LOGICAL_SECTOR_GUID])[0],
                virtual_size=struct.unpack_from("<Q", items[VDISK_SIZE_GUID])[0])


def parse_size(text):
    text = text.strip().lower()
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    if text and text[-1] in mult:
        return int(text[:-1], 0) * mult[text[-1]]
    return int(text, 0)


def plan(path, final, pres):
    """Check make_dirty.sh's write specs (OFF:LEN:PAT) against the image and
    return the BAT sector to fail, or raise SystemExit with the reason."""
    with open(path, "rb") as f:
        head = f.read(MIB)
        regions = parse_regions(head[192 * 1024:256 * 1024]) or \
            parse_regions(head[256 * 1024:320 * 1024])
        md = parse_metadata(f, regions["metadata"])
    chunk_ratio = ((1 << 23) * md["logical_sector_size"]) // md["block_size"]

    def bat_of(block):
        """The file offset of the 4 KiB BAT sector holding BLOCK's entry
        (MS-VHDX 2.5: one sector-bitmap entry follows every chunk_ratio
        payload entries)."""
        return regions["bat"]["offset"] + ((block + block // chunk_ratio) * 8) // SECTOR * SECTOR

    def span(spec):
        parts = spec.split(":")
        if len(parts) != 3 or not all(parts):
            raise SystemExit("bad write spec %r (want OFF:LEN:PAT)" % spec)
        off, ln = parse_size(parts[0]), parse_size(parts[1])
        if ln <= 0 or off + ln > md["virtual_size"]:
            raise SystemExit("write %s is empty or ends past the virtual size %d"
                             % (spec, md["virtual_size"]))
        b1, b2 = off // md["block_size"], (off + ln - 1) // md["block_size"]
        return b1, b2, bat_of(b1), bat_of(b2)

    b1, b2, target, _ = span(final)
    if b1 != b2:
        raise SystemExit("the final write %s spans payload blocks %d..%d; keep it inside "
                         "one block (QEMU stops after the first failed one)" % (final, b1, b2))
    for p in pres:
        _, _, s1, s2 = span(p)
        if s1 <= target <= s2:
            raise SystemExit("earlier write %s touches the final write's BAT sector %d "
                             "(512 BAT entries per 4 KiB); move it further away" % (p, target))
    return target


def read_headers(f):
    """Both headers of an open image, parsed, and the index of the current
    one (MS-VHDX 2.2.2.1: the valid one with the larger SequenceNumber; with
    equal numbers only if both are identical), or None."""
    raw = []
    for off in (64 * 1024, 128 * 1024):
        f.seek(off)
        raw.append(f.read(SECTOR))
    h = [parse_header(x) for x in raw]
    cur = None
    if h[0]["valid"] and h[1]["valid"]:
        if h[0]["sequence"] != h[1]["sequence"]:
            cur = 0 if h[0]["sequence"] > h[1]["sequence"] else 1
        elif raw[0] == raw[1]:
            cur = 0
    elif h[0]["valid"] or h[1]["valid"]:
        cur = 0 if h[0]["valid"] else 1
    return h, cur


def headers_of(path):
    with open(path, "rb") as f:
        return read_headers(f)


def data_extents(fd, size):
    """[(start, end)] of the file's data (SEEK_DATA/SEEK_HOLE), so that
    scans skip holes; from the first offset the file system cannot tell
    about, the rest of the file."""
    out, off = [], 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
            end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        except OSError as e:
            if e.errno != errno.ENXIO:  # ENXIO: only a hole is left
                out.append((off, size))
            break
        out.append((start, end))
        off = end
    return out


def predicted_headers(vhdxlog, dirty):
    """The headers `vhdxlog replay --dry-run --json` says a replay of DIRTY
    ends with, by slot: [(sequence, FileWriteGuid)] in header order."""
    out = subprocess.run([vhdxlog, "replay", "--dry-run", "--json", dirty],
                         stdout=subprocess.PIPE, check=False).stdout
    hs = sorted(json.loads(out)["headers"], key=lambda h: h["slot"])
    return [(h["sequence_number"], str(uuid.UUID(h["file_write_guid"].strip("{}"))))
            for h in hs]


def check_our_headers(dirty, replayed, vhdxlog):
    """Compare the headers of `replayed` (vhdxlog replay of a copy of `dirty`)
    with docs/RULES.md's replay order. The FileWriteGuid is derived from the
    LogGuid (RULES.md derive(L); the oracle checks the derivation itself):
    here it must be what a dry run, another process, predicts, so it was not
    drawn at random. Returns a list of problems."""
    d, dc = headers_of(dirty)
    r, _ = headers_of(replayed)
    if dc is None:
        return ["the dirty image has no current header"]
    dh = d[dc]
    predicted = predicted_headers(vhdxlog, dirty)
    fs = predicted[0][1]
    # A replay resumed after a cut between its two header writes starts
    # from a header that already carries the derived FileWriteGuid.
    base = dh["sequence"] + (0 if dh["file_write_guid"] == fs else 1)
    problems = []
    for i, h in enumerate(r):
        if not h["valid"]:
            problems.append("header %d invalid" % (i + 1))
            continue
        if h["log_guid_raw"] != bytes(16):
            problems.append("header %d LogGuid %s not zero" % (i + 1, h["log_guid"]))
        if (h["sequence"], h["file_write_guid"]) != predicted[i]:
            problems.append("header %d SequenceNumber, FileWriteGuid %d, %s != dry run's %s"
                            % (i + 1, h["sequence"], h["file_write_guid"], predicted[i]))
        for k in ("data_write_guid", "log_offset", "log_length", "version", "log_version"):
            if h[k] != dh[k]:
                problems.append("header %d %s %s != %s before replay" % (i + 1, k, h[k], dh[k]))
    if not problems:
        if r[0]["file_write_guid"] != r[1]["file_write_guid"]:
            problems.append("the two headers carry different FileWriteGuids")
        seqs = sorted(h["sequence"] for h in r)
        if seqs != [base + 1, base + 2]:
            problems.append("header sequence numbers %s, expected %s" % (seqs, [base + 1, base + 2]))
    return problems


def bump_last_file_offset(path, delta):
    """Raise LastFileOffset of the entry at log offset 0 by delta (a 1 MiB
    multiple) and recompute its checksum: a QEMU-made entry edited to show
    where QEMU and the spec differ. Returns the new LastFileOffset."""
    with open(path, "r+b") as f:
        hs, cur = read_headers(f)
        f.seek(hs[cur]["log_offset"])
        first = bytearray(f.read(SECTOR))
        length = struct.unpack_from("<I", first, 8)[0]
        f.seek(hs[cur]["log_offset"])
        entry = bytearray(f.read(length))
        last = struct.unpack_from("<Q", entry, 56)[0] + delta
        struct.pack_into("<Q", entry, 56, last)
        struct.pack_into("<I", entry, 4, 0)
        struct.pack_into("<I", entry, 4, crc32c(bytes(entry)))
        f.seek(hs[cur]["log_offset"])
        f.write(entry)
    return last


def inspect(path):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(MIB)
        if head[0:8] != b"vhdxfile":
            raise SystemExit("%s: not a VHDX file" % path)
        h, cur = read_headers(f)
        regions = parse_regions(head[192 * 1024:256 * 1024]) or \
            parse_regions(head[256 * 1024:320 * 1024])
        out = dict(file=path, file_size=size, headers=h, current=cur,
                   regions=regions, entries=[])
        if cur is None:
            return out
        hc = h[cur]
        out["state"] = "clean" if hc["log_guid_raw"] == bytes(16) else "dirty"
        if hc["log_length"] and hc["log_offset"] + hc["log_length"] <= size:
            f.seek(hc["log_offset"])
            log = f.read(hc["log_length"])
            # list every sector that starts with "loge" (valid or not)
            for s in range(0, len(log), SECTOR):
                if log[s:s + 4] == b"loge":
                    out["entries"].append(parse_entry(log, s, hc["log_guid_raw"]))
    for hh in out["headers"]:
        hh.pop("log_guid_raw", None)
    return out


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--check-our-headers":
        problems = check_our_headers(sys.argv[2], sys.argv[3], sys.argv[4])
        for p in problems:
            print(p)
        return 1 if problems else 0
    if len(sys.argv) == 4 and sys.argv[1] == "--bump-last-file-offset":
        print(bump_last_file_offset(sys.argv[2], parse_size(sys.argv[3])))
        return 0
    if len(sys.argv) >= 4 and sys.argv[1] == "--plan":
        print(plan(sys.argv[2], sys.argv[3], sys.argv[4:]))
        return 0
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    r = inspect(args[0])
    if "--json" in sys.argv:
        print(json.dumps(r, indent=1))
    else:
        print("file %s  size %d (%.2f MiB)" % (r["file"], r["file_size"], r["file_size"] / MIB))
        for i, hh in enumerate(r["headers"]):
            print("header %d%s: valid=%s seq=%d LogGuid=%s LogOffset=%d LogLength=%d "
                  "FileWriteGuid=%s" % (i + 1, " (current)" if r["current"] == i else "",
                                        hh["valid"], hh["sequence"], hh["log_guid"],
                                        hh["log_offset"], hh["log_length"],
                                        hh["file_write_guid"]))
        if r["regions"]:
            for k, v in r["regions"].items():
                print("region %s: offset=%d length=%d" % (k, v["offset"], v["length"]))
        if r["current"] is None:
            print("no current header")
            return 2
        print("log state: %s" % r["state"])
        for e in r["entries"]:
            print("entry @log+%d: valid=%s seq=%d len=%d tail=%d desc=%d "
                  "(desc sectors %s, data sectors %s) guid_matches=%s checksum_ok=%s "
                  "FlushedFileOffset=%d LastFileOffset=%d" % (
                      e["log_offset"], e.get("valid"), e["sequence"], e["entry_length"],
                      e["tail"], e["descriptor_count"], e.get("descriptor_sectors"),
                      e.get("data_sectors"), e["guid_matches"], e.get("checksum_ok"),
                      e["flushed_file_offset"], e["last_file_offset"]))
            if e["guid_matches"]:
                for k, d in enumerate(e.get("descriptors", [])):
                    print("   desc %d: %s" % (k, " ".join("%s=%s" % kv for kv in d.items())))
    return 1 if r["state"] == "dirty" else 0


if __name__ == "__main__":
    sys.exit(main())
