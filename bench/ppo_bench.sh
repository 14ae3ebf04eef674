#!/usr/bin/env bash
# PPO speed on CartPole-v1, C++ (build/bin/ppo_train, in-process, the
# defaults: CleanRL's 4 envs x 128 steps, 4 minibatches x 4 epochs, with
# reward scaling) against the independent Python PPO (bench/ppo_reference.py,
# Debian's python3-torch, one thread; CleanRL's ppo.py with its raw rewards,
# which is its faster setting), interleaved in one run so machine drift hits
# both alike. Prints each pair's env steps/s and ratio, then the median ratio.
#
# Then (DIST_ROUNDS, default 3) the distributed job against the same Python
# PPO, interleaved: replay server, learner and 2 actors as processes
# (build/bin/e2e_bench) running APPO with a throughput configuration (2
# actors x 16 envs, unrolls of 64, 4 minibatches of 512, lr 1e-3) for up to
# 1M env steps, with where its training curve reached 475.
#
#   bench/ppo_bench.sh [ROUNDS=5] [CPP_STEPS=200000] [PY_STEPS=100000]
#   DIST_ROUNDS=0 bench/ppo_bench.sh      # in-process only
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
cpp_steps=${2:-200000}
py_steps=${3:-100000}
ratios=()
for r in $(seq "$rounds"); do
  cpp=$(build/bin/ppo_train --steps="$cpp_steps" --seed="$r" --quiet |
        sed -E 's/.*\(([0-9]+) steps\/s.*/\1/')
  py=$(/usr/bin/python3 bench/ppo_reference.py --steps "$py_steps" --seed "$r" |
       sed -E 's/.*steps_per_s ([0-9]+).*/\1/')
  ratio=$(awk -v a="$cpp" -v b="$py" 'BEGIN { printf "%.2f", a / b }')
  ratios+=("$ratio")
  echo "round $r: C++ $cpp env steps/s, Python $py env steps/s, ratio $ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END {
  if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
echo "median ratio C++/Python: $median over $rounds rounds"

dist_rounds=${DIST_ROUNDS:-3}
dist_ratios=()
for r in $(seq "$dist_rounds"); do
  py=$(/usr/bin/python3 bench/ppo_reference.py --steps "$py_steps" --seed "$r" |
       sed -E 's/.*steps_per_s ([0-9]+).*/\1/')
  out=$(build/bin/e2e_bench --algorithm=appo --envs=32 --ppo_num_steps=64 --ppo_minibatches=4 \
          --ppo_lr=1e-3 --actors=2 --steps=1000000 --curve_every=16384 --ref_seeds=0 \
          --repeats=1 --seed="$r" 2>/dev/null)
  dist=$(echo "$out" | awk '$2 == "2" && $3 == "actors" { print int($4) }' | head -1)
  solved=$(echo "$out" | sed -nE 's/.*\(solved at (-?[0-9]+)\).*/\1/p' | head -1)
  ratio=$(awk -v a="$dist" -v b="$py" 'BEGIN { printf "%.2f", a / b }')
  dist_ratios+=("$ratio")
  echo "distributed round $r: APPO 2 actors $dist env steps/s (training curve at 475 by" \
       "env step $solved), Python $py env steps/s, ratio $ratio"
done
if (( dist_rounds > 0 )); then
  median=$(printf '%s\n' "${dist_ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END {
    if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
  echo "median ratio distributed/Python: $median over $dist_rounds rounds"
fi
