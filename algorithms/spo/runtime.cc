#include "algorithms/spo/runtime.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "algorithms/job_spec.h"
#include "algorithms/ppo/runtime.h"
#include "algorithms/preferences.h"
#include "algorithms/spo/episode_batcher.h"
#include "algorithms/spo/job_config.h"
#include "algorithms/spo/remote_preferences.h"
#include "algorithms/spo/reward_model.h"
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
  std::deque<double> recent_rates;  // groups of one: the last 64 win rates
  int64_t groups = 0;
  std::unique_ptr<RewardModel> reward_model;  // spo.reward "reward_model" (the baseline)
  std::optional<double> constraint_threshold;  // the non-markovian preference's threshold
};

// Puts a group's members into the queue of recent episodes (the newest
// queue_size are kept) and counts the group.
void Enqueue(SpoState* state, std::vector<Trajectory> members, int queue_size) {
  for (Trajectory& t : members) {
    state->queue.push_back(std::move(t));
    if (static_cast<int>(state->queue.size()) > queue_size) state->queue.pop_front();
  }
  ++state->groups;
}

// The baseline's queries for a group: each member against `opponents`
// others of the group and the queue; the answers train the reward model
// (refitted when its rewards are next needed). The members join the queue.
absl::Status AskRewardModel(SpoState* state, std::vector<Trajectory> members, int opponents,
                            int queue_size) {
  std::vector<const Trajectory*> pool;
  for (const Trajectory& t : members) pool.push_back(&t);
  for (const Trajectory& t : state->queue) pool.push_back(&t);
  const std::vector<std::pair<int, int>> pairs =
      OpponentPairs(static_cast<int>(members.size()), static_cast<int>(pool.size()), opponents,
                    &state->rng);
  if (!pairs.empty()) {
    ASSIGN_OR_RETURN(std::vector<double> labels, state->preferences->Compare(pool, pairs));
    for (size_t q = 0; q < pairs.size(); ++q) {
      const double label = labels[q];
      if (!(label >= 0.0 && label <= 1.0)) {
        return absl::DataLossError(absl::StrCat("preferences: answer ", q, " is ", label,
                                                ", not a probability in [0, 1]"));
      }
      state->reward_model->Add(*pool[pairs[q].first], *pool[pairs[q].second], label);
    }
  }
  Enqueue(state, std::move(members), queue_size);
  return absl::OkStatus();
}

// Refits the reward model and gives every step of `rollout` its reward
// (each row's env observation, its first values before the time feature,
// and the sampled action).
void RewardModelRewards(SpoState* state, int fit_steps, ppo::Rollout* rollout) {
  state->reward_model->Fit(fit_steps);
  const int64_t m = rollout->num_unrolls * rollout->length;
  const int64_t obs_dim = static_cast<int64_t>(rollout->observations.size()) / std::max<int64_t>(m, 1);
  const int64_t width = static_cast<int64_t>(rollout->actions.size()) / std::max<int64_t>(m, 1);
  state->reward_model->StepRewards(rollout->observations.data(), obs_dim,
                                   rollout->actions.data(), width, m, rollout->rewards.data());
}

// SPO's scoring of one group: each member's win rate against `opponents`
// others (the other members first when group_first, else drawn from the
// members and the queue alike); then the members join the queue.
absl::StatusOr<std::vector<double>> ScoreGroup(SpoState* state, std::vector<Trajectory> members,
                                               int opponents, int queue_size, bool group_first) {
  std::vector<double> rates;
  if (!members.empty()) {
    const std::vector<Trajectory> queue(state->queue.begin(), state->queue.end());
    const Comparator compare = [state](const std::vector<const Trajectory*>& all,
                                       const std::vector<std::pair<int, int>>& pairs) {
      return state->preferences->Compare(all, pairs);
    };
    ASSIGN_OR_RETURN(rates, WinRates(members, queue, opponents, compare, &state->rng,
                                     /*queries=*/nullptr, group_first));
    // Groups of one (spo.group_size 1) have no spread of their own: the
    // spread is then over the last 64 episodes' win rates.
    std::vector<double> spread_over = rates;
    if (rates.size() == 1) {
      state->recent_rates.push_back(rates[0]);
      if (state->recent_rates.size() > 64) state->recent_rates.pop_front();
      spread_over.assign(state->recent_rates.begin(), state->recent_rates.end());
    }
    double mean = 0, var = 0;
    for (double r : spread_over) mean += r / spread_over.size();
    for (double r : spread_over) var += (r - mean) * (r - mean) / spread_over.size();
    state->win_rate_spread = std::sqrt(var);
  }
  Enqueue(state, std::move(members), queue_size);
  return rates;
}

void SpoReadout(const SpoState& state, bool monitors, LearnerReadout* readout) {
  const RemotePreferenceStats& s = state.preferences->stats();
  readout->preference_queries = static_cast<double>(s.queries);
  readout->preference_failures = static_cast<double>(s.failed_calls);
  if (s.calls > 0) readout->preference_latency = s.latency_seconds / s.calls;
  if (state.groups > 0) readout->win_rate_spread = state.win_rate_spread;
  if (state.constraint_threshold.has_value() && !state.queue.empty()) {
    int within = 0;
    for (const Trajectory& t : state.queue) {
      within += LastQuarterReturn(t.rewards()) <= *state.constraint_threshold;
    }
    readout->constraint_share = static_cast<double>(within) / state.queue.size();
  }
  if (monitors && !state.queue.empty()) {  // a pass over the queue: with the monitors
    std::vector<const Trajectory*> recent;
    for (const Trajectory& t : state.queue) recent.push_back(&t);
    readout->distinct_trajectories = DistinctShare(recent);
  }
}

// SPO on whole episodes in groups (spo.group_size >= 1): takes episode items
// (ppo/runtime.h UnrollFlavor::group_size) from the job's gated table,
// collects each context's members, scores a group when all of them are in
// (or, for the reward-model baseline, asks the same queries and trains the
// model), and learns from the scored steps a rollout at a time
// (episode_batcher.h). Members of unfinished groups and scored steps not
// yet learned are not checkpointed: a restart drops them.
class GroupLearner : public JobLearner {
 public:
  GroupLearner(std::shared_ptr<SpoState> state, std::unique_ptr<ppo::PpoLearner> learner,
               const ppo::PpoConfig& config, const SpoJobConfig& spo, int64_t env_obs_dim,
               int64_t action_dim, int64_t max_length)
      : state_(std::move(state)), learner_(std::move(learner)), spo_(spo),
        env_obs_dim_(env_obs_dim), action_dim_(action_dim), max_length_(max_length) {
    const ppo::PpoModel& m = learner_->model();
    rollout_.Resize(config.num_envs, config.num_steps, m.obs_dim(), m.action_width());
  }

  absl::Status Consume(const Item& item, ItemOutcome* outcome) override {
    *outcome = ItemOutcome();
    const ppo::PpoModel& m = learner_->model();
    const ItemMetadata& meta = item.metadata();
    const int64_t length = meta.num_steps();
    if (length < 1 || length > max_length_) {
      return absl::InvalidArgumentError(absl::StrCat("episode item: num_steps ", length,
                                                     " outside [1, ", max_length_, "]"));
    }
    if (meta.group_size() < 1 || meta.group_size() > spo_.group_size()) {
      return absl::InvalidArgumentError(absl::StrCat("episode item: group_size ", meta.group_size(),
                                                     ", the job's is ", spo_.group_size()));
    }
    ASSIGN_OR_RETURN(ppo::Unroll episode,
                     ppo::DecodeUnroll(item, length, m.obs_dim(), m.action_width()));
    ASSIGN_OR_RETURN(std::vector<EndedTrajectory> ended,
                     DecodeTrajectories(item, static_cast<int>(env_obs_dim_),
                                        static_cast<int>(action_dim_), static_cast<int>(length)));
    if (ended.size() != 1 || ended[0].end_step != length - 1) {
      return absl::InvalidArgumentError("episode item: must carry its one trajectory");
    }
    auto last = last_sequence_.find(meta.actor_id());
    if (last != last_sequence_.end() && meta.sequence() <= last->second) return absl::OkStatus();
    last_sequence_[meta.actor_id()] = meta.sequence();
    outcome->used = true;
    outcome->episodes_ended = 1;
    outcome->episode_returns.push_back(episode.episode_returns.back());
    Group& group = groups_[meta.context_id()];
    group.episodes.push_back(std::move(episode));
    group.trajectories.push_back(std::move(ended[0].trajectory));
    if (static_cast<int>(group.episodes.size()) < meta.group_size()) return absl::OkStatus();
    Group complete = std::move(group);
    groups_.erase(meta.context_id());
    RETURN_IF_ERROR(Score(std::move(complete)));
    while (batcher_.Fill(&rollout_)) {
      if (state_->reward_model != nullptr) {
        RewardModelRewards(state_.get(), spo_.reward_model_steps(), &rollout_);
      }
      RETURN_IF_ERROR(learner_->Update(rollout_, &info_));
      outcome->learned = true;
    }
    return absl::OkStatus();
  }

  int64_t steps() const override { return learner_->env_steps(); }
  int64_t steps_per_update() const override {
    return std::max<int64_t>(1, rollout_.num_unrolls * rollout_.length);
  }
  void Parameters(StateDict* dict) const override {
    ppo::SaveParameters(learner_->model(), dict);
  }
  void SaveState(StateDict* dict) const override { learner_->SaveState(dict); }
  absl::Status RestoreState(const StateDict& dict) override {
    groups_.clear();
    batcher_.Clear();
    return learner_->RestoreState(dict);
  }
  void DropStream(int64_t stream_id) override { last_sequence_.erase(stream_id); }
  void Readout(bool monitors, LearnerReadout* readout) override {
    SpoReadout(*state_, monitors, readout);
    if (learner_->updates() > 0) ppo::ReadoutUpdate(info_, readout);
  }

 private:
  struct Group {
    std::vector<ppo::Unroll> episodes;
    std::vector<Trajectory> trajectories;
  };

  absl::Status Score(Group group) {
    const size_t n = group.episodes.size();
    if (state_->reward_model != nullptr) {
      // The baseline: the same queries train the reward model; the steps'
      // rewards come from it when they are learned (win rate 0 here).
      RETURN_IF_ERROR(AskRewardModel(state_.get(), std::move(group.trajectories),
                                     spo_.opponents(), spo_.queue_size()));
      for (size_t k = 0; k < n; ++k) batcher_.Add(std::move(group.episodes[k]), 0.0, false);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(std::vector<double> rates,
                     ScoreGroup(state_.get(), std::move(group.trajectories), spo_.opponents(),
                                spo_.queue_size(), /*group_first=*/true));
    for (size_t k = 0; k < n; ++k) {
      batcher_.Add(std::move(group.episodes[k]), rates[k], spo_.placement() == "spread");
    }
    return absl::OkStatus();
  }

  std::shared_ptr<SpoState> state_;
  std::unique_ptr<ppo::PpoLearner> learner_;
  const SpoJobConfig spo_;
  const int64_t env_obs_dim_, action_dim_, max_length_;
  ppo::Rollout rollout_;
  EpisodeBatcher batcher_;
  std::map<std::string, Group> groups_;  // by context, until complete
  std::map<int64_t, int64_t> last_sequence_;
  ppo::PpoUpdateInfo info_;
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
  if (spec.spo().preference().name() == "non_markovian") {
    state->constraint_threshold = spec.spo().preference().threshold();
  }
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
  const bool use_reward_model = spo.reward() == "reward_model";
  const int fit_steps = spo.reward_model_steps();
  if (use_reward_model) {
    RewardModel::MlpOptions mlp;
    mlp.hidden.assign(spo.reward_model_hidden().begin(), spo.reward_model_hidden().end());
    mlp.minibatch = spo.reward_model_minibatch();
    mlp.seed = spec.seed() + 7;
    state->reward_model = std::make_unique<RewardModel>(
        obs_dim, action_dim, env_problem.discrete ? env_problem.num_actions : 0,
        /*max_answers=*/16384, mlp);
  }
  if (spo.group_size() >= 1) {
    ASSIGN_OR_RETURN(std::unique_ptr<ppo::PpoLearner> learner,
                     ppo::PpoLearner::Create(model_problem, config, spec.seed()));
    const int64_t max_length = env_problem.time_limit > 0 ? env_problem.time_limit : 100000;
    return std::unique_ptr<JobLearner>(new GroupLearner(state, std::move(learner), config, spo,
                                                        obs_dim, action_dim, max_length));
  }

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
  hooks.before_update = [state, opponents, queue_size, use_reward_model,
                         fit_steps](ppo::Rollout* rollout) -> absl::Status {
    std::vector<Trajectory> members, queue(state->queue.begin(), state->queue.end());
    for (auto& [at, t] : state->group) members.push_back(t);
    std::fill(rollout->rewards.begin(), rollout->rewards.end(), 0.0f);
    if (use_reward_model) {
      RETURN_IF_ERROR(AskRewardModel(state.get(), std::move(members), opponents, queue_size));
      RewardModelRewards(state.get(), fit_steps, rollout);
    } else {
      ASSIGN_OR_RETURN(std::vector<double> rates,
                       ScoreGroup(state.get(), std::move(members), opponents, queue_size,
                                  /*group_first=*/false));
      for (size_t k = 0; k < rates.size(); ++k) {
        rollout->rewards[state->group[k].first] = static_cast<float>(rates[k]);
      }
    }
    state->group.clear();
    return absl::OkStatus();
  };
  hooks.readout = [state](bool monitors, LearnerReadout* readout) {
    SpoReadout(*state, monitors, readout);
  };
  return ppo::MakeUnrollLearner(spec, model_problem, config, std::move(hooks));
}

void ConfigureTable(const JobSpec& spec, TableConfig* table) {
  if (spec.spo().group_size() >= 1) table->mutable_gate()->mutable_group();
}

absl::StatusOr<std::unique_ptr<ActorWorker>> MakeWorker(const JobSpec& spec,
                                                        const WorkerOptions& options) {
  ASSIGN_OR_RETURN(ProblemSpec env_problem, JobProblem(spec));
  ppo::UnrollFlavor flavor;
  flavor.time_feature = SpoTimeFeature(spec, env_problem);
  flavor.zero_rewards = true;
  flavor.trajectories = true;
  flavor.group_size = spec.spo().group_size();
  return ppo::MakeUnrollWorker(spec, options, SpoModelProblem(spec, env_problem),
                               JobSpoPpoConfig(spec), flavor);
}

absl::StatusOr<std::unique_ptr<GreedyPolicy>> MakeGreedyPolicy(const JobSpec& spec) {
  ASSIGN_OR_RETURN(ProblemSpec env_problem, JobProblem(spec));
  return ppo::MakeUnrollGreedyPolicy(spec, SpoModelProblem(spec, env_problem),
                                     JobSpoPpoConfig(spec), SpoTimeFeature(spec, env_problem));
}

}  // namespace rlx::spo
