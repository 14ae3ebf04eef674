#!/usr/bin/env bash
# Navigation-v0 env speed at N = 32 on one core: the C++ env
# (build/bin/swarm_bench --section=env) against the numpy version of the
# same dynamics (bench/navigation_numpy.py, 256 envs batched; with and
# without building the observation), interleaved in one run so machine drift
# hits both alike. Prints each round's figures and ratios, then the medians.
#
#   bench/swarm_bench.sh [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
full=()
bare=()
for r in $(seq "$rounds"); do
  cpp=$(build/bin/swarm_bench --section=env --agents=32 --seconds=2 | tail -1 | awk '{ print $3 }')
  np_full=$(/usr/bin/python3 bench/navigation_numpy.py --agents 32 --envs 256 --seconds 2 \
              --observations 1 | awk '{ print $NF }')
  np_bare=$(/usr/bin/python3 bench/navigation_numpy.py --agents 32 --envs 256 --seconds 2 \
              --observations 0 | awk '{ print $NF }')
  rf=$(awk -v a="$cpp" -v b="$np_full" 'BEGIN { printf "%.1f", a / b }')
  rb=$(awk -v a="$cpp" -v b="$np_bare" 'BEGIN { printf "%.1f", a / b }')
  full+=("$rf")
  bare+=("$rb")
  echo "round $r: C++ $cpp agent-steps/s; numpy with observations $np_full ($rf x), dynamics only $np_bare ($rb x)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END {
  if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "median C++/numpy: $(median "${full[@]}") x (numpy with observations), $(median "${bare[@]}") x (numpy dynamics only)"
