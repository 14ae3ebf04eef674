#!/usr/bin/env bash
# The chaos test's long form: kill -9 of every process of an `rlctl up`
# topology, KILLS times each, during a job, once per seed (tests/chaos/,
# docs/testing.md "Chaos"). CTest's `chaos` label runs the short form (one
# kill each, seed 1) in CI.
#   scripts/chaos.sh [SEED...]        default seeds 1 2 3; RLX_CHAOS_KILLS=2
# Needs a build (scripts/build.sh). Exit status: 0 when every seed passed.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("$@")
((${#seeds[@]})) || seeds=(1 2 3)
export RLX_CHAOS_KILLS=${RLX_CHAOS_KILLS:-2}
export RLX_CHAOS_TIMEOUT_S=${RLX_CHAOS_TIMEOUT_S:-600}
export RLX_BIN_DIR=${RLX_BIN_DIR:-$PWD/build/bin}
[[ -x $RLX_BIN_DIR/chaos_test ]] || { echo "chaos: no $RLX_BIN_DIR/chaos_test (run scripts/build.sh)" >&2; exit 2; }
failed=0
for seed in "${seeds[@]}"; do
  echo "== chaos seed $seed ($RLX_CHAOS_KILLS kill(s) per process)"
  if ! RLX_CHAOS_SEED=$seed timeout $((RLX_CHAOS_TIMEOUT_S + 120)) "$RLX_BIN_DIR/chaos_test"; then
    echo "== chaos seed $seed FAILED"
    failed=1
  fi
done
exit $failed
