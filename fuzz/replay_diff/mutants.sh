#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Mutation test of the differential replayer: does fuzzing the two diff
# targets find a library that breaks one rule on purpose, and how fast?
#   fuzz/replay_diff/mutants.sh [MUTANT...]   default: every mutant below
# Environment: SECONDS_PER_RUN (60), FUZZ_SEED (1), WORK (a new temp dir;
# kept, with one libFuzzer log per run under WORK/logs), CC (clang),
# MAX_LEN (targets.txt's max_len; libFuzzer cuts longer seeds to it).
# The tree (tracked and untracked files) is copied to WORK once and built
# twice with libFuzzer, ASan and UBSan (the fuzz build's flags): as CMake
# sets it up, and with RD_CUSTOM_MUTATOR undefined (the repaired target
# without the structure-aware mutator). Per mutant: pristine lib/ files,
# the mutant's edits (each must change exactly one line, or the script
# stops), both builds remade, then one fuzzer at a time, each on a fresh
# copy of its seeds, with a fixed -seed, for at most SECONDS_PER_RUN s:
#   rep full     fuzz_replay_diff_repaired, corpus/ of that target
#   whole full   fuzz_replay_diff, its corpus/
#   rep plain    repaired, no custom mutator, the PLAIN seeds below
#   whole plain  fuzz_replay_diff, the PLAIN seeds
#   rep plain+cm repaired with the custom mutator, the PLAIN seeds
# A cell is the wall time to the first finding (from the fuzzer's start),
# "seed" first if it came while the seeds were loading (before libFuzzer's
# INITED line), "-" if none, rcN for a run that failed otherwise. The
# control (no edit) must stay clean in every column, or the script fails.
# Slow (about 30 minutes); a tool for engineers, not part of CI.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${SECONDS_PER_RUN:-60}
SEED=${FUZZ_SEED:-1}
WORK=${WORK:-$(mktemp -d /tmp/vhdxlog-mutants.XXXXXX)}
# shellcheck source=fuzz/targets.sh
. "$ROOT/fuzz/targets.sh"
# Simple valid images (gen_corpus outputs, and QEMU's dirty sample's log).
PLAIN="seed-gen-clean seed-gen-one-entry seed-gen-multi-entry
       seed-gen-wrapped-run seed-sample-qemu-dirty-8M-log-only"
ALL="control tail data-signature descriptor-sequence ranking
     file-write-guid header-1 last-file-offset"

die() { echo "mutants.sh: $*" >&2; exit 1; }
# edit FILE SED-EXPRESSION: must change exactly one line of FILE.
edit() {
  local f=$WORK/src/$1 n
  sed -e "$2" "$f" >"$f.new"
  n=$(diff "$f" "$f.new" | grep -c '^>' || true)
  [ "$n" = 1 ] || die "$MUTANT: '$2' changes $n lines of $1, not 1"
  mv "$f.new" "$f"
  case " $TOUCHED " in *" $1 "*) ;; *) TOUCHED="$TOUCHED $1" ;; esac
}

# Each rule is broken in every place the library checks it (a fast path
# and its exact slow path both), so no second check hides the mutant.
apply() {
  case $1 in
  control) ;;
  tail) # the sequence starts at its run's first entry, whatever Tail says
    edit lib/search.c 's/^\( *\)r\.head\.tail) {$/\1r.head.tail || 1) {/' ;;
  data-signature) # a data sector needs no "data" signature
    edit lib/entry.c 's/if (!has_signature(p, "data"))/if (0 \&\& !has_signature(p, "data"))/' ;;
  descriptor-sequence) # a descriptor's SequenceNumber is never compared
    edit lib/entry.c 's/|= \(load_le64(d + DESCRIPTOR_SEQUENCE_NUMBER) ^ seq\);/|= (\1) \& 0;/'
    for f in lib/entry.c lib/iter.c lib/plan.c; do
      edit $f 's/if (st == VHDXLOG_OK && descriptor_sequence(/if (0 \&\& st == VHDXLOG_OK \&\& descriptor_sequence(/'
    done
    edit lib/plan.c 's/ descriptor_sequence(d) == seq && / (descriptor_sequence(d) == seq || 1) \&\& /' ;;
  ranking) # of two complete runs with equal heads, the later one wins
    edit lib/search.c 's/r\.head\.sequence_number > best\.head_sequence_number/r.head.sequence_number >= best.head_sequence_number/' ;;
  file-write-guid) # replay step 1 (the new FileWriteGuid) not written
    edit lib/replay.c 's/st = write_header(io, o, buffer, result, error);/st = VHDXLOG_OK;/' ;;
  header-1) # every header write lands in slot 1
    edit lib/replay.c 's/do_write(io, header_slot_offset(slot),/do_write(io, header_slot_offset(slot | 1),/' ;;
  last-file-offset) # the file does not grow to LastFileOffset
    edit lib/plan.h 's/return last_file_offset > size ?/return last_file_offset > size \&\& 0 ?/' ;;
  *) die "unknown mutant $1" ;;
  esac
}

build() { # build DIR EXTRA-CFLAGS
  if [ ! -f "$WORK/$1/CMakeCache.txt" ]; then
    cmake -S "$WORK/src" -B "$WORK/$1" -DCMAKE_C_COMPILER="${CC:-clang}" \
      -DVHDXLOG_FUZZ_ENGINE=libfuzzer -DVHDXLOG_BUILD_TESTS=OFF \
      -DVHDXLOG_BUILD_TOOLS=OFF -DCMAKE_C_FLAGS="$2" >/dev/null
  fi
  cmake --build "$WORK/$1" -j2 --target fuzz_replay_diff \
    fuzz_replay_diff_repaired >"$WORK/logs/build-$1.log" 2>&1 ||
    die "$MUTANT: build $1 failed, see $WORK/logs/build-$1.log"
}

run() { # run BUILD TARGET SEEDS COLUMN: prints the cell
  local t=$2 dir=$WORK/run log=$WORK/logs/$MUTANT-$4.log t0 rc=0
  rm -rf "$dir" && mkdir -p "$dir/artifacts" && cp -r "$3" "$dir/corpus"
  t0=$EPOCHREALTIME
  timeout -s KILL $((SECS + 120)) "$WORK/$1/fuzz/$t" -seed="$SEED" \
    -max_total_time="$SECS" -max_len="${MAX_LEN:-$(fuzz_max_len "$t")}" \
    -timeout="$(fuzz_timeout "$t")" -rss_limit_mb="$(fuzz_rss_limit_mb "$t")" \
    -dict="$(fuzz_dict "$WORK/src")" -artifact_prefix="$dir/artifacts/" \
    "$dir/corpus" >"$log" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then
    echo "-"
  elif [ -z "$(find "$dir/artifacts" -name 'crash-*')" ]; then
    echo "rc$rc" # a timeout, an OOM or a broken run: not a difference
  else
    grep -q 'INITED' "$log" || printf 'seed '
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs\n", b - a }'
  fi
}

mkdir -p "$WORK/src" "$WORK/logs" "$WORK/seeds/plain"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
  tar --null -T - -cf -) | tar -xf - -C "$WORK/src"
for s in $PLAIN; do cp "$ROOT/corpus/fuzz_replay_diff_repaired/$s" "$WORK/seeds/plain/"; done
echo "work: $WORK; ${SECS}s per run, -seed=$SEED, max_len ${MAX_LEN:-targets.txt}; load: $(cut -d' ' -f1-3 /proc/loadavg)"
TOUCHED=""
TABLE=$(printf '%-20s %-11s %-11s %-11s %-11s %s' mutant "rep full" \
  "whole full" "rep plain" "whole plain" "rep plain+cm")
# shellcheck disable=SC2086 # the list splits into names
[ $# -gt 0 ] || set -- $ALL
for MUTANT in "$@"; do
  for f in $TOUCHED; do cp "$ROOT/$f" "$WORK/src/$f"; done
  TOUCHED=""
  apply "$MUTANT"
  for f in $TOUCHED; do diff -u "$ROOT/$f" "$WORK/src/$f"; done >"$WORK/logs/$MUTANT.diff" || true
  build cm ""
  build nocm -URD_CUSTOM_MUTATOR
  for b in cm nocm; do # the custom mutator is in the one build only
    n=$("$WORK/$b/fuzz/fuzz_replay_diff_repaired" -runs=0 /dev/null 2>&1 |
      grep -c 'found LLVMFuzzerCustomMutator' || true)
    [ "$b$n" = cm1 ] || [ "$b$n" = nocm0 ] || die "$b build: custom mutator $n"
  done
  c=$WORK/src/corpus p=$WORK/seeds/plain
  row=("$(run cm fuzz_replay_diff_repaired "$c/fuzz_replay_diff_repaired" rep-full)"
    "$(run cm fuzz_replay_diff "$c/fuzz_replay_diff" whole-full)"
    "$(run nocm fuzz_replay_diff_repaired "$p" rep-plain)"
    "$(run nocm fuzz_replay_diff "$p" whole-plain)"
    "$(run cm fuzz_replay_diff_repaired "$p" rep-plain-cm)")
  line=$(printf '%-20s %-11s %-11s %-11s %-11s %s' "$MUTANT" "${row[@]}")
  echo "$line (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  TABLE="$TABLE"$'\n'"$line"
  if [ "$MUTANT" = control ] && [ "${row[*]}" != "- - - - -" ]; then
    die "the control is not clean: ${row[*]} (logs in $WORK/logs)"
  fi
done
echo "$TABLE"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
