#!/bin/bash -eu
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 the vhdxlog authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
#
################################################################################
# OSS-Fuzz and ClusterFuzzLite build script (upstream: projects/vhdxlog/
# build.sh, copied there out of the clone by the Dockerfile; the
# ClusterFuzzLite image runs this same file through .clusterfuzzlite/build.sh).
#
# Compiles the library, io/, the test side (oracle, testkit, fuzz/support,
# the differential replayer) with $CC $CFLAGS (OSS-Fuzz chooses sanitizer,
# coverage flags and -m32 for i386) into one archive, links each target of
# fuzz/targets.txt (the list fuzz/CMakeLists.txt reads too) with it and
# $LIB_FUZZING_ENGINE, and puts into $OUT: the binaries,
# <target>_seed_corpus.zip, <target>.dict and <target>.options. No CMake:
# OSS-Fuzz passes none of our options.
#
# Local test of every flavour (ASan, UBSan, MSan, AFL++, i386, coverage):
# fuzz/oss-fuzz/local.sh.

# The repository: $SRC/vhdxlog (as the Dockerfile clones it), or set
# VHDXLOG_SRC to build another checkout.
ROOT=${VHDXLOG_SRC:-$SRC/vhdxlog}
WORK=${WORK:-$(mktemp -d)}
BUILD=$WORK/vhdxlog-build
rm -rf "$BUILD"
mkdir -p "$BUILD" "$OUT"

# shellcheck source=fuzz/targets.sh
. "$ROOT/fuzz/targets.sh"
INC="-I$ROOT/lib/include -I$ROOT/lib -I$ROOT/io -I$ROOT/oracle -I$ROOT/testkit
-I$ROOT/fuzz/support -I$ROOT/fuzz/replay_diff"
STD="-std=c99"

objs=""
compile() { # compile SOURCE [FLAGS...]
  local src=$1 obj
  shift
  obj=$BUILD/$(echo "${src#$ROOT/}" | tr / _).o
  # shellcheck disable=SC2086
  $CC $CFLAGS $STD $INC "$@" -c "$src" -o "$obj"
  objs="$objs $obj"
}

# The code under test (lib/, io/) with OSS-Fuzz's flags; the test side
# keeps the sanitizers but loses the coverage flags (the fuzzer steers by
# the code under test; see fuzz/CMakeLists.txt), and so does lib/crc32c.c
# (fuzz/coverage_ignore.txt: no branch worth steering by).
FULL_CFLAGS=$CFLAGS
HELPER_CFLAGS=$(echo "$CFLAGS" | sed -e 's/-fsanitize=fuzzer-no-link//g' \
                                     -e 's/-fsanitize-coverage=[^ ]*//g')
for src in "$ROOT"/lib/*.c "$ROOT"/io/*.c; do
  case $src in */crc32c.c) CFLAGS=$HELPER_CFLAGS ;; *) CFLAGS=$FULL_CFLAGS ;; esac
  compile "$src"
done
CFLAGS=$HELPER_CFLAGS
for src in "$ROOT"/oracle/model_*.c "$ROOT"/testkit/vhdx_builder.c \
    "$ROOT"/testkit/repair.c "$ROOT"/testkit/mem_file.c \
    "$ROOT"/fuzz/support/fuzz_common.c \
    "$ROOT"/fuzz/support/packed.c "$ROOT"/fuzz/support/packed_mutate.c \
    "$ROOT"/fuzz/support/replay_target.c "$ROOT"/fuzz/replay_diff/*.c; do
  case $src in *_selftest.c | */diff_main.c) continue ;; esac # own main()
  compile "$src"
done
CFLAGS=$FULL_CFLAGS
# An archive: each target pulls in only what it uses.
rm -f "$BUILD/libvhdxlog_fuzz.a"
# shellcheck disable=SC2086
ar rcs "$BUILD/libvhdxlog_fuzz.a" $objs

for t in $FUZZ_ALL_TARGETS; do
  objs=""
  # The structure-aware custom mutator of the "diff" targets calls
  # LLVMFuzzerMutate, which only libFuzzer has.
  if [ "$(fuzz_kind "$t")" = diff ] && [ "${FUZZING_ENGINE:-libfuzzer}" = libfuzzer ]; then
    compile "$ROOT/fuzz/$t.c" -DRD_CUSTOM_MUTATOR
  else
    compile "$ROOT/fuzz/$t.c"
  fi
  # $CXX links: $LIB_FUZZING_ENGINE may be a C++ archive.
  # shellcheck disable=SC2086
  ${CXX:-$CC} $CFLAGS $objs "$BUILD/libvhdxlog_fuzz.a" $LIB_FUZZING_ENGINE \
    -o "$OUT/$t"

  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "$ROOT/corpus/$t" && zip -q -r -X "$OUT/${t}_seed_corpus.zip" .)
  cp "$(fuzz_dict "$ROOT")" "$OUT/$t.dict"
  # -max_len, and the time and memory targets.txt gives each target (within
  # OSS-Fuzz's defaults of 25 s and 2560 MB; stated so that a change there
  # reaches OSS-Fuzz too).
  cat > "$OUT/$t.options" <<OPTIONS
[libfuzzer]
dict = $t.dict
max_len = $(fuzz_max_len "$t")
timeout = $(fuzz_timeout "$t")
rss_limit_mb = $(fuzz_rss_limit_mb "$t")
OPTIONS
done
