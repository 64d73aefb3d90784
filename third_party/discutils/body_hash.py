#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Print a sha256 of a VHDX's contents without its two header slots.

Usage: body_hash.py [--with-headers] FILE

Every replay rewrites the headers (64 KiB .. 192 KiB) with its own
SequenceNumber and FileWriteGuid, so they are left out unless asked for.
The digest covers the file size, then each 64 KiB chunk that holds a
non-zero byte, as its offset (8 bytes, little-endian) followed by its
bytes. Zero chunks contribute nothing, which makes the digest independent
of which ranges the file system stores as holes and lets the scan skip
holes (SEEK_DATA): the large images here are mostly holes.
"""
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "qemu"))
from vhdx_inspect import data_extents  # noqa: E402

CHUNK = 64 * 1024
HEADERS = (64 * 1024, 192 * 1024)
ZERO = bytes(CHUNK)


def main():
    args = sys.argv[1:]
    headers = "--with-headers" in args
    args = [a for a in args if a != "--with-headers"]
    if len(args) != 1:
        sys.exit(__doc__)
    h = hashlib.sha256()
    fd = os.open(args[0], os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        h.update(struct.pack("<Q", size))
        done = 0  # chunks below `done` are already hashed
        for start, end in data_extents(fd, size):
            off = max(start - start % CHUNK, done)
            while off < end:
                buf = os.pread(fd, CHUNK, off)
                if not buf:
                    break
                skip = not headers and HEADERS[0] <= off < HEADERS[1]
                if not skip and buf != ZERO[:len(buf)]:
                    h.update(struct.pack("<Q", off))
                    h.update(buf)
                off += CHUNK
            done = max(done, off)
    finally:
        os.close(fd)
    print(h.hexdigest())


if __name__ == "__main__":
    main()
