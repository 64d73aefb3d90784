# SPDX-License-Identifier: MIT
"""Write a dirty VHDX whose log may be far larger than what the file holds.

The log sits at 1 MiB, LOG_MIB long, then the BAT and metadata regions (1 MiB
each), then ZERO_MIB of hole. The log holds one valid entry at offset 0
(sequence 1, tail 0): a data descriptor writing 4 KiB into the BAT region,
plus, with --zero-mib, a zero descriptor over the trailing hole. Everything
else in the log is a hole unless --dense writes it out as zero bytes.

Used by bench/io_figures.sh to measure the loader's memory and the replay's
disk use; not a general image writer (testkit/ is that, in C).
"""
import argparse
import os
import struct
import sys
import uuid

# The format's CRC-32C and region GUIDs: qemu/vhdx_inspect.py's, one home.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "qemu"))
from vhdx_inspect import BAT_GUID, META_GUID, crc32c  # noqa: E402

MIB = 1 << 20
SECTOR = 4096
BAT = BAT_GUID.bytes_le
META = META_GUID.bytes_le


def with_checksum(buf):
    struct.pack_into("<I", buf, 4, 0)
    struct.pack_into("<I", buf, 4, crc32c(bytes(buf)))
    return bytes(buf)


def header(seq, log_guid, log_mib):
    h = bytearray(SECTOR)
    h[0:4] = b"head"
    struct.pack_into("<Q", h, 8, seq)
    h[16:32] = uuid.UUID(int=1).bytes_le  # FileWriteGuid
    h[32:48] = uuid.UUID(int=2).bytes_le  # DataWriteGuid
    h[48:64] = log_guid
    struct.pack_into("<HHIQ", h, 64, 0, 1, log_mib * MIB, MIB)
    return with_checksum(h)


def region_table(log_mib):
    r = bytearray(64 * 1024)
    r[0:4] = b"regi"
    struct.pack_into("<I", r, 8, 2)
    struct.pack_into("<16sQII", r, 16, BAT, (1 + log_mib) * MIB, MIB, 1)
    struct.pack_into("<16sQII", r, 48, META, (2 + log_mib) * MIB, MIB, 1)
    return with_checksum(r)


def entry(log_guid, log_mib, zero_mib, file_size):
    descs = [(b"desc", (1 + log_mib) * MIB, 0)]
    if zero_mib:
        descs.append((b"zero", (3 + log_mib) * MIB, zero_mib * MIB))
    length = 2 * SECTOR
    e = bytearray(length)
    e[0:4] = b"loge"
    struct.pack_into("<IIQII", e, 8, length, 0, 1, len(descs), 0)
    e[32:48] = log_guid
    struct.pack_into("<QQ", e, 48, file_size, file_size)
    for k, (sig, off, zlen) in enumerate(descs):
        p = 64 + 32 * k
        e[p:p + 4] = sig
        struct.pack_into("<QQQ", e, p + 8, zlen, off, 1)
    d = SECTOR
    e[d:d + 4] = b"data"
    struct.pack_into("<I", e, d + 4, 0)
    e[d + 8:d + 4092] = bytes([0x5A]) * 4084
    struct.pack_into("<I", e, d + 4092, 1)
    return with_checksum(e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--log-mib", type=int, required=True)
    ap.add_argument("--zero-mib", type=int, default=0)
    ap.add_argument("--dense", action="store_true")
    a = ap.parse_args()
    if not 1 <= a.log_mib <= 4095:
        ap.error("--log-mib: 1..4095 (LogLength is 32 bits)")
    size = (3 + a.log_mib + a.zero_mib) * MIB
    log_guid = uuid.UUID(int=0x1234).bytes_le
    with open(a.out, "wb") as f:
        f.truncate(size)
        f.write(b"vhdxfile")
        f.seek(64 * 1024)
        f.write(header(1, log_guid, a.log_mib))
        f.seek(128 * 1024)
        f.write(header(2, log_guid, a.log_mib))
        for off in (192 * 1024, 256 * 1024):
            f.seek(off)
            f.write(region_table(a.log_mib))
        f.seek(MIB)
        e = entry(log_guid, a.log_mib, a.zero_mib, size)
        f.write(e)
        if a.dense:
            f.write(bytes(a.log_mib * MIB - len(e)))
    os.chmod(a.out, 0o644)


if __name__ == "__main__":
    main()
