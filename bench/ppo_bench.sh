#!/usr/bin/env bash
# PPO speed on CartPole-v1, C++ (build/bin/ppo_train, in-process, CleanRL's
# defaults: 4 envs x 128 steps, 4 minibatches x 4 epochs) against the
# independent Python PPO (bench/ppo_reference.py, Debian's python3-torch, one
# thread), interleaved in one run so machine drift hits both alike. Prints
# each pair's env steps/s and ratio, then the median ratio.
#
#   bench/ppo_bench.sh [ROUNDS=5] [CPP_STEPS=200000] [PY_STEPS=100000]
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
