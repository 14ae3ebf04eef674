#include "algorithms/stream_x/job_config.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "algorithms/job_spec.h"
#include "core/status_macros.h"
#include "envs/registry.h"
#include "models/backends.h"

namespace rlx::stream_x {

void CompleteJob(JobSpec* spec) {
  StreamXConfig* x = spec->mutable_stream_x();
  if (!x->has_alpha()) x->set_alpha(1.0);
  if (!x->has_gamma()) x->set_gamma(0.99);
  if (!x->has_lambda()) x->set_lambda(0.8);
  if (!x->has_kappa_value()) x->set_kappa_value(2.0);
  if (!x->has_kappa_policy()) x->set_kappa_policy(3.0);
  if (!x->has_entropy_coef()) x->set_entropy_coef(0.01);
  if (x->hidden_size() == 0) {
    x->add_hidden(128);
    x->add_hidden(128);
  }
  if (!x->has_sparsity()) x->set_sparsity(0.9);
  if (!x->has_normalize_observations()) x->set_normalize_observations(true);
  if (!x->has_scale_rewards()) x->set_scale_rewards(true);
  if (!x->has_time_feature()) x->set_time_feature(true);
  if (!x->has_bootstrap_on_truncation()) x->set_bootstrap_on_truncation(true);
  if (!x->has_max_episode_steps()) x->set_max_episode_steps(0);
  if (!x->has_epsilon_start()) x->set_epsilon_start(1.0);
  if (!x->has_epsilon_end()) x->set_epsilon_end(0.01);
  if (!x->has_exploration_fraction()) x->set_exploration_fraction(0.1);
  if (x->td_policy().empty()) x->set_td_policy("random");
  if (x->network().empty()) x->set_network(kDefaultNetworkBackend);
  if (!spec->has_max_policy_lag()) spec->set_max_policy_lag(-1);
}

void CheckJob(const JobSpec& spec, const ProblemSpec& problem, std::vector<std::string>* errors) {
  const StreamXConfig& x = spec.stream_x();
  if (spec.device() != "cpu" && !spec.device().empty()) {
    errors->push_back(absl::StrCat("device: ", Shorten(spec.device()),
                                   " is not used by the stream-x algorithms (they learn one "
                                   "transition at a time on the CPU); use device: \"cpu\""));
  }
  if (x.td_policy() != "random" && x.td_policy() != "cartpole_balance") {
    errors->push_back(absl::StrCat("stream_x.td_policy: must be random or cartpole_balance, got '",
                                   Shorten(x.td_policy()), "'"));
  }
  absl::StatusOr<StreamConfig> config = JobStreamConfig(spec);
  if (!config.ok()) {
    errors->push_back(absl::StrCat("algorithm: ", config.status().message()));
    return;
  }
  // An env without a step limit of its own cannot take one (the range is
  // StreamConfigErrors's; an unknown env is reported with the env field).
  if (config->max_episode_steps > 0) {
    absl::Status s = MakeTrainingEnv(spec.env(), *config).status();
    if (absl::IsUnimplemented(s)) {
      errors->push_back(absl::StrCat("stream_x.max_episode_steps: ", s.message()));
    }
  }
  for (const std::string& e : StreamConfigErrors(problem, *config)) {
    if (absl::StartsWith(e, "hidden[")) continue;  // reported by the generic size check
    // total_steps is the job's stop.max_env_steps; the rest are stream_x fields.
    absl::string_view rest = e;
    errors->push_back(absl::ConsumePrefix(&rest, "total_steps: ")
                          ? absl::StrCat("stop.max_env_steps: ", rest)
                          : absl::StrCat("stream_x.", e));
  }
}

absl::StatusOr<JobMemoryEstimate> EstimateJob(const JobSpec& spec, const ProblemSpec& problem) {
  ASSIGN_OR_RETURN(StreamConfig config, JobStreamConfig(spec));
  const int64_t in = NetworkInputDim(problem, config);
  const int64_t actions = problem.discrete ? problem.num_actions : 2 * problem.action_dim;
  const int64_t value = MlpParameters(in, config.hidden, 1);
  const int64_t acting = MlpParameters(in, config.hidden, actions);
  JobMemoryEstimate e;
  int64_t acting_params = 0;
  switch (config.algorithm) {
    case StreamAlgorithm::kStreamAC:
      e.parameters = value + acting;
      acting_params = acting;
      break;
    case StreamAlgorithm::kStreamQ:
      e.parameters = acting;
      acting_params = acting;
      break;
    case StreamAlgorithm::kStreamTD:
      e.parameters = value;
      break;
  }
  e.largest_network = std::max(value, acting);
  // One trace set per actor stream.
  const int64_t streams = int64_t{spec.num_actors()} * spec.envs_per_actor();
  e.learner_bytes = 4 * e.parameters * (JobLimits::kLearnerCopies + streams);
  e.actor_bytes = 4 * acting_params * JobLimits::kActorCopiesPerEnv * spec.envs_per_actor();
  return e;
}

}  // namespace rlx::stream_x

namespace rlx {

absl::StatusOr<StreamConfig> JobStreamConfig(const JobSpec& spec) {
  StreamConfig c;
  ASSIGN_OR_RETURN(c.algorithm, ParseStreamAlgorithm(spec.algorithm()));
  const StreamXConfig& x = spec.stream_x();
  c.alpha = x.alpha();
  c.gamma = x.gamma();
  c.lambda = x.lambda();
  c.kappa_value = x.kappa_value();
  c.kappa_policy = x.kappa_policy();
  c.entropy_coef = x.entropy_coef();
  c.hidden.assign(x.hidden().begin(), x.hidden().end());
  c.sparsity = x.sparsity();
  c.network = x.network();
  c.normalize_observations = x.normalize_observations();
  c.scale_rewards = x.scale_rewards();
  c.time_feature = x.time_feature();
  c.bootstrap_on_truncation = x.bootstrap_on_truncation();
  c.max_episode_steps = x.max_episode_steps();
  c.epsilon_start = x.epsilon_start();
  c.epsilon_end = x.epsilon_end();
  c.exploration_fraction = x.exploration_fraction();
  c.total_steps = spec.stop().max_env_steps();
  c.td_policy = x.td_policy() == "cartpole_balance" ? FixedPolicy::kCartPoleBalance
                                                    : FixedPolicy::kUniformRandom;
  return c;
}

}  // namespace rlx
