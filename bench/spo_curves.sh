#!/usr/bin/env bash
# SPO's learning curves for docs/benchmarks.md ("SPO"): spo_bench runs SPO,
# the MLP reward model and PPO on the true reward, 5 seeds each, writes one
# CSV per run (--csv_prefix), and bench/plot_curves.py draws the mean of the
# seeds with a band from the lowest to the highest, against env steps and
# against preference queries:
#   CartPole-v1, 300k env steps: markovian, noisy (temperature 30, entropy
#   bonus 0 for both preference learners), non-markovian (threshold 25,
#   time feature x20): the true return, and for non-markovian the share of
#   episodes within the constraint;
#   Pendulum-v1, 1M env steps, non-markovian (threshold -100, SPO's win rate
#   spread over the steps): the head return (first three quarters) and the
#   share within the constraint.
# About 15 minutes on one core (the runs are sequential).
#
#   bench/spo_curves.sh [CSV_DIR=/tmp/spo_csv] [SVG_DIR=docs/img]
#   PLOT_ONLY=1 bench/spo_curves.sh CSV_DIR    # redraw from the CSVs there
set -euo pipefail
cd "$(dirname "$0")/.."
csv=${1:-/tmp/spo_csv}
out=${2:-docs/img}
mkdir -p "$csv" "$out"
rm_flags="--rm_hidden=64,64 --rm_epochs=8 --rm_minibatch=16"
if [[ -z "${PLOT_ONLY:-}" ]]; then
rm -f "$csv"/*.csv
cartpole="build/bin/spo_bench --experiment=episodic --steps=300000 --temperature=30 \
  --spo_gae_lambda=1 --seeds=5 --greedy_episodes=10 $rm_flags --csv_prefix=$csv/cartpole_"
$cartpole --functions=markovian
$cartpole --functions=noisy --episodic_ent_coef=0
$cartpole --functions=non_markovian --time_feature_scale=20
build/bin/spo_bench --experiment=episodic --env=Pendulum-v1 --continuous_defaults \
  --steps=1000000 --seeds=5 --threshold=-100 --threshold_return=-200 --greedy_episodes=10 \
  --functions=non_markovian --spread $rm_flags --csv_prefix="$csv/pendulum_"
fi

plot() {  # plot OUT TITLE Y LEARNERS PREFIX [plot_curves flags...]
  local name=$1 title=$2 y=$3 learners=$4 prefix=$5
  shift 5
  local files=() labels=()
  for l in ${learners//,/ }; do
    for s in 1 2 3 4 5; do
      files+=("$csv/${prefix}_${l}_${s}.csv")
      case $l in spo) labels+=(SPO) ;; reward_model) labels+=("reward model") ;;
                 ppo_true) labels+=("PPO on the true reward") ;; esac
    done
  done
  local joined
  joined=$(IFS=,; echo "${labels[*]}")
  /usr/bin/python3 bench/plot_curves.py --mean_by_label --labels "$joined" --y "$y" \
    --title "$title" --out "$out/$name.svg" "$@" "${files[@]}"
}
all=spo,reward_model,ppo_true
pref=spo,reward_model
for f in markovian noisy non_markovian; do
  plot "spo_cartpole_$f" "CartPole-v1, $f preferences: true return" return $all "cartpole_$f" --target 475
  plot "spo_cartpole_${f}_queries" "CartPole-v1, $f preferences: true return" return $pref \
    "cartpole_$f" --x queries --x_label "preference queries"
done
plot spo_cartpole_non_markovian_within "CartPole-v1, non-markovian: share within the constraint" \
  within $all cartpole_non_markovian --target 0.8
plot spo_pendulum_non_markovian_head "Pendulum-v1, non-markovian: return of the first 3/4" \
  head $all pendulum_non_markovian
plot spo_pendulum_non_markovian_within "Pendulum-v1, non-markovian: share within the constraint" \
  within $all pendulum_non_markovian --target 0.8
plot spo_pendulum_non_markovian_queries "Pendulum-v1, non-markovian: return of the first 3/4" \
  head $pref pendulum_non_markovian --x queries --x_label "preference queries"
echo "wrote $out/spo_*.svg"
