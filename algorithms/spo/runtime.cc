#include "algorithms/spo/runtime.h"

#include <cmath>
#include <deque>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "algorithms/job_spec.h"
#include "algorithms/ppo/runtime.h"
#include "algorithms/spo/job_config.h"
#include "algorithms/spo/remote_preferences.h"
#include "algorithms/spo/win_rate.h"
#include "algorithms/trajectory_codec.h"
#include "core/security.h"
#include "core/status_macros.h"

namespace rlx::spo {
namespace {

// The SPO side of the learner: trajectories of the rollout being filled,
// the queue, the preference service, and what the metrics read.
struct SpoState {
  std::vector<std::pair<int64_t, Trajectory>> group;  // (rollout index of its last step, episode)
  std::deque<Trajectory> queue;
  std::unique_ptr<RemotePreferences> preferences;
  std::mt19937_64 rng;
  double win_rate_spread = 0;  // std of the last group's win rates
  int64_t groups = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<JobLearner>> MakeLearner(const JobSpec& spec,
                                                        const LearnerContext& context) {
  ASSIGN_OR_RETURN(ProblemSpec env_problem, JobProblem(spec));
  const ProblemSpec model_problem = SpoModelProblem(spec, env_problem);
  const ppo::PpoConfig config = JobSpoPpoConfig(spec);
  const SpoJobConfig& spo = spec.spo();
  auto state = std::make_shared<SpoState>();
  state->rng.seed(spec.seed() * 0x9E3779B97F4A7C15ull + 31);
  RemotePreferenceOptions options;
  options.job = spec.name();
  options.function = spo.preference();
  options.stopped = context.stopping;
  options.on_problem = context.report_problem;
  options.log_prefix = absl::StrCat("learner: job ", spec.name());
  const std::string address =
      spo.preference_address().empty() ? context.preference_address : spo.preference_address();
  state->preferences = std::make_unique<RemotePreferences>(
      MakeChannel(address), options);
  const int obs_dim = static_cast<int>(env_problem.observation_dim);
  const int action_dim = env_problem.discrete ? 1 : static_cast<int>(env_problem.action_dim);
  const int64_t length = config.num_steps;
  const int opponents = spo.opponents();
  const int queue_size = spo.queue_size();

  ppo::UnrollLearnerHooks hooks;
  hooks.on_unroll = [state, obs_dim, action_dim, length](const Item& item,
                                                         int64_t slot) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<EndedTrajectory> ended,
                     DecodeTrajectories(item, obs_dim, action_dim, static_cast<int>(length)));
    for (EndedTrajectory& e : ended) {
      state->group.emplace_back(slot * length + e.end_step, std::move(e.trajectory));
    }
    return absl::OkStatus();
  };
  hooks.before_update = [state, opponents, queue_size](ppo::Rollout* rollout) -> absl::Status {
    std::vector<Trajectory> members, queue(state->queue.begin(), state->queue.end());
    for (auto& [at, t] : state->group) members.push_back(t);
    std::fill(rollout->rewards.begin(), rollout->rewards.end(), 0.0f);
    if (!members.empty()) {
      const Comparator compare = [state](const std::vector<const Trajectory*>& all,
                                         const std::vector<std::pair<int, int>>& pairs) {
        return state->preferences->Compare(all, pairs);
      };
      ASSIGN_OR_RETURN(std::vector<double> rates,
                       WinRates(members, queue, opponents, compare, &state->rng));
      double mean = 0, var = 0;
      for (double r : rates) mean += r / rates.size();
      for (double r : rates) var += (r - mean) * (r - mean) / rates.size();
      state->win_rate_spread = std::sqrt(var);
      for (size_t k = 0; k < rates.size(); ++k) {
        rollout->rewards[state->group[k].first] = static_cast<float>(rates[k]);
      }
    }
    for (Trajectory& t : members) {
      state->queue.push_back(std::move(t));
      if (static_cast<int>(state->queue.size()) > queue_size) state->queue.pop_front();
    }
    state->group.clear();
    ++state->groups;
    return absl::OkStatus();
  };
  hooks.readout = [state](bool monitors, LearnerReadout* readout) {
    const RemotePreferenceStats& s = state->preferences->stats();
    readout->preference_queries = static_cast<double>(s.queries);
    readout->preference_failures = static_cast<double>(s.failed_calls);
    if (s.calls > 0) readout->preference_latency = s.latency_seconds / s.calls;
    if (state->groups > 0) readout->win_rate_spread = state->win_rate_spread;
    if (monitors && !state->queue.empty()) {  // a pass over the queue: with the monitors
      std::vector<const Trajectory*> recent;
      for (const Trajectory& t : state->queue) recent.push_back(&t);
      readout->distinct_trajectories = DistinctShare(recent);
    }
  };
  return ppo::MakeUnrollLearner(spec, model_problem, config, std::move(hooks));
}

absl::StatusOr<std::unique_ptr<ActorWorker>> MakeWorker(const JobSpec& spec,
                                                        const WorkerOptions& options) {
  ASSIGN_OR_RETURN(ProblemSpec env_problem, JobProblem(spec));
  ppo::UnrollFlavor flavor;
  flavor.time_feature = spec.spo().time_feature() && env_problem.time_limit > 0;
  flavor.zero_rewards = true;
  flavor.trajectories = true;
  return ppo::MakeUnrollWorker(spec, options, SpoModelProblem(spec, env_problem),
                               JobSpoPpoConfig(spec), flavor);
}

absl::StatusOr<std::unique_ptr<GreedyPolicy>> MakeGreedyPolicy(const JobSpec& spec) {
  ASSIGN_OR_RETURN(ProblemSpec env_problem, JobProblem(spec));
  return ppo::MakeUnrollGreedyPolicy(spec, SpoModelProblem(spec, env_problem),
                                     JobSpoPpoConfig(spec),
                                     spec.spo().time_feature() && env_problem.time_limit > 0);
}

}  // namespace rlx::spo
