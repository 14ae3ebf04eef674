#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the main
# job: Stream AC(lambda) on CartPole-v1 across separate processes (replay server,
# learner, two actors, evaluator) started by `rlctl run`, which submits the job,
# shows live progress, prints a summary and stops the processes again.
# The evaluation curve lands in out/main/out/<job>/eval_curve.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
state=out/main
rm -rf "$state"
build/bin/rlctl run jobs/cartpole_stream_ac.textproto --state_dir="$state" --actors=2
curve=$(ls "$state"/out/*/eval_curve.csv 2>/dev/null | head -1)
if [[ -n $curve ]]; then
  echo "evaluation curve ($curve):"
  cat "$curve"
fi
