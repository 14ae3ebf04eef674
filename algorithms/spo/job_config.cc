#include "algorithms/spo/job_config.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "algorithms/job_spec.h"
#include "algorithms/ppo/job_config.h"
#include "algorithms/preferences.h"

namespace rlx::spo {

void CompleteJob(JobSpec* spec) {
  SpoJobConfig* s = spec->mutable_spo();
  if (!s->ppo().has_gamma()) s->mutable_ppo()->set_gamma(1.0);
  // Monte Carlo advantages: a win rate is an outcome of the whole episode,
  // and with lambda 1 every step's advantage sees it without the critic's
  // bootstrap (2-3x faster on CartPole than 0.95; docs/benchmarks.md, "SPO").
  if (!s->ppo().has_gae_lambda()) s->mutable_ppo()->set_gae_lambda(1.0);
  // Rewards as they come (SpoPpoDefaults): win rates are in [0, 1].
  if (!s->ppo().has_normalize_rewards()) {
    s->mutable_ppo()->set_normalize_rewards(SpoPpoDefaults().normalize_rewards);
  }
  ppo::CompletePpoConfig(*spec, /*vtrace=*/false, s->mutable_ppo());
  if (s->preference().name().empty()) s->mutable_preference()->set_name("markovian");
  if (!s->has_opponents()) s->set_opponents(8);
  if (!s->has_queue_size()) s->set_queue_size(256);
  if (!s->has_time_feature()) s->set_time_feature(true);
  if (!s->has_time_feature_scale()) s->set_time_feature_scale(1.0);
  if (s->reward().empty()) s->set_reward("win_rate");
  if (s->reward() == "reward_model") {
    if (s->reward_model_hidden().empty()) {
      s->add_reward_model_hidden(64);
      s->add_reward_model_hidden(64);
    }
    if (!s->has_reward_model_steps()) s->set_reward_model_steps(8);
    if (!s->has_reward_model_minibatch()) s->set_reward_model_minibatch(16);
  }
  // Rollouts with the win rate on an episode's last step: synchronous, and
  // unbiased; spreading it over the steps favours longer episodes, and whole
  // episodes (group_size >= 1) learn more slowly with the win rate at the
  // end (docs/algorithms.md and docs/benchmarks.md, "SPO").
  if (!s->has_group_size()) s->set_group_size(0);
  if (s->placement().empty()) s->set_placement("end");
  if (!spec->has_max_policy_lag()) {
    // Rollouts: synchronous (an actor waits for the update that used its
    // unrolls). Groups: an env's earlier members wait in the table's gate
    // for its later ones, so an actor may run ahead by two groups per env.
    spec->set_max_policy_lag(
        s->group_size() >= 1 ? 2 * std::max(1, spec->envs_per_actor()) * s->group_size() : 0);
  }
}

ppo::PpoConfig JobSpoPpoConfig(const JobSpec& spec) {
  return ppo::PpoConfigFrom(spec.spo().ppo(), spec);
}

double SpoTimeFeature(const JobSpec& spec, const ProblemSpec& env_problem) {
  return spec.spo().time_feature() && env_problem.time_limit > 0 ? spec.spo().time_feature_scale()
                                                                 : 0.0;
}

ProblemSpec SpoModelProblem(const JobSpec& spec, const ProblemSpec& env_problem) {
  ProblemSpec p = env_problem;
  if (SpoTimeFeature(spec, env_problem) > 0) p.observation_dim += 1;
  return p;
}

void CheckJob(const JobSpec& spec, const ProblemSpec& problem, std::vector<std::string>* errors) {
  const SpoJobConfig& s = spec.spo();
  ppo::CheckPpoConfig(JobSpoPpoConfig(spec), SpoModelProblem(spec, problem), "spo.ppo.", errors);
  if (s.ppo().vtrace()) errors->push_back("spo.ppo.vtrace: SPO runs synchronous PPO (false)");
  if (s.ppo().normalize_observations() && s.time_feature()) {
    errors->push_back(
        "spo.ppo.normalize_observations: not with spo.time_feature (set one of them false)");
  }
  absl::StatusOr<std::unique_ptr<PreferenceFunction>> f = MakePreferenceFunction(s.preference());
  if (!f.ok()) errors->push_back(absl::StrCat("spo.preference.", f.status().message()));
  if (!(std::isfinite(s.time_feature_scale()) && s.time_feature_scale() > 0 &&
        s.time_feature_scale() <= 1000)) {
    errors->push_back(absl::StrCat("spo.time_feature_scale: must be in (0, 1000], got ",
                                   s.time_feature_scale()));
  }
  if (s.opponents() < 1 || s.opponents() > 4096) {
    errors->push_back(absl::StrCat("spo.opponents: must be in [1, 4096], got ", s.opponents()));
  }
  if (s.queue_size() < 0 || s.queue_size() > 1 << 20) {
    errors->push_back(absl::StrCat("spo.queue_size: must be in [0, 1048576], got ", s.queue_size()));
  }
  if (s.reward() != "win_rate" && s.reward() != "reward_model") {
    errors->push_back(absl::StrCat("spo.reward: must be \"win_rate\" or \"reward_model\", got '",
                                   Shorten(s.reward()), "'"));
  }
  for (int i = 0; i < s.reward_model_hidden_size(); ++i) {
    if (s.reward_model_hidden(i) < 1 || s.reward_model_hidden(i) > 1024) {
      errors->push_back(absl::StrCat("spo.reward_model_hidden[", i, "]: must be in [1, 1024], got ",
                                     s.reward_model_hidden(i)));
    }
  }
  if (s.reward_model_hidden_size() > 8) {
    errors->push_back(absl::StrCat("spo.reward_model_hidden: at most 8 layers, got ",
                                   s.reward_model_hidden_size()));
  }
  if (s.has_reward_model_steps() && (s.reward_model_steps() < 1 || s.reward_model_steps() > 10000)) {
    errors->push_back(absl::StrCat("spo.reward_model_steps: must be in [1, 10000], got ",
                                   s.reward_model_steps()));
  }
  if (s.has_reward_model_minibatch() &&
      (s.reward_model_minibatch() < 1 || s.reward_model_minibatch() > 4096)) {
    errors->push_back(absl::StrCat("spo.reward_model_minibatch: must be in [1, 4096], got ",
                                   s.reward_model_minibatch()));
  }
  if (s.group_size() < 0 || s.group_size() > 64) {
    errors->push_back(absl::StrCat("spo.group_size: must be in [0, 64], got ", s.group_size()));
  }
  if (s.placement() != "end" && s.placement() != "spread") {
    errors->push_back(absl::StrCat("spo.placement: must be \"end\" or \"spread\", got '",
                                   Shorten(s.placement()), "'"));
  } else if (s.placement() == "spread" && s.group_size() == 0) {
    errors->push_back(
        "spo.placement: \"spread\" needs whole episodes (spo.group_size >= 1); with group_size 0 "
        "rollouts are learned before their episodes end");
  }
  if (s.group_size() >= 1 && s.group_size() <= 64) {
    const int64_t held = int64_t{std::max(1, spec.envs_per_actor())} * s.group_size();
    if (spec.max_policy_lag() >= 0 && spec.max_policy_lag() < held) {
      errors->push_back(absl::StrCat(
          "max_policy_lag: with spo.group_size ", s.group_size(), " must be -1 or at least "
          "envs_per_actor x group_size = ", held, " (an actor's unfinished groups wait in the "
          "table), got ", spec.max_policy_lag()));
    }
    const int64_t table_needs = held * std::max(1, spec.num_actors());
    if (spec.table_max_size() > 0 && spec.table_max_size() < table_needs) {
      errors->push_back(absl::StrCat(
          "table_max_size: with spo.group_size ", s.group_size(), " must be at least num_actors x "
          "envs_per_actor x group_size = ", table_needs, " (unfinished groups are held), got ",
          spec.table_max_size()));
    }
  }
  if (s.preference_address().size() > 256) {
    errors->push_back(absl::StrCat("spo.preference_address: at most 256 bytes, got '",
                                   Shorten(s.preference_address()), "'"));
  }
}

absl::StatusOr<JobMemoryEstimate> EstimateJob(const JobSpec& spec, const ProblemSpec& problem) {
  absl::StatusOr<JobMemoryEstimate> e =
      ppo::EstimatePpo(JobSpoPpoConfig(spec), spec, SpoModelProblem(spec, problem));
  if (!e.ok()) return e;
  // The queue of whole episodes (observations, actions, rewards per step).
  const int64_t per_episode =
      4 * int64_t{problem.time_limit > 0 ? problem.time_limit : 1000} *
      (problem.observation_dim + (problem.discrete ? 1 : problem.action_dim) + 1);
  e->learner_bytes += per_episode * spec.spo().queue_size();
  if (spec.spo().reward() == "reward_model") {
    // The answers' trajectories (about 16,384 answers / opponents episodes,
    // each step as features: the one-hot action or the action, and the
    // observation) and the MLP's activations over a minibatch of them.
    const int64_t episodes = 16384 / std::max(1, spec.spo().opponents()) + spec.spo().queue_size();
    e->learner_bytes += episodes * per_episode * 2;
  }
  return e;
}

}  // namespace rlx::spo
