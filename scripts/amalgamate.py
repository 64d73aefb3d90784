#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the amalgamation: lib/ as one vhdxlog.c plus the public vhdxlog.h.

Usage: scripts/amalgamate.py OUT_DIR
(the build does it: cmake --build BUILD --target amalgamation)

Every lib/*.c, in name order, is copied whole (its leading comment
included) after a marker line naming it. Each internal header ("x.h" found
in lib/) is inlined where it is first included, so headers land in
dependency order; later includes of it are dropped. "vhdxlog.h" stays an
include (the public header ships next to vhdxlog.c) and is written once. A
system include (<x.h>) is dropped when the same include already appeared
outside any #if block; conditional ones (e.g. <nmmintrin.h>) stay in place.
A file-scope static name defined in more than one .c file would collide in
one translation unit: within each such file's section it is renamed with a
#define to <file>__<name> (and #undef'd after); the script says so on
stderr, since lib/ had better keep those names unique.
The output depends only on the tree's contents (no dates, no commit): the
same tree gives the same two files, byte for byte.
"""
import os
import re
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(ROOT, "lib")
PUBLIC = os.path.join(LIB, "include", "vhdxlog.h")

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
COND_OPEN = re.compile(r"^\s*#\s*if(n?def)?\b")
COND_CLOSE = re.compile(r"^\s*#\s*endif\b")
GUARD = re.compile(r"^\s*#\s*ifndef\s+(\w+)\s*$")
DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s*$")
# A file-scope static function or object, as clang-format lays them out:
# "static" at column 0, the name before its "(", "[", "=" or ";".
STATIC = re.compile(r"^static\b[^;={(]*?\b([A-Za-z_]\w*)\s*[(\[=;]")


def file_statics(path):
    return {m.group(1) for m in map(STATIC.match, read(path)) if m}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def guard_line(lines):
    """Index of an include guard's #ifndef (followed by its #define), or -1."""
    for i, line in enumerate(lines):
        if COND_OPEN.match(line):
            m = GUARD.match(line)
            if m and i + 1 < len(lines):
                d = DEFINE.match(lines[i + 1])
                if d and d.group(1) == m.group(1):
                    return i
            return -1
    return -1


class Amalgamator:
    def __init__(self):
        self.inlined = set()  # internal headers already written
        self.system = set()  # system includes written outside any #if
        self.public_written = False
        self.out = []

    def copy(self, path, rel):
        lines = read(path)
        guard = guard_line(lines) if path.endswith(".h") else -1
        depth = 0
        for i, line in enumerate(lines):
            if COND_OPEN.match(line):
                if i != guard:
                    depth += 1
            elif COND_CLOSE.match(line) and depth > 0:
                depth -= 1
            m = INCLUDE.match(line)
            if not m:
                self.out.append(line)
                continue
            kind, name = m.groups()
            if kind == "<":
                if name in self.system:
                    continue
                if depth == 0:
                    self.system.add(name)
                self.out.append(line)
            elif name == "vhdxlog.h":
                if not self.public_written:
                    self.public_written = True
                    self.out.append('#include "vhdxlog.h"')
            else:
                header = os.path.join(os.path.dirname(path), name)
                if not os.path.isfile(header):
                    sys.exit("amalgamate: %s includes missing %s" % (rel, name))
                key = os.path.normpath(header)
                if key in self.inlined:
                    continue
                self.inlined.add(key)
                hrel = os.path.relpath(header, ROOT)
                self.out.append("/* ---- %s (included from %s) ---- */" % (hrel, rel))
                self.copy(header, hrel)
                self.out.append("/* ---- end of %s ---- */" % hrel)


def version():
    for line in read(PUBLIC):
        m = re.match(r'#define VHDXLOG_VERSION_STRING "([^"]+)"', line)
        if m:
            return m.group(1)
    sys.exit("amalgamate: no VHDXLOG_VERSION_STRING in " + PUBLIC)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: amalgamate.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    ver = version()
    sources = sorted(f for f in os.listdir(LIB) if f.endswith(".c"))
    statics = {name: file_statics(os.path.join(LIB, name)) for name in sources}
    seen = {}
    for name in sources:
        for ident in statics[name]:
            seen.setdefault(ident, []).append(name)
    clashes = {i: files for i, files in seen.items() if len(files) > 1}
    for ident in sorted(clashes):
        sys.stderr.write("amalgamate: static %s defined in %s: renamed per file\n"
                         % (ident, ", ".join("lib/" + f for f in clashes[ident])))
    a = Amalgamator()
    for name in sources:
        stem = name[:-2]
        renamed = sorted(i for i in clashes if name in clashes[i])
        a.out.append("")
        a.out.append("/* ==== lib/%s ==== */" % name)
        for ident in renamed:
            a.out.append("#define %s %s__%s" % (ident, stem, ident))
        a.copy(os.path.join(LIB, name), "lib/" + name)
        for ident in renamed:
            a.out.append("#undef %s" % ident)
    banner = [
        "/* SPDX-License-Identifier: MIT */",
        "/*",
        " * vhdxlog %s amalgamation: the library (every lib/ .c file and the internal" % ver,
        " * headers) in one C99 file. Generated by scripts/amalgamate.py; do not",
        " * edit: change lib/ and regenerate. Build: cc -std=c99 -c vhdxlog.c,",
        " * with vhdxlog.h next to it. Files:",
    ] + [" * " + l for l in textwrap.wrap(", ".join(sources) + ".", 72)] + [
        " */",
        "/* One file: the functions lib/ files share are static here, so the",
        " * library exports exactly what vhdxlog.h declares (lib/linkage.h). */",
        "#define VHDXLOG_INTERNAL static",
    ]
    with open(os.path.join(out_dir, "vhdxlog.c"), "w", encoding="utf-8") as f:
        f.write("\n".join(banner + a.out) + "\n")
    header = [
        "/* SPDX-License-Identifier: MIT */",
        "/* vhdxlog %s public header (copy of lib/include/vhdxlog.h, written by" % ver,
        " * scripts/amalgamate.py next to the amalgamated vhdxlog.c). */",
    ] + read(PUBLIC)
    with open(os.path.join(out_dir, "vhdxlog.h"), "w", encoding="utf-8") as f:
        f.write("\n".join(header) + "\n")


if __name__ == "__main__":
    main()
