#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build fuzz/oss-fuzz/build.sh the way OSS-Fuzz's `compile` would for one
# flavour (its SRC, OUT, WORK, CC, CXX, CFLAGS, CXXFLAGS, LIB_FUZZING_ENGINE,
# SANITIZER, FUZZING_ENGINE, ARCHITECTURE), then replay each target's seed
# zip and fuzz it for a while, one target at a time, with the limits of its
# .options (a crash, leak, timeout or OOM fails). Prints one line per target
# with its exec/s.
#
#   fuzz/oss-fuzz/local.sh FLAVOUR [SECONDS]      (default 0: replay only)
#   FLAVOUR: address undefined memory afl i386 coverage
#   LAYOUT=cflite: lay $SRC out as ClusterFuzzLite's image does (a copy of
#     the checkout at $SRC/vhdxlog, .clusterfuzzlite/build.sh as
#     $SRC/build.sh) instead of OSS-Fuzz's (fuzz/oss-fuzz/build.sh).
#   BASE=DIR (default build-ossfuzz/<flavour>): SRC, OUT, WORK go under it.
#
# Needs clang 14+ with its i386 runtimes (libclang-rt-14-dev), afl++ for
# afl, and for i386 the 32-bit C/C++ libraries (gcc-multilib,
# libstdc++-12-dev-i386-cross: .ci/deps.sh fuzz). Where the kernel
# cannot run 32-bit programs, the i386 binaries run under qemu-i386, with
# LeakSanitizer off (it hangs under qemu-user).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FLAVOUR=${1:?usage: local.sh address|undefined|memory|afl|i386|coverage [SECONDS]}
SECS=${2:-0}
BASE=${BASE:-$ROOT/build-ossfuzz/$FLAVOUR}
# shellcheck source=fuzz/targets.sh
. "$ROOT/fuzz/targets.sh"

# base-builder's defaults (infra/base-images/base-builder/Dockerfile).
CFLAGS_BASE="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
SAN_address="-fsanitize=address -fsanitize-address-use-after-scope"
SAN_undefined="-fsanitize=array-bounds,bool,builtin,enum,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr -fno-sanitize-recover=array-bounds,bool,builtin,enum,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr"
SAN_memory="-fsanitize=memory -fsanitize-memory-track-origins"
COV_libfuzzer="-fsanitize=fuzzer-no-link"
COV_coverage="-fprofile-instr-generate -fcoverage-mapping -pthread -Wl,--no-as-needed -Wl,-ldl -Wl,-lm -Wno-unused-command-line-argument"

export CC=clang CXX=clang++ FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
case $FLAVOUR in
  address | undefined | memory)
    SANITIZER=$FLAVOUR
    eval "san=\$SAN_$FLAVOUR"
    CFLAGS="$CFLAGS_BASE $san $COV_libfuzzer" ;;
  i386)
    SANITIZER=address ARCHITECTURE=i386
    CFLAGS="-m32 $CFLAGS_BASE $SAN_address $COV_libfuzzer" ;;
  coverage)
    SANITIZER=coverage
    CFLAGS="$CFLAGS_BASE $COV_coverage" ;;
  afl) # compile_afl: afl-clang-fast instruments, no -fsanitize=fuzzer-no-link
    SANITIZER=address FUZZING_ENGINE=afl
    CC=afl-clang-fast CXX=afl-clang-fast++
    LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a
    CFLAGS="$CFLAGS_BASE $SAN_address"
    export AFL_QUIET=1 ;;
  *) echo "local.sh: unknown flavour $FLAVOUR" >&2; exit 2 ;;
esac
export SANITIZER CFLAGS CXXFLAGS="$CFLAGS"
export SRC=$BASE/src OUT=$BASE/out WORK=$BASE/work
rm -rf "$BASE" && mkdir -p "$SRC" "$OUT" "$WORK" || exit 1

if [ "${LAYOUT:-oss-fuzz}" = cflite ]; then
  # .clusterfuzzlite/Dockerfile: COPY . $SRC/vhdxlog, its build.sh to $SRC.
  (cd "$ROOT" && git ls-files -z | tar --null -cf - -T -) |
    (mkdir -p "$SRC/vhdxlog" && tar -xf - -C "$SRC/vhdxlog") || exit 1
  cp "$ROOT/.clusterfuzzlite/build.sh" "$SRC/build.sh"
  (cd "$SRC/vhdxlog" && bash -eu "$SRC/build.sh") >"$BASE/build.log" 2>&1
else
  ln -s "$ROOT" "$SRC/vhdxlog"
  cp "$ROOT/fuzz/oss-fuzz/build.sh" "$SRC/build.sh"
  (cd "$SRC/vhdxlog" && bash -eu "$SRC/build.sh") >"$BASE/build.log" 2>&1
fi || { echo "local.sh: $FLAVOUR build failed (see $BASE/build.log)"; tail -n 20 "$BASE/build.log"; exit 1; }

# An i386 binary that this kernel will not run goes through qemu-i386. There
# the runs happen on a tmpfs: under qemu-user a 32-bit readdir() of an ext4
# folder fails (EOVERFLOW on its 64-bit offsets) and libFuzzer would see no
# seeds. LeakSanitizer hangs under qemu-user, and with ASan's default
# quarantine the 32-bit allocator soon maps memory where ASan does not
# expect it (CHECK failed: AddrIsInMem); a small quarantine avoids that.
RUN=() QEMU_OPTS=""
RUNS=$WORK
if [ "$FLAVOUR" = i386 ] && ! "$OUT/fuzz_search" -runs=0 >/dev/null 2>&1; then
  RUN=(qemu-i386)
  QEMU_OPTS=:detect_leaks=0:quarantine_size_mb=4
  RUNS=$(mktemp -d /dev/shm/vhdxlog-i386.XXXXXX) || exit 1
  trap 'rm -rf "$RUNS"' EXIT
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:symbolize=1$QEMU_OPTS}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:silence_unsigned_overflow=1}
export MSAN_OPTIONS=${MSAN_OPTIONS:-halt_on_error=1}

opt() { sed -n "s/^$2 = //p" "$OUT/$1.options"; }
failed=0
for t in $FUZZ_ALL_TARGETS; do
  d=$RUNS/run-$t
  mkdir -p "$d/seeds" "$d/new" "$d/out"
  (cd "$d/seeds" && unzip -q "$OUT/${t}_seed_corpus.zip") || { failed=1; continue; }
  lim=(-timeout="$(opt "$t" timeout)" -rss_limit_mb="$(opt "$t" rss_limit_mb)")
  # OSS-Fuzz and ClusterFuzzLite grant no more than their defaults.
  if [ "$(opt "$t" timeout)" -gt 25 ] || [ "$(opt "$t" rss_limit_mb)" -gt 2560 ]; then
    echo "$t.options asks more than 25 s / 2560 MB"
    failed=1
  fi
  if [ "$FLAVOUR" = afl ]; then
    # AFL++: the seeds (those within AFL's 1 MiB), the dictionary, -G as
    # libFuzzer's max_len; ASan needs -m none.
    find "$d/seeds" -type f -size +1023k -delete
    # afl-fuzz insists on symbolize=0, and on MSAN_OPTIONS of its own.
    ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0 \
    MSAN_OPTIONS=exit_code=86:symbolize=0 UBSAN_OPTIONS=halt_on_error=1 \
    AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
      AFL_FAST_CAL=1 AFL_CMPLOG_ONLY_NEW=1 \
      timeout $((SECS + 120)) afl-fuzz -m none -t "$(($(opt "$t" timeout) * 1000))" \
      -V "$SECS" -G "$(opt "$t" max_len)" -x "$OUT/$t.dict" \
      -i "$d/seeds" -o "$d/out" -- "$OUT/$t" >"$d/fuzz.log" 2>&1
    rc=$?
    stats=$d/out/default/fuzzer_stats
    eps=$(sed -n 's/^execs_per_sec *: *//p' "$stats" 2>/dev/null | tail -n 1)
    runs=$(sed -n 's/^execs_done *: *//p' "$stats" 2>/dev/null | tail -n 1)
    crashes=$(sed -n 's/^saved_crashes *: *//p' "$stats" 2>/dev/null | tail -n 1)
    [ "${crashes:-0}" -eq 0 ] || rc=1
  else
    LLVM_PROFILE_FILE=$d/replay.profraw \
    "${RUN[@]}" "$OUT/$t" "${lim[@]}" -runs=0 -max_len=16777216 \
      -artifact_prefix="$d/" "$d/seeds" >"$d/replay.log" 2>&1
    rc=$?
    # The coverage build has no fuzzer instrumentation (libFuzzer would
    # find nothing to steer by): OSS-Fuzz only replays corpora through it.
    if [ "$rc" -eq 0 ] && [ "$SECS" -gt 0 ] && [ "$FLAVOUR" != coverage ]; then
      timeout $((SECS + 300)) "${RUN[@]}" "$OUT/$t" "${lim[@]}" -max_len="$(opt "$t" max_len)" \
        -dict="$OUT/$t.dict" -max_total_time="$SECS" -print_final_stats=1 \
        -artifact_prefix="$d/" "$d/new" "$d/seeds" >"$d/fuzz.log" 2>&1
      rc=$?
    fi
    # qemu-user only: 32-bit ASan's allocator CHECK (see fuzz/run_ci.sh).
    note=""
    if [ ${#RUN[@]} -gt 0 ] && grep -q 'CHECK failed: asan_.*AddrIsInMem' "$d/fuzz.log" 2>/dev/null; then
      note=" (stopped early: qemu-user vs 32-bit ASan CHECK)"
      rc=0
    fi
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$d/fuzz.log" 2>/dev/null | tail -n 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/fuzz.log" 2>/dev/null | tail -n 1)
  fi
  status="ok${note:-}"
  if [ "$rc" -ne 0 ]; then
    status="FAILED (exit $rc, logs in $d)"
    failed=1
  fi
  printf '%-10s %-26s %4ss execs %-9s exec/s %-6s %s\n' "$FLAVOUR" "$t" \
    "$SECS" "${runs:-0}" "${eps:-0}" "$status"
done
if [ "$FLAVOUR" = coverage ]; then
  # Line coverage of lib/ and io/ by the seed corpora alone, every target's
  # profile merged (what OSS-Fuzz's coverage report starts from).
  profs=() objs=()
  for t in $FUZZ_ALL_TARGETS; do
    [ -f "$RUNS/run-$t/replay.profraw" ] && profs+=("$RUNS/run-$t/replay.profraw")
    objs+=(-object "$OUT/$t")
  done
  llvm-profdata merge -sparse "${profs[@]}" -o "$WORK/merged.profdata" &&
    llvm-cov report "${objs[@]:1}" -instr-profile="$WORK/merged.profdata" \
      "$SRC/vhdxlog/lib" "$SRC/vhdxlog/io" | tail -n 1 | sed 's/^/coverage of lib\/ and io\/ (regions, functions, lines, branches): /' ||
    failed=1
fi
exit $failed
