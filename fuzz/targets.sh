# Per-target fuzzing settings, sourced by fuzz/run_ci.sh, fuzz/campaign.sh
# and fuzz/oss-fuzz/build.sh so that the three agree.

FUZZ_ALL_TARGETS="fuzz_entry fuzz_search fuzz_log_repaired fuzz_image \
fuzz_replay_diff fuzz_replay_diff_repaired"

# Largest input libFuzzer mutates: a 64 KiB log (16 sectors: room for wrap,
# many entries and multi-sector descriptor lists), a packed image with 64 KiB
# of its log, or the differential targets' images. Bigger inputs cost far
# more per execution under ASan (a fresh mmap for every copy) without
# reaching new code; longer seeds are cut to this when fuzzed.
fuzz_max_len() {
  case $1 in
    fuzz_image) echo 75806 ;;
    fuzz_replay_diff) echo 4194304 ;;
    fuzz_replay_diff_repaired) echo 1200000 ;;
    *) echo 65600 ;;
  esac
}

# The differential targets replay every crash point of whole images: slower
# per input, and more memory.
fuzz_timeout() {
  case $1 in
    fuzz_replay_diff*) echo 60 ;;
    *) echo 10 ;;
  esac
}
fuzz_rss_limit_mb() {
  case $1 in
    fuzz_replay_diff*) echo 4096 ;;
    *) echo 2048 ;;
  esac
}

# Source folder of a target (also where its build tree puts the binary).
fuzz_subdir() {
  case $1 in
    fuzz_replay_diff*) echo fuzz/replay_diff ;;
    *) echo fuzz ;;
  esac
}

# Its dictionary (the differential targets share one).
fuzz_dict() { # fuzz_dict ROOT TARGET
  case $2 in
    fuzz_replay_diff*) echo "$1/fuzz/replay_diff/fuzz_replay_diff.dict" ;;
    *) echo "$1/fuzz/$2.dict" ;;
  esac
}
