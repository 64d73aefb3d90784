# SPDX-License-Identifier: MIT
# Per-target fuzzing settings, sourced by fuzz/run_ci.sh, fuzz/campaign.sh,
# fuzz/oss-fuzz/build.sh (the OSS-Fuzz / ClusterFuzzLite .options) and
# fuzz/oss-fuzz/local.sh so that they agree. The one list of targets.

FUZZ_ALL_TARGETS="fuzz_entry fuzz_search fuzz_log_repaired fuzz_image \
fuzz_replay_diff fuzz_replay_diff_repaired fuzz_load"

# Largest input libFuzzer mutates: a 64 KiB log (16 sectors: room for wrap,
# many entries and multi-sector descriptor lists), or a packed image with
# 64 KiB of its log after the target's prefix (fuzz_image: 20 bytes, the
# differential targets: 4). Bigger inputs cost far more per execution under
# ASan (libFuzzer copies each input into a fresh block, a fresh mmap above
# 128 KiB) without reaching new code; longer seeds are cut to this when
# fuzzed (the corpus replay reads them whole).
fuzz_max_len() {
  case $1 in
    fuzz_image) echo 75806 ;;
    fuzz_replay_diff* | fuzz_load) echo 75790 ;;
    *) echo 65600 ;;
  esac
}

# Per-input time and memory limits: OSS-Fuzz's defaults (25 s, 2560 MB) are
# the ceiling, since OSS-Fuzz and ClusterFuzzLite apply those whatever we
# ask. The differential targets replay whole images (crash points, re-runs)
# and need the most: their seed corpora replay at <= 152 MB RSS and every
# seed in under 10 s even on a loaded 2-core VM (ASan, OSS-Fuzz flags).
fuzz_timeout() {
  case $1 in
    fuzz_replay_diff* | fuzz_load) echo 25 ;;
    *) echo 10 ;;
  esac
}
fuzz_rss_limit_mb() {
  case $1 in
    fuzz_replay_diff* | fuzz_load) echo 2560 ;;
    *) echo 2048 ;;
  esac
}

# Source folder of a target (also where its build tree puts the binary).
fuzz_subdir() {
  case $1 in
    fuzz_replay_diff* | fuzz_load) echo fuzz/replay_diff ;;
    *) echo fuzz ;;
  esac
}

# Its dictionary (the differential targets share one).
fuzz_dict() { # fuzz_dict ROOT TARGET
  case $2 in
    fuzz_replay_diff* | fuzz_load) echo "$1/fuzz/replay_diff/fuzz_replay_diff.dict" ;;
    *) echo "$1/fuzz/$2.dict" ;;
  esac
}
