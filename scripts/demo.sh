#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job on the bundled samples (samples/README.md says how QEMU made
# them): one with a pending log entry, one with an armed log (QEMU cut off
# between arming the log and writing its entry: the commonest crash state).
# Installs what the build needs, builds the CLI, checks each sample,
# repairs it into a new file (the samples stay untouched), checks the
# result, and has QEMU write a new block into the repaired armed image.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash .ci/deps.sh demo
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DVHDXLOG_BUILD_TESTS=OFF >/dev/null
cmake --build build-demo -j"$(nproc)" --target vhdxlog_cli >/dev/null
VHDXLOG=build-demo/cli/vhdxlog
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

ARMED=samples/qemu-armed-8M.vhdx
FIXED=build-demo/qemu-armed-8M.repaired.vhdx
echo
echo "\$ vhdxlog check $ARMED"
status=0; "$VHDXLOG" check "$ARMED" || status=$?
echo "(exit $status: 1 means replay has work to do, here clearing an armed log)"
[ "$status" -eq 1 ] || { echo "unexpected: the armed sample should need clearing"; exit 1; }
rm -f "$FIXED"
echo
echo "\$ vhdxlog replay -o $FIXED $ARMED"
"$VHDXLOG" replay -o "$FIXED" "$ARMED"
echo
echo "\$ vhdxlog check $FIXED"
"$VHDXLOG" check "$FIXED"
echo
# QEMU leaves an armed log armed, and then refuses every write that
# allocates a block; after our repair it writes and reads back a new one.
echo "\$ qemu-io -c 'write -P 0x5a 4M 64k' -c 'read -P 0x5a 4M 64k' $FIXED"
qemu-io -f vhdx -c 'write -P 0x5a 4M 64k' -c 'read -P 0x5a 4M 64k' "$FIXED"
echo "\$ qemu-img check $FIXED"
qemu-img check -f vhdx "$FIXED"
