#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Arm the log of a clean VHDX with a given LogGuid, the way a writer does.

Usage: arm_log.py FILE LOG_GUID

Performs one header update (MS-VHDX 2.2.2.1): copy the current header,
SequenceNumber + 1, LogGuid = LOG_GUID (text form, e.g.
89E04FDF-B642-47C6-AAAC-2197AC950462), new CRC-32C, written over the
non-current slot, which then becomes current. The log itself is untouched,
so the entries that Windows left behind with that GUID become the log a
reader must search and replay. Independent of the vhdxlog library: the
CRC, header parsing and the choice of the current header come from
qemu/vhdx_inspect.py.
"""
import os
import struct
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "qemu"))
from vhdx_inspect import crc_zeroed, read_headers  # noqa: E402

SLOTS = (64 * 1024, 128 * 1024)
HEADER = 4096


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, guid_text = sys.argv[1], sys.argv[2]
    log_guid = uuid.UUID(guid_text).bytes_le
    with open(path, "r+b") as f:
        h, cur = read_headers(f)
        if cur is None:
            sys.exit("arm_log: no current header")
        if h[cur]["sequence"] >= (1 << 64) - 1:
            sys.exit("arm_log: SequenceNumber cannot grow")
        f.seek(SLOTS[cur])
        new = bytearray(f.read(HEADER))
        struct.pack_into("<Q", new, 8, h[cur]["sequence"] + 1)
        new[48:64] = log_guid
        struct.pack_into("<I", new, 4, crc_zeroed(new))
        f.seek(SLOTS[1 - cur])
        f.write(new)
        f.flush()
        os.fsync(f.fileno())


if __name__ == "__main__":
    main()
