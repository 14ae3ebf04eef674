#include "algorithms/spo/one_step_trainer.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "algorithms/job_spec.h"
#include "algorithms/ppo/ppo_learner.h"
#include "algorithms/preferences.h"
#include "algorithms/spo/reward_model.h"
#include "algorithms/spo/win_rate.h"
#include "core/status_macros.h"
#include "envs/vector_env.h"

namespace rlx::spo {

std::vector<double> MinimaxWinner(const std::vector<std::vector<double>>& m, int iterations) {
  // Fictitious play in the symmetric zero-sum game with payoff M - 1/2: each
  // round, the row player best-responds to the column player's empirical
  // mixture and vice versa; both empirical mixtures converge to optimal
  // strategies (Robinson 1951).
  const size_t n = m.size();
  std::vector<double> row_counts(n, 0.0), col_counts(n, 0.0);
  std::vector<double> row_payoff(n, 0.0), col_payoff(n, 0.0);  // cumulative
  size_t row = 0, col = 0;
  for (int it = 0; it < iterations; ++it) {
    row_counts[row] += 1;
    col_counts[col] += 1;
    for (size_t i = 0; i < n; ++i) {
      row_payoff[i] += m[i][col] - 0.5;   // row i against the column's last play
      col_payoff[i] += m[row][i] - 0.5;   // the row's last play against column i (row wins)
    }
    row = std::max_element(row_payoff.begin(), row_payoff.end()) - row_payoff.begin();
    col = std::min_element(col_payoff.begin(), col_payoff.end()) - col_payoff.begin();
  }
  std::vector<double> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = 0.5 * (row_counts[i] + col_counts[i]) / iterations;
  return p;
}

double TotalVariation(const std::vector<double>& p, const std::vector<double>& q) {
  double d = 0;
  for (size_t i = 0; i < p.size() && i < q.size(); ++i) d += std::abs(p[i] - q[i]);
  return 0.5 * d;
}

namespace {

std::vector<double> ActionDistribution(const ppo::PpoModel& model,
                                       const std::vector<float>& observation) {
  DenseMlpCache cache;
  absl::Span<const float> logits = model.actor().Forward(observation.data(), 1, &cache);
  std::vector<double> p(logits.begin(), logits.end());
  const double mx = *std::max_element(p.begin(), p.end());
  double z = 0;
  for (double& v : p) z += (v = std::exp(v - mx));
  for (double& v : p) v /= z;
  return p;
}

}  // namespace

absl::StatusOr<OneStepResult> RunOneStepTraining(const OneStepOptions& options) {
  ppo::PpoConfig config = options.ppo;
  const int64_t batch = ppo::RolloutSize(config);
  const int64_t updates = (options.steps + batch - 1) / batch;
  if (config.total_env_steps == 0) config.total_env_steps = updates * batch;
  ASSIGN_OR_RETURN(VectorEnv venv, VectorEnv::Create(options.env_name, config.num_envs));
  ASSIGN_OR_RETURN(ProblemSpec problem, ProblemFromEnvSpec(venv.spec()));
  if (!problem.discrete) return absl::InvalidArgumentError("one-step training needs discrete actions");
  ASSIGN_OR_RETURN(std::unique_ptr<ppo::PpoLearner> learner,
                   ppo::PpoLearner::Create(problem, config, options.seed));
  ASSIGN_OR_RETURN(std::unique_ptr<PreferenceFunction> preference,
                   MakePreferenceFunction(options.preference));
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ull + 17);
  std::mt19937_64 pref_rng(options.seed + 99);
  const Comparator compare = [&](const std::vector<const Trajectory*>& all,
                                 const std::vector<std::pair<int, int>>& pairs)
      -> absl::StatusOr<std::vector<double>> {
    std::vector<double> out;
    out.reserve(pairs.size());
    for (const auto& [a, b] : pairs) {
      out.push_back(options.preference.sample() ? preference->Vote(*all[a], *all[b], &pref_rng)
                                                : preference->Probability(*all[a], *all[b]));
    }
    return out;
  };
  RewardModel reward_model(problem.observation_dim, 1, problem.num_actions);

  const ppo::PpoModel& model = learner->model();
  const int64_t n = config.num_envs, t_len = config.num_steps;
  const int64_t dim = model.obs_dim();
  venv.Reset(options.seed);
  std::vector<float> current;
  venv.Observations(&current);
  const std::vector<float> first_observation(current.begin(), current.begin() + dim);
  ppo::ActScratch scratch;
  ppo::ActOutput act;
  std::vector<VectorStepResult> results;
  ppo::Rollout rollout;
  rollout.Resize(n, t_len, dim, 1);
  std::vector<Trajectory> group(n * t_len), queue;
  std::deque<Trajectory> recent;
  OneStepResult result;
  ppo::PpoUpdateInfo info;
  for (int64_t u = 0; u < updates; ++u) {
    for (int64_t t = 0; t < t_len; ++t) {
      model.Act(current.data(), n, /*greedy=*/false, &rng, &scratch, &act);
      RETURN_IF_ERROR(venv.Step(act.env_actions, &results));
      result.env_steps += n;
      for (int64_t e = 0; e < n; ++e) {
        const int64_t i = e * t_len + t;
        const VectorStepResult& r = results[e];
        if (!r.done()) return absl::FailedPreconditionError(
            absl::StrCat(options.env_name, " is not a one-step game"));
        std::copy_n(&current[e * dim], dim, &rollout.observations[i * dim]);
        rollout.actions[i] = act.actions[e];
        rollout.log_probs[i] = act.log_probs[e];
        rollout.values[i] = act.values[e];
        rollout.rewards[i] = static_cast<float>(r.reward);
        rollout.terminated[i] = 1;
        rollout.truncated[i] = 0;
        Trajectory& traj = group[i];
        traj.Clear();
        traj.set_length(1);
        traj.set_obs_dim(static_cast<int32_t>(dim));
        traj.set_action_dim(1);
        for (int64_t k = 0; k < dim; ++k) traj.add_observations(current[e * dim + k]);
        for (float v : r.final_observation) traj.add_observations(v);
        traj.add_actions(act.actions[e]);
        traj.add_rewards(static_cast<float>(r.reward));
        traj.set_terminated(true);
        std::copy(r.observation.begin(), r.observation.end(), &current[e * dim]);
      }
    }
    std::copy(current.begin(), current.end(), rollout.next_observations.begin());
    if (options.source == RewardSource::kSpo) {
      queue.assign(recent.begin(), recent.end());
      ASSIGN_OR_RETURN(std::vector<double> rates,
                       WinRates(group, queue, options.opponents, compare, &rng, &result.queries));
      for (size_t i = 0; i < rates.size(); ++i) rollout.rewards[i] = static_cast<float>(rates[i]);
    } else if (options.source == RewardSource::kRewardModel) {
      // The same queries SPO would ask: each trajectory against `opponents`
      // others of its rollout; the answers train the reward model.
      const int64_t g = static_cast<int64_t>(group.size());
      for (int64_t i = 0; i < g; ++i) {
        for (int k = 0; k < options.opponents; ++k) {
          int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(g - 1));
          if (j >= i) ++j;
          const double label = options.preference.sample()
                                   ? preference->Vote(group[i], group[j], &pref_rng)
                                   : preference->Probability(group[i], group[j]);
          reward_model.Add(group[i], group[j], label);
          ++result.queries;
        }
      }
      reward_model.Fit(options.reward_model_epochs);
      for (int64_t i = 0; i < g; ++i) rollout.rewards[i] = static_cast<float>(reward_model.Reward(group[i]));
    }
    for (const Trajectory& traj : group) {
      recent.push_back(traj);
      if (static_cast<int>(recent.size()) > options.queue_size) recent.pop_front();
    }
    RETURN_IF_ERROR(learner->Update(rollout, &info));
    result.distributions.push_back(ActionDistribution(model, first_observation));
  }
  result.final_distribution = result.distributions.back();
  const size_t half = result.distributions.size() / 2;
  result.average_distribution.assign(problem.num_actions, 0.0);
  for (size_t k = half; k < result.distributions.size(); ++k) {
    for (int64_t a = 0; a < problem.num_actions; ++a) {
      result.average_distribution[a] +=
          result.distributions[k][a] / (result.distributions.size() - half);
    }
  }
  return result;
}

}  // namespace rlx::spo
