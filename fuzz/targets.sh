# SPDX-License-Identifier: MIT
# fuzz/targets.txt for shell scripts (run_ci.sh, campaign.sh,
# corpus_coverage.sh, oss-fuzz/build.sh, oss-fuzz/local.sh): source it.
FUZZ_TARGETS_TXT=$(dirname "${BASH_SOURCE[0]}")/targets.txt
FUZZ_ALL_TARGETS=$(awk '!/^#/ && NF { printf "%s ", $1 }' "$FUZZ_TARGETS_TXT")

fuzz_field() { # fuzz_field TARGET COLUMN
  awk -v t="$1" -v c="$2" '!/^#/ && $1 == t { print $c }' "$FUZZ_TARGETS_TXT"
}
fuzz_kind() { fuzz_field "$1" 2; }
fuzz_max_len() { fuzz_field "$1" 3; }
fuzz_timeout() { fuzz_field "$1" 4; }
fuzz_rss_limit_mb() { fuzz_field "$1" 5; }
# The one dictionary: fuzz_dict ROOT
fuzz_dict() { echo "$1/fuzz/vhdxlog.dict"; }
