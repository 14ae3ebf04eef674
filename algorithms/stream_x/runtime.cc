#include "algorithms/stream_x/runtime.h"

#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "algorithms/job_spec.h"
#include "algorithms/monitors.h"
#include "algorithms/seeds.h"
#include "algorithms/stream_x/actor.h"
#include "algorithms/stream_x/job_config.h"
#include "algorithms/stream_x/learner.h"
#include "algorithms/stream_x/transition_codec.h"
#include "core/status_macros.h"
#include "envs/registry.h"

namespace rlx::stream_x {
namespace {

class Learner : public JobLearner {
 public:
  explicit Learner(std::unique_ptr<StreamLearner> learner) : learner_(std::move(learner)) {}

  absl::Status Consume(const Item& item, ItemOutcome* outcome) override {
    *outcome = ItemOutcome();
    ASSIGN_OR_RETURN(Transition transition, DecodeTransition(item));
    const int64_t stream_id = item.metadata().actor_id();
    auto it = streams_.find(stream_id);
    if (it == streams_.end()) it = streams_.emplace(stream_id, learner_->NewStream()).first;
    StreamState& stream = it->second;
    // Actors resend unacknowledged items after a replay outage (at least
    // once): an item not after the stream's last one is a duplicate.
    const std::pair<int64_t, int64_t> position{item.metadata().episode_id(),
                                               item.metadata().step_index()};
    auto last = last_position_.find(stream_id);
    if (!transition.episode_start && last != last_position_.end() && position <= last->second) {
      return absl::OkStatus();
    }
    // The stream's episode began before a learner restart: wait for its next one.
    if (!transition.episode_start && !stream.in_episode) return absl::OkStatus();
    RETURN_IF_ERROR(learner_->Learn(transition, &stream));
    outcome->used = outcome->learned = true;
    last_position_[stream_id] = position;
    action_diversity_.Add(transition.action, learner_->problem().discrete);
    if (learner_->steps() % 16 == 0) {
      recent_inputs_.push_back(stream.observation);
      if (recent_inputs_.size() > 256) recent_inputs_.pop_front();
    }
    if (transition.done()) {
      outcome->episodes_ended = 1;
      if (item.metadata().has_episode_return()) {
        outcome->episode_returns.push_back(item.metadata().episode_return());
      }
    }
    return absl::OkStatus();
  }

  int64_t steps() const override { return learner_->steps(); }

  void Parameters(StateDict* dict) const override {
    PolicySnapshot snapshot;
    learner_->GetSnapshot(&snapshot);
    SaveSnapshot(snapshot, dict);
  }

  void SaveState(StateDict* dict) const override {
    learner_->SaveState(dict);
    // For inspection: a resume starts every stream afresh (actors lease again).
    for (const auto& [id, stream] : streams_) {
      learner_->SaveStream(stream, absl::StrCat("stream/", id, "/"), dict);
    }
  }

  absl::Status RestoreState(const StateDict& dict) override { return learner_->RestoreState(dict); }

  void DropStream(int64_t stream_id) override {
    streams_.erase(stream_id);
    last_position_.erase(stream_id);
  }

  void Readout(bool monitors, LearnerReadout* readout) override {
    const LearnInfo& info = learner_->last_info();
    readout->td_error = std::abs(info.delta);
    readout->policy_entropy = info.entropy;
    if (!monitors) return;
    readout->action_entropy = action_diversity_.entropy();
    readout->distinct_actions = action_diversity_.distinct();
    const std::vector<std::vector<float>> inputs(recent_inputs_.begin(), recent_inputs_.end());
    for (int n = 0; n < learner_->num_networks(); ++n) {
      const Network& net = learner_->network(n);
      if (!inputs.empty() && static_cast<int64_t>(inputs[0].size()) != net.input_dim()) continue;
      readout->dormant_ratio.emplace_back(learner_->network_name(n), DormantRatio(net, inputs));
    }
  }

 private:
  std::unique_ptr<StreamLearner> learner_;
  std::map<int64_t, StreamState> streams_;
  // Per stream: (episode id, step index) of the last learned item.
  std::map<int64_t, std::pair<int64_t, int64_t>> last_position_;
  // Exploration monitors: recent network inputs and actions.
  std::deque<std::vector<float>> recent_inputs_;
  ActionDiversity action_diversity_;
};

// One env per stream, one stream per group.
class Worker : public ActorWorker {
 public:
  struct Slot {
    int64_t id = 0;
    std::unique_ptr<Env> env;
    std::unique_ptr<StreamActor> actor;
    int64_t synced_version = -1;
    bool first_reset = true;
    bool needs_reset = true;
    int64_t episode_id = -1;
    int64_t step_index = 0;
    int64_t sequence = 0;
    double episode_return = 0;
    Transition transition;
    StepResult result;
    ActorAction action;
  };

  Worker(JobSpec spec, std::string job, std::vector<Slot> slots)
      : spec_(std::move(spec)), job_(std::move(job)), slots_(std::move(slots)) {}

  int num_groups() const override { return static_cast<int>(slots_.size()); }

  absl::Status SetParameters(const StateDict& parameters, int64_t version) override {
    RETURN_IF_ERROR(LoadSnapshot(parameters, &snapshot_));
    snapshot_version_ = version;
    return absl::OkStatus();
  }

  absl::Status Step(int group, std::vector<Item>* items, WorkerStep* step) override {
    Slot& slot = slots_[group];
    if (snapshot_version_ > slot.synced_version) {
      RETURN_IF_ERROR(slot.actor->Sync(snapshot_));
      slot.synced_version = snapshot_version_;
    }
    step->policy_version = slot.synced_version;
    Transition& t = slot.transition;
    if (slot.needs_reset) {
      std::optional<uint64_t> seed;
      if (slot.first_reset) seed = StreamEnvSeed(spec_.seed(), slot.id);
      slot.first_reset = false;
      slot.env->Reset(seed, &t.observation);
      slot.actor->Observe(t.observation, /*episode_start=*/true);
      t.episode_start = true;
      slot.needs_reset = false;
      ++slot.episode_id;
      slot.step_index = 0;
      slot.episode_return = 0;
    }
    RETURN_IF_ERROR(slot.actor->Act(/*greedy=*/false, &slot.action));
    RETURN_IF_ERROR(slot.env->Step(slot.action.env_action, &slot.result));
    const StepResult& r = slot.result;
    slot.actor->Observe(r.observation, /*episode_start=*/false);
    t.action = slot.action.action;
    t.reward = r.reward;
    t.next_observation = r.observation;
    t.terminated = r.terminated;
    t.truncated = r.truncated;
    slot.episode_return += r.reward;

    ItemMetadata metadata;
    metadata.set_job_id(job_);
    metadata.set_actor_id(slot.id);
    metadata.set_episode_id(slot.episode_id);
    metadata.set_step_index(slot.step_index);
    metadata.set_policy_version(slot.synced_version);
    metadata.set_num_steps(1);
    metadata.set_sequence(slot.sequence++);
    if (r.done()) metadata.set_episode_return(slot.episode_return);
    items->push_back(EncodeTransition(t, metadata));
    ++slot.step_index;
    ++step->env_steps;
    if (r.done()) {
      slot.needs_reset = true;
      step->episode_returns.push_back(slot.episode_return);
    } else {
      t.episode_start = false;  // o_{t+1} lives on in the learner's stream state
    }
    return absl::OkStatus();
  }

 private:
  const JobSpec spec_;
  const std::string job_;
  std::vector<Slot> slots_;
  PolicySnapshot snapshot_;
  int64_t snapshot_version_ = -1;
};

class Greedy : public GreedyPolicy {
 public:
  explicit Greedy(std::unique_ptr<StreamActor> actor) : actor_(std::move(actor)) {}

  absl::Status SetParameters(const StateDict& parameters) override {
    PolicySnapshot snapshot;
    RETURN_IF_ERROR(LoadSnapshot(parameters, &snapshot));
    RETURN_IF_ERROR(actor_->Sync(snapshot));
    actor_->set_update_statistics(false);
    return absl::OkStatus();
  }

  absl::Status Act(absl::Span<const float> observation, bool episode_start,
                   std::vector<float>* env_action) override {
    actor_->Observe(observation, episode_start);
    RETURN_IF_ERROR(actor_->Act(/*greedy=*/true, &action_));
    *env_action = action_.env_action;
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<StreamActor> actor_;
  ActorAction action_;
};

// The job's problem as training sees it (the episode limit of the config).
absl::StatusOr<ProblemSpec> TrainingProblem(const JobSpec& spec, const StreamConfig& config) {
  ASSIGN_OR_RETURN(ProblemSpec problem, JobProblem(spec));
  return WithEpisodeLimit(std::move(problem), config);
}

}  // namespace

absl::StatusOr<std::unique_ptr<JobLearner>> MakeLearner(const JobSpec& spec,
                                                        const LearnerContext& /*context*/) {
  ASSIGN_OR_RETURN(StreamConfig config, JobStreamConfig(spec));
  ASSIGN_OR_RETURN(ProblemSpec problem, TrainingProblem(spec, config));
  ASSIGN_OR_RETURN(std::unique_ptr<StreamLearner> learner,
                   StreamLearner::Create(problem, config, spec.seed()));
  return std::unique_ptr<JobLearner>(new Learner(std::move(learner)));
}

absl::StatusOr<std::unique_ptr<ActorWorker>> MakeWorker(const JobSpec& spec,
                                                        const WorkerOptions& options) {
  ASSIGN_OR_RETURN(StreamConfig config, JobStreamConfig(spec));
  ASSIGN_OR_RETURN(ProblemSpec problem, TrainingProblem(spec, config));
  std::vector<Worker::Slot> slots(options.stream_ids.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    Worker::Slot& slot = slots[i];
    slot.id = options.stream_ids[i];
    ASSIGN_OR_RETURN(slot.env, MakeTrainingEnv(spec.env(), config));
    // Stream s acts with StreamActorSeed(seed, s); its env's first reset is
    // StreamEnvSeed(seed, s): stream 0 acts exactly like stream_train.
    ASSIGN_OR_RETURN(slot.actor,
                     StreamActor::Create(problem, config, StreamActorSeed(spec.seed(), slot.id)));
  }
  return std::unique_ptr<ActorWorker>(new Worker(spec, options.job_name, std::move(slots)));
}

absl::StatusOr<std::unique_ptr<GreedyPolicy>> MakeGreedyPolicy(const JobSpec& spec) {
  ASSIGN_OR_RETURN(StreamConfig config, JobStreamConfig(spec));
  ASSIGN_OR_RETURN(ProblemSpec problem, TrainingProblem(spec, config));
  ASSIGN_OR_RETURN(std::unique_ptr<StreamActor> actor,
                   StreamActor::Create(problem, config, DeriveSeed(EvalSeedBase(spec), kEvalSeedTag)));
  return std::unique_ptr<GreedyPolicy>(new Greedy(std::move(actor)));
}

}  // namespace rlx::stream_x
