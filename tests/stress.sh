#!/usr/bin/env bash
# The whole suite under load: more parallel tests than cores plus CPU burners
# (one busy loop per core), several rounds in a row; any failure fails the
# script. A test that passes only on an idle machine fails here.
#
#   tests/stress.sh [ROUNDS] [-- extra ctest args]     (default 3 rounds)
#
# Builds first (scripts/build.sh). CI keeps running the normal suite
# (scripts/test.sh); run this before a change that touches timing, threads or
# processes.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
if [[ $# -gt 0 && $1 != -- ]]; then rounds=$1; shift; fi
[[ ${1:-} == -- ]] && shift
cores=$(nproc)
jobs=$((cores * 2))
scripts/build.sh >/dev/null

burners=()
stop_burners() {
  for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_burners EXIT
for _ in $(seq "$cores"); do
  # Bounded, so a killed script never leaves one behind for long.
  timeout 7200 bash -c 'while :; do :; done' &
  burners+=($!)
done

for round in $(seq "$rounds"); do
  echo "== stress round $round/$rounds: ctest -j$jobs with $cores CPU burners"
  start=$(date +%s)
  if ! (cd build && ctest -j"$jobs" --timeout 900 --output-on-failure "$@"); then
    echo "stress: round $round failed" >&2
    exit 1
  fi
  echo "== round $round passed in $(( $(date +%s) - start )) s"
done
echo "stress: $rounds rounds passed"
