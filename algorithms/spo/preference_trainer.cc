#include "algorithms/spo/preference_trainer.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "algorithms/job_spec.h"
#include "algorithms/ppo/normalization.h"
#include "algorithms/ppo/ppo_learner.h"
#include "algorithms/preferences.h"
#include "algorithms/spo/episode_batcher.h"
#include "algorithms/spo/remote_preferences.h"
#include "algorithms/spo/reward_model.h"
#include "algorithms/spo/win_rate.h"
#include "algorithms/trajectory_codec.h"
#include "core/security.h"
#include "core/status_macros.h"
#include "envs/preference_game.h"
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

Trajectory PreferenceGameTrajectory(int action) {
  Trajectory t;
  t.set_length(1);
  t.set_obs_dim(1);
  t.set_action_dim(1);
  t.add_observations(0);
  t.add_observations(PreferenceGame::kFinalPosition[action]);
  t.add_actions(static_cast<float>(action));
  t.add_rewards(static_cast<float>(PreferenceGame::kReward[action]));
  t.set_terminated(true);
  return t;
}

std::vector<std::vector<double>> PreferenceGameMatrix(const PreferenceFunction& preference) {
  const int n = PreferenceGame::kActions;
  std::vector<std::vector<double>> m(n, std::vector<double>(n));
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      m[i][j] = preference.Probability(PreferenceGameTrajectory(i), PreferenceGameTrajectory(j));
    }
  }
  return m;
}

ShiftFixedPoint SelfPlayShiftFixedPoint(const std::vector<std::vector<double>>& m,
                                        const std::vector<int>& sample, int h) {
  const int n = static_cast<int>(m.size());
  ShiftFixedPoint out;
  if (n == 0 || sample.empty()) return out;
  const auto lo = std::min_element(sample.begin(), sample.end());
  auto shifted = [&](int s) {
    std::vector<int> v(sample.size());
    for (size_t i = 0; i < sample.size(); ++i) v[i] = std::clamp(sample[i] + s, 0, n - 1);
    return v;
  };
  auto win_rate = [&](const std::vector<int>& a, const std::vector<int>& b) {
    double w = 0;
    for (int x : a) {
      for (int y : b) w += m[x][y];
    }
    return w / (static_cast<double>(a.size()) * static_cast<double>(b.size()));
  };
  auto push = [&](int s) {
    const std::vector<int> self = shifted(s);
    return win_rate(shifted(s + h), self) - win_rate(shifted(s - h), self);
  };
  const int first = -*lo, last = n - 1 - *lo;
  out.shift = last;
  bool rising = false;
  for (int s = first; s <= last; ++s) {
    const double p = push(s);
    if (p > 0) {
      rising = true;
    } else if (rising && p < 0) {
      out.shift = s;
      break;
    }
  }
  out.outcomes = shifted(out.shift);
  return out;
}

std::vector<std::vector<double>> ConstantRewardLengthMatrix(const PreferenceFunction& preference,
                                                            int max_length) {
  std::vector<Trajectory> episodes(max_length + 1);
  for (int length = 0; length <= max_length; ++length) {
    Trajectory& t = episodes[length];
    t.set_length(length);
    t.set_obs_dim(1);
    t.set_action_dim(1);
    for (int k = 0; k <= length; ++k) t.add_observations(0);
    for (int k = 0; k < length; ++k) {
      t.add_actions(0);
      t.add_rewards(1);
    }
  }
  std::vector<std::vector<double>> m(max_length + 1, std::vector<double>(max_length + 1));
  for (int a = 0; a <= max_length; ++a) {
    for (int b = 0; b <= max_length; ++b) m[a][b] = preference.Probability(episodes[a], episodes[b]);
  }
  return m;
}

double TotalVariation(const std::vector<double>& p, const std::vector<double>& q) {
  double d = 0;
  for (size_t i = 0; i < p.size() && i < q.size(); ++i) d += std::abs(p[i] - q[i]);
  return 0.5 * d;
}

namespace {

std::vector<double> ActionDistribution(const ppo::PpoModel& model,
                                       const std::vector<float>& observation) {
  std::unique_ptr<BatchCache> cache = model.actor().NewCache();
  absl::Span<const float> logits = model.actor().Forward(observation.data(), 1, cache.get());
  std::vector<double> p(logits.begin(), logits.end());
  const double mx = *std::max_element(p.begin(), p.end());
  double z = 0;
  for (double& v : p) z += (v = std::exp(v - mx));
  for (double& v : p) v /= z;
  return p;
}

}  // namespace

absl::StatusOr<PreferenceTrainResult> RunPreferenceTraining(const PreferenceTrainOptions& options) {
  ppo::PpoConfig config = options.ppo;
  const int64_t batch = ppo::RolloutSize(config);
  const int64_t updates = (options.steps + batch - 1) / batch;
  if (config.total_env_steps == 0) config.total_env_steps = updates * batch;
  // The comparison is of what happened: a time limit ends the trajectory.
  if (options.source != RewardSource::kTrueReward) config.bootstrap_on_truncation = false;
  ASSIGN_OR_RETURN(VectorEnv venv, VectorEnv::Create(options.env_name, config.num_envs));
  ASSIGN_OR_RETURN(ProblemSpec problem, ProblemFromEnvSpec(venv.spec()));
  const int64_t env_dim = problem.observation_dim;
  // A reward that depends on the whole trajectory (its length, its last
  // quarter) is not a function of the state alone; the elapsed time makes
  // the critic's job well posed again (stream-x's time feature).
  const bool time_feature = options.time_feature && problem.time_limit > 0;
  if (time_feature) problem.observation_dim += 1;
  ASSIGN_OR_RETURN(std::unique_ptr<ppo::PpoLearner> learner,
                   ppo::PpoLearner::Create(problem, config, options.seed));
  std::unique_ptr<PreferenceFunction> preference;
  if (options.source != RewardSource::kTrueReward) {
    ASSIGN_OR_RETURN(preference, MakePreferenceFunction(options.preference));
  }
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ull + 17);
  std::mt19937_64 pref_rng(options.seed + 99);
  auto true_return = [](const Trajectory& t) {
    double g = 0;
    for (float r : t.rewards()) g += r;
    return g;
  };
  int64_t ordered = 0, against = 0;  // answers on pairs with different true returns
  auto ask = [&](const Trajectory& a, const Trajectory& b) {
    const double p = options.preference.sample() ? preference->Vote(a, b, &pref_rng)
                                                 : preference->Probability(a, b);
    const double ga = true_return(a), gb = true_return(b);
    if (ga != gb) {
      ++ordered;
      if ((ga > gb && p < 0.5) || (ga < gb && p > 0.5)) ++against;
    }
    return p;
  };
  std::unique_ptr<RemotePreferences> remote;
  if (!options.preference_address.empty() && options.source != RewardSource::kTrueReward) {
    RemotePreferenceOptions remote_options;
    remote_options.job = "preference_trainer";
    remote_options.function = options.preference;
    remote = std::make_unique<RemotePreferences>(
        MakeChannel(options.preference_address),
        remote_options);
  }
  const Comparator compare = [&](const std::vector<const Trajectory*>& all,
                                 const std::vector<std::pair<int, int>>& pairs)
      -> absl::StatusOr<std::vector<double>> {
    if (remote != nullptr) {
      ASSIGN_OR_RETURN(std::vector<double> out, remote->Compare(all, pairs));
      for (size_t q = 0; q < pairs.size(); ++q) {  // the flip statistics
        const double ga = true_return(*all[pairs[q].first]), gb = true_return(*all[pairs[q].second]);
        if (ga != gb) {
          ++ordered;
          if ((ga > gb && out[q] < 0.5) || (ga < gb && out[q] > 0.5)) ++against;
        }
      }
      return out;
    }
    std::vector<double> out;
    out.reserve(pairs.size());
    for (const auto& [a, b] : pairs) out.push_back(ask(*all[a], *all[b]));
    return out;
  };
  const int64_t width = problem.discrete ? 1 : problem.action_dim;
  RewardModel::MlpOptions mlp_options;
  mlp_options.hidden = options.reward_model_hidden;
  mlp_options.minibatch = options.reward_model_minibatch;
  mlp_options.learning_rate = options.reward_model_learning_rate;
  mlp_options.seed = options.seed + 7;
  RewardModel reward_model(env_dim, width, problem.discrete ? problem.num_actions : 0,
                           /*max_answers=*/16384, mlp_options);

  const ppo::PpoModel& model = learner->model();
  const int64_t n = config.num_envs, t_len = config.num_steps;
  const int64_t dim = model.obs_dim();
  venv.Reset(options.seed);
  // The model's input: the env's observation (and the time feature).
  auto input = [&](const std::vector<float>& raw, int elapsed, float* out) {
    std::copy(raw.begin(), raw.end(), out);
    if (time_feature) {
      out[env_dim] = ppo::TimeFeature(elapsed, problem.time_limit, options.time_feature_scale);
    }
  };
  std::vector<float> current(n * dim);
  for (int64_t e = 0; e < n; ++e) input(venv.observation(static_cast<int>(e)), 0, &current[e * dim]);
  const std::vector<float> first_observation(current.begin(), current.begin() + dim);
  ppo::ActScratch scratch;
  ppo::ActOutput act;
  std::vector<VectorStepResult> results;
  ppo::Rollout rollout;
  rollout.Resize(n, t_len, dim, width);
  std::vector<float> env_actions(n * t_len * width);  // as the envs took them
  // The episode each env is in (o_0, a_0, r_1, ...), and those that ended in
  // this rollout with the rollout index of their last step.
  std::vector<Trajectory> running(n);
  // PPO on the true reward scales it as ppo_train does when asked
  // (preference rewards are win rates in [0, 1]: never scaled).
  std::vector<ppo::RewardScaler> reward_scale(n, ppo::RewardScaler(config.gamma, 10.0));
  auto start = [&](int64_t e) {
    Trajectory& t = running[e];
    t.Clear();
    t.set_obs_dim(static_cast<int32_t>(env_dim));
    t.set_action_dim(static_cast<int32_t>(width));
    for (float v : venv.observation(static_cast<int>(e))) t.add_observations(v);
  };
  for (int64_t e = 0; e < n; ++e) start(e);
  std::vector<Trajectory> ended;
  std::vector<int64_t> ended_at;
  PreferenceTrainResult result;
  // Env e took its step (result r): the step goes on its trajectory and its
  // next input is made; an ended episode is recorded and its trajectory
  // joins `ended` (true returned; the caller starts the next one).
  auto advance = [&](int64_t e, const VectorStepResult& r) {
    Trajectory& traj = running[e];
    RecordStep(&act.env_actions[e * width], static_cast<int>(width), r.reward,
               r.done() ? r.final_observation : r.observation, &traj);
    input(r.observation, r.done() ? 0 : venv.episode_length(static_cast<int>(e)),
          &current[e * dim]);
    if (!r.done()) return false;
    traj.set_terminated(r.terminated);
    result.episodes.push_back({result.env_steps, r.episode_return, r.episode_length});
    result.tail_returns.push_back(LastQuarterReturn(traj.rewards()));
    ended.push_back(std::move(traj));
    return true;
  };
  std::deque<Trajectory> recent;
  std::vector<Trajectory> queue;
  ppo::PpoUpdateInfo info;
  const bool whole_episodes =
      options.source == RewardSource::kSpo && (options.whole_episodes || options.spread);
  if (whole_episodes) {
    // Whole episodes: each env's steps wait in `pending` until its episode
    // ends; ended episodes wait unscored until a rollout's worth of steps is
    // known, then one Comparator call scores them and the batcher packs
    // their steps into rollouts (episode_batcher.h).
    std::vector<ppo::Unroll> pending(n), unscored;
    auto empty_episode = [&] {
      ppo::Unroll e;
      e.obs_dim = dim;
      e.action_width = width;
      return e;
    };
    for (ppo::Unroll& p : pending) p = empty_episode();
    EpisodeBatcher batcher;
    int64_t unscored_steps = 0;
    for (int64_t u = 0; u < updates;) {
      model.Act(current.data(), n, /*greedy=*/false, &rng, &scratch, &act);
      RETURN_IF_ERROR(venv.Step(act.env_actions, &results));
      result.env_steps += n;
      for (int64_t e = 0; e < n; ++e) {
        const VectorStepResult& r = results[e];
        ppo::AppendStep(&current[e * dim], &act.actions[e * width], act.log_probs[e], act.values[e],
                   &pending[e]);
        if (advance(e, r)) {
          unscored_steps += pending[e].length;
          unscored.push_back(std::move(pending[e]));
          pending[e] = empty_episode();
          start(e);
        }
      }
      if (batcher.ready_steps() + unscored_steps < n * t_len) continue;
      const int64_t queries_before = result.queries;
      queue.assign(recent.begin(), recent.end());
      ASSIGN_OR_RETURN(std::vector<double> rates,
                       WinRates(ended, queue, options.opponents, compare, &rng, &result.queries));
      for (size_t k = 0; k < ended.size(); ++k) {
        batcher.Add(std::move(unscored[k]), rates[k], options.spread);
        result.queries_at_episode.push_back(queries_before);
        recent.push_back(std::move(ended[k]));
        if (static_cast<int>(recent.size()) > options.queue_size) recent.pop_front();
      }
      ended.clear();
      unscored.clear();
      unscored_steps = 0;
      while (u < updates && batcher.Fill(&rollout)) {
        RETURN_IF_ERROR(learner->Update(rollout, &info));
        if (options.record_distributions && problem.discrete) {
          result.distributions.push_back(ActionDistribution(model, first_observation));
        }
        ++u;
      }
    }
  }
  for (int64_t u = 0; !whole_episodes && u < updates; ++u) {  // fixed rollouts
    ended.clear();
    ended_at.clear();
    for (int64_t t = 0; t < t_len; ++t) {
      model.Act(current.data(), n, /*greedy=*/false, &rng, &scratch, &act);
      RETURN_IF_ERROR(venv.Step(act.env_actions, &results));
      result.env_steps += n;
      for (int64_t e = 0; e < n; ++e) {
        const int64_t i = e * t_len + t;
        const VectorStepResult& r = results[e];
        std::copy_n(&current[e * dim], dim, &rollout.observations[i * dim]);
        std::copy_n(&act.actions[e * width], width, &rollout.actions[i * width]);
        rollout.log_probs[i] = act.log_probs[e];
        rollout.values[i] = act.values[e];
        rollout.terminated[i] = r.terminated;
        rollout.truncated[i] = r.truncated;
        if (r.truncated) input(r.final_observation, r.episode_length, &rollout.final_observations[i * dim]);
        std::copy_n(&act.env_actions[e * width], width, &env_actions[i * width]);
        rollout.rewards[i] = options.source != RewardSource::kTrueReward ? 0.0f
                             : config.normalize_rewards ? reward_scale[e].Scale(r.reward, r.done())
                                                        : static_cast<float>(r.reward);
        if (advance(e, r)) {
          ended_at.push_back(i);
          start(e);
        }
      }
    }
    std::copy(current.begin(), current.end(), rollout.next_observations.begin());
    const int64_t queries_before = result.queries;
    if (options.source == RewardSource::kSpo && !ended.empty()) {
      queue.assign(recent.begin(), recent.end());
      ASSIGN_OR_RETURN(std::vector<double> rates,
                       WinRates(ended, queue, options.opponents, compare, &rng, &result.queries));
      for (size_t k = 0; k < rates.size(); ++k) {
        rollout.rewards[ended_at[k]] = static_cast<float>(rates[k]);
      }
    } else if (options.source == RewardSource::kRewardModel) {
      // The queries SPO would ask: each ended episode against `opponents`
      // others (this rollout's and recent ones); the answers train the
      // reward model, whose per-step reward every step then gets.
      std::vector<const Trajectory*> pool;
      for (const Trajectory& t : ended) pool.push_back(&t);
      for (const Trajectory& t : recent) pool.push_back(&t);
      const std::vector<std::pair<int, int>> pairs =
          OpponentPairs(static_cast<int>(ended.size()), static_cast<int>(pool.size()),
                        options.opponents, &rng);
      if (!pairs.empty()) {
        ASSIGN_OR_RETURN(std::vector<double> labels, compare(pool, pairs));
        for (size_t q = 0; q < pairs.size(); ++q) {
          reward_model.Add(*pool[pairs[q].first], *pool[pairs[q].second], labels[q]);
        }
        result.queries += static_cast<int64_t>(pairs.size());
      }
      reward_model.Fit(options.reward_model_epochs);
      reward_model.StepRewards(rollout.observations.data(), dim, env_actions.data(), width,
                               n * t_len, rollout.rewards.data());
    }
    for (size_t k = 0; k < ended.size(); ++k) result.queries_at_episode.push_back(queries_before);
    for (Trajectory& traj : ended) {
      recent.push_back(std::move(traj));
      if (static_cast<int>(recent.size()) > options.queue_size) recent.pop_front();
    }
    RETURN_IF_ERROR(learner->Update(rollout, &info));
    if (options.record_distributions && problem.discrete) {
      result.distributions.push_back(ActionDistribution(model, first_observation));
    }
  }
  if (options.final_greedy_episodes > 0) {
    ASSIGN_OR_RETURN(VectorEnv eval_env, VectorEnv::Create(options.env_name, 1));
    eval_env.Reset(options.seed + 1000003);
    std::vector<float> x(dim);
    std::vector<float> rewards;  // of the greedy episode under way
    input(eval_env.observation(0), 0, x.data());
    while (static_cast<int>(result.greedy_episodes.size()) < options.final_greedy_episodes) {
      model.Act(x.data(), 1, /*greedy=*/true, &rng, &scratch, &act);
      RETURN_IF_ERROR(eval_env.Step(act.env_actions, &results));
      const VectorStepResult& r = results[0];
      rewards.push_back(static_cast<float>(r.reward));
      if (r.done()) {
        result.greedy_episodes.push_back({0, r.episode_return, r.episode_length});
        result.greedy_tail_returns.push_back(LastQuarterReturn(rewards));
        rewards.clear();
      }
      input(r.observation, r.done() ? 0 : eval_env.episode_length(0), x.data());
    }
  }
  if (remote != nullptr) result.failed_calls = remote->stats().failed_calls;
  result.against_true_order = ordered > 0 ? static_cast<double>(against) / ordered : 0.0;
  if (!result.distributions.empty()) {
    result.final_distribution = result.distributions.back();
    const size_t half = result.distributions.size() / 2;
    result.average_distribution.assign(problem.num_actions, 0.0);
    for (size_t k = half; k < result.distributions.size(); ++k) {
      for (int64_t a = 0; a < problem.num_actions; ++a) {
        result.average_distribution[a] +=
            result.distributions[k][a] / (result.distributions.size() - half);
      }
    }
  }
  return result;
}

}  // namespace rlx::spo
