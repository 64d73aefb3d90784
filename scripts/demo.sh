#!/usr/bin/env bash
# The main job on the bundled sample: a VHDX that QEMU left with a pending
# log entry (samples/README.md says how it was made). Installs what the
# build needs, builds the CLI, checks the sample, replays it into a new file
# (the sample stays untouched) and checks the result.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/install-deps.sh demo
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DVHDXLOG_BUILD_TESTS=OFF >/dev/null
cmake --build build-demo -j"$(nproc)" --target vhdxlog_cli >/dev/null
VHDXLOG=build-demo/tools/vhdxlog
SAMPLE=samples/qemu-dirty-8M.vhdx
OUT=build-demo/qemu-dirty-8M.replayed.vhdx

echo "\$ vhdxlog check $SAMPLE"
status=0; "$VHDXLOG" check "$SAMPLE" || status=$?
echo "(exit $status: 1 means a valid log must be replayed)"
[ "$status" -eq 1 ] || { echo "unexpected: the sample should need a replay"; exit 1; }
echo
echo "\$ vhdxlog dump $SAMPLE"
"$VHDXLOG" dump "$SAMPLE"
echo
rm -f "$OUT"
echo "\$ vhdxlog replay -o $OUT $SAMPLE"
"$VHDXLOG" replay -o "$OUT" "$SAMPLE"
echo
echo "\$ vhdxlog check $OUT"
"$VHDXLOG" check "$OUT"
echo "(exit 0: clean, nothing to replay)"
echo
echo "\$ vhdxlog info $OUT"
"$VHDXLOG" info "$OUT"
