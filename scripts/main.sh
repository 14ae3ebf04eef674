#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the main job.
#
# Until the distributed actor/learner/evaluator processes land (see docs/status.md),
# the main job is: the replay server's throughput benchmark (client and server in
# separate processes over gRPC) and an in-process Stream AC(lambda) training run on
# CartPole-v1 with its learning curve written to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
mkdir -p out
echo "== replay server throughput (separate processes, loopback gRPC) =="
build/bin/replay_bench --seconds=0.3 --shapes=64b,cartpole,100k --batches=256 --streams=1
if [[ -x build/bin/stream_train ]]; then
  echo "== Stream AC(lambda) on CartPole-v1, in-process =="
  build/bin/stream_train --env=CartPole-v1 --algorithm=stream_ac --steps=40000 --seed=1 \
    --csv=out/cartpole_stream_ac.csv --eval_every=20000 --eval_episodes=5
  echo "learning curve: out/cartpole_stream_ac.csv"
fi
