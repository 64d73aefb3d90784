#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes lib/crc32c_table.h: the slicing-by-8 tables of CRC-32C (reflected
polynomial 0x82F63B78), from the bitwise definition.

    scripts/gen_crc32c_table.py > lib/crc32c_table.h     # regenerate
    scripts/gen_crc32c_table.py --check lib/crc32c_table.h  # CI: unchanged?
"""
import sys

POLY = 0x82F63B78


def tables():
    t0 = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (POLY if c & 1 else 0)
        t0.append(c)
    out = [t0]
    for _ in range(7):
        prev = out[-1]
        out.append([(prev[i] >> 8) ^ t0[prev[i] & 0xFF] for i in range(256)])
    return out


def shift_tables(t0, nbytes=8192):
    """t[k][b]: the raw register (b << 8k) fed nbytes zero bytes."""
    def feed(reg):
        for _ in range(nbytes):
            reg = (reg >> 8) ^ t0[reg & 0xFF]
        return reg
    basis = [feed(1 << i) for i in range(32)]  # the operator is linear

    def apply(reg):
        out = 0
        for i in range(32):
            if reg >> i & 1:
                out ^= basis[i]
        return out
    return [[apply(b << (8 * k)) for b in range(256)] for k in range(4)]


def table_lines(t):
    lines = ["    {"]
    for k in range(0, 256, 5):
        lines.append("        " + ", ".join("0x%08Xu" % v for v in t[k:k + 5]) + ",")
    lines.append("    },")
    return lines


def render():
    lines = [
        "/* SPDX-License-Identifier: MIT */",
        "/* CRC-32C slicing-by-8 tables (reflected polynomial 0x82F63B78).",
        " * Written by scripts/gen_crc32c_table.py (CI checks it is current);",
        " * unit/test_crc32c checks every entry against the bitwise definition. */",
        "#ifndef VHDXLOG_CRC32C_TABLE_H",
        "#define VHDXLOG_CRC32C_TABLE_H",
        "#include <stdint.h>",
        "/* clang-format off */",
        "static const uint32_t crc32c_table[8][256] = {",
    ]
    slices = tables()
    for t in slices:
        lines += table_lines(t)
    lines.append("};")
    for n in (8192, 256):
        lines += [
            "/* Multiply a raw register by x^(8*%d) mod P: feeds it %d zero bytes, to" % (n, n),
            " * join interleaved streams (crc32c.c). t[k][b] = (b << 8k) * x^(8*%d). */" % n,
            "static const uint32_t crc32c_shift_%d[4][256] = {" % n,
        ]
        for t in shift_tables(slices[0], n):
            lines += table_lines(t)
        lines.append("};")
    lines += ["/* clang-format on */", "#endif"]
    return "\n".join(lines) + "\n"


def main(argv):
    text = render()
    if len(argv) == 3 and argv[1] == "--check":
        with open(argv[2]) as f:
            if f.read() != text:
                print("%s is not what %s writes" % (argv[2], argv[0]))
                return 1
        print("%s is current" % argv[2])
        return 0
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
