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
# Compiles the library, the reference model and the targets with $CC $CFLAGS
# (OSS-Fuzz chooses sanitizer, coverage flags and -m32 for i386), links each
# target with $LIB_FUZZING_ENGINE, and puts into $OUT: the binaries,
# <target>_seed_corpus.zip, <target>.dict and <target>.options. No CMake:
# OSS-Fuzz passes none of our options. The targets are fuzz/targets.sh's.
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
TARGETS="" DIFF_TARGETS=""
for t in $FUZZ_ALL_TARGETS; do
  case $t in
    fuzz_replay_diff* | fuzz_load) DIFF_TARGETS="$DIFF_TARGETS $t" ;;
    *) TARGETS="$TARGETS $t" ;;
  esac
done
STD="-std=c99"

objs=""
compile() { # compile SOURCE INCLUDE-FLAGS...
  local src=$1 obj
  shift
  obj=$BUILD/$(echo "${src#$ROOT/}" | tr / _).o
  $CC $CFLAGS $STD "$@" -c "$src" -o "$obj"
  objs="$objs $obj"
}

# The reference model and the targets' helpers keep the sanitizers but
# lose the coverage flags (the fuzzer steers by the library and io/; see
# fuzz/CMakeLists.txt), and so does lib/crc32c.c (fuzz/coverage_ignore.txt:
# no branch worth steering by, and its tracing took a third of the
# differential targets' time).
FULL_CFLAGS=$CFLAGS
HELPER_CFLAGS=$(echo "$CFLAGS" | sed -e 's/-fsanitize=fuzzer-no-link//g' \
                                     -e 's/-fsanitize-coverage=[^ ]*//g')
for src in "$ROOT"/lib/*.c; do
  case $src in */crc32c.c) CFLAGS=$HELPER_CFLAGS ;; *) CFLAGS=$FULL_CFLAGS ;; esac
  compile "$src" -I"$ROOT/lib/include" -I"$ROOT/lib"
done
CFLAGS=$HELPER_CFLAGS
for src in "$ROOT"/oracle/model_*.c; do
  case $src in *_selftest.c) continue ;; esac # its own main
  compile "$src" -I"$ROOT/lib/include" -I"$ROOT/oracle"
done
compile "$ROOT/fuzz/fuzz_common.c" -I"$ROOT/lib/include"
compile "$ROOT/fuzz/replay_diff/packed.c" -I"$ROOT/fuzz/replay_diff"
CFLAGS=$FULL_CFLAGS
common=$objs

# The differential replayer's targets need the I/O layer and their own
# helpers on top; the structure-aware custom mutator calls
# LLVMFuzzerMutate, which only libFuzzer has.
diff_defs=""
if [ "${FUZZING_ENGINE:-libfuzzer}" = libfuzzer ]; then
  diff_defs="-DRD_CUSTOM_MUTATOR"
fi
objs=""
for src in "$ROOT"/io/*.c; do # code under test: instrumented
  compile "$src" -I"$ROOT/lib/include" -I"$ROOT/io"
done
CFLAGS=$HELPER_CFLAGS
for src in "$ROOT"/fuzz/replay_diff/replay_diff.c \
    "$ROOT"/fuzz/replay_diff/repair.c \
    "$ROOT"/fuzz/replay_diff/fuzz_replay_diff_common.c \
    "$ROOT"/fuzz/replay_diff/packed_mutate.c \
    "$ROOT"/testkit/mem_file.c; do
  compile "$src" -I"$ROOT/lib/include" -I"$ROOT/io" -I"$ROOT/oracle" \
    -I"$ROOT/fuzz/replay_diff" -I"$ROOT/testkit"
done
CFLAGS=$FULL_CFLAGS
diff_common=$objs

for t in $TARGETS $DIFF_TARGETS; do
  objs=""
  case $t in
    fuzz_replay_diff*)
      compile "$ROOT/fuzz/replay_diff/$t.c" $diff_defs -I"$ROOT/lib/include" \
        -I"$ROOT/io" -I"$ROOT/oracle" -I"$ROOT/fuzz/replay_diff" -I"$ROOT/testkit"
      objs="$objs $diff_common" ;;
    fuzz_load)
      compile "$ROOT/fuzz/$t.c" -I"$ROOT/lib/include" -I"$ROOT/io" \
        -I"$ROOT/fuzz" -I"$ROOT/fuzz/replay_diff" -I"$ROOT/testkit"
      objs="$objs $diff_common" ;;
    *)
      compile "$ROOT/fuzz/$t.c" -I"$ROOT/lib/include" -I"$ROOT/lib" \
        -I"$ROOT/oracle" -I"$ROOT/fuzz/replay_diff" ;;
  esac
  # $CXX links: $LIB_FUZZING_ENGINE may be a C++ archive.
  ${CXX:-$CC} $CFLAGS $objs $common $LIB_FUZZING_ENGINE -o "$OUT/$t"

  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "$ROOT/corpus/$t" && zip -q -r -X "$OUT/${t}_seed_corpus.zip" .)
  cp "$(fuzz_dict "$ROOT" "$t")" "$OUT/$t.dict"
  # -max_len, and the time and memory targets.sh gives each target (within
  # OSS-Fuzz's defaults of 25 s and 2560 MB; stated so that a change to
  # targets.sh reaches OSS-Fuzz too).
  cat > "$OUT/$t.options" <<OPTIONS
[libfuzzer]
dict = $t.dict
max_len = $(fuzz_max_len "$t")
timeout = $(fuzz_timeout "$t")
rss_limit_mb = $(fuzz_rss_limit_mb "$t")
OPTIONS
done
