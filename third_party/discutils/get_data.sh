#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# get_data.sh: copy the six gzipped Windows-written VHDX images and the
# licence out of a local git copy of DiscUtils into a data folder for
# test_windows_logs.sh, then verify them against SHA256SUMS.
#
# Usage: get_data.sh GIT_DIR OUT_DIR
#   GIT_DIR: a DiscUtils clone or bare mirror that has commit $commit
#            (on GitHub it is the head of pull request 279, not on a branch).
set -euo pipefail
commit=0157f4111b0f01e5c7fe3ea3ab560437ebc9a070
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# = 2 ] || { sed -n '3,9p' "$0" >&2; exit 2; }
git_dir=$1 out=$2
mkdir -p "$out"
for p in Btrfs/Data/btrfs Lvm/Data/lvm2 Swap/Data/swap \
         Vhdx/Data/vhdx-log-replay Xfs/Data/xfs Xfs/Data/xfs5; do
  git --git-dir="$git_dir" show "$commit:Tests/LibraryTests/$p.vhdx.gz" \
    >"$out/$(basename "$p").vhdx.gz"
done
git --git-dir="$git_dir" show "$commit:LICENSE.txt" >"$out/LICENSE.txt"
cp "$here/SHA256SUMS" "$out/SHA256SUMS"
(cd "$out" && sha256sum -c --quiet SHA256SUMS)
echo "get_data: $out holds the images of DiscUtils commit $commit"
