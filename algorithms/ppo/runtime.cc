#include "algorithms/ppo/runtime.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "algorithms/job_spec.h"
#include "algorithms/ppo/job_config.h"
#include "algorithms/ppo/normalization.h"
#include "algorithms/ppo/ppo_learner.h"
#include "algorithms/ppo/ppo_model.h"
#include "algorithms/ppo/unroll_codec.h"
#include "algorithms/seeds.h"
#include "algorithms/trajectory_codec.h"
#include "core/status_macros.h"
#include "envs/vector_env.h"

namespace rlx::ppo {
namespace {

constexpr char kParameters[] = "ppo/parameters";
// The actors' merged observation statistics (RunningStats::Pack), present
// when the job normalises observations.
constexpr char kObservationStats[] = "ppo/observation_stats";

class Learner : public JobLearner {
 public:
  Learner(const PpoConfig& config, std::unique_ptr<PpoLearner> learner, UnrollLearnerHooks hooks)
      : config_(config), learner_(std::move(learner)), hooks_(std::move(hooks)) {
    const PpoModel& m = learner_->model();
    rollout_.Resize(config_.num_envs, config_.num_steps, m.obs_dim(), m.action_width());
  }

  absl::Status Consume(const Item& item, ItemOutcome* outcome) override {
    *outcome = ItemOutcome();
    const PpoModel& m = learner_->model();
    ASSIGN_OR_RETURN(Unroll unroll,
                     DecodeUnroll(item, config_.num_steps, m.obs_dim(), m.action_width()));
    const int64_t stream = item.metadata().actor_id();
    const int64_t sequence = item.metadata().sequence();
    auto last = last_sequence_.find(stream);
    if (last != last_sequence_.end() && sequence <= last->second) return absl::OkStatus();
    last_sequence_[stream] = sequence;
    outcome->used = true;
    for (int64_t t = 0; t < unroll.length; ++t) {
      if (unroll.terminated[t] || unroll.truncated[t]) {
        ++outcome->episodes_ended;
        outcome->episode_returns.push_back(unroll.episode_returns[t]);
      }
    }
    if (config_.normalize_observations) obs_stats_[stream].Unpack(unroll.obs_stats);
    if (hooks_.on_unroll) RETURN_IF_ERROR(hooks_.on_unroll(item, filled_));
    CopyUnrollInto(unroll, filled_++, &rollout_);
    if (filled_ < rollout_.num_unrolls) return absl::OkStatus();
    filled_ = 0;
    if (hooks_.before_update) RETURN_IF_ERROR(hooks_.before_update(&rollout_));
    RETURN_IF_ERROR(learner_->Update(rollout_, &info_));
    outcome->learned = true;
    return absl::OkStatus();
  }

  int64_t steps() const override { return learner_->env_steps(); }
  // An update learns every step of the rollout (PpoLearner::Update).
  int64_t steps_per_update() const override {
    return std::max<int64_t>(1, rollout_.num_unrolls * config_.num_steps);
  }

  void Parameters(StateDict* dict) const override {
    SaveParameters(learner_->model(), dict);
    if (config_.normalize_observations && !obs_stats_.empty()) {
      std::vector<RunningStats> parts;
      for (const auto& [stream, stats] : obs_stats_) parts.push_back(stats);
      AddFloats(dict, kObservationStats, RunningStats::Merge(parts).Pack());
    }
  }

  void SaveState(StateDict* dict) const override { learner_->SaveState(dict); }
  absl::Status RestoreState(const StateDict& dict) override {
    filled_ = 0;
    return learner_->RestoreState(dict);
  }

  // A dropped stream's statistics stay in the merge until a newer stream
  // has some (the evaluator needs statistics while actors re-lease).
  void DropStream(int64_t stream_id) override {
    last_sequence_.erase(stream_id);
    if (obs_stats_.size() > 1) obs_stats_.erase(stream_id);
  }

  void Readout(bool monitors, LearnerReadout* readout) override {
    if (hooks_.readout) hooks_.readout(monitors, readout);
    if (learner_->updates() > 0) ReadoutUpdate(info_, readout);
  }

 private:
  const PpoConfig config_;
  std::unique_ptr<PpoLearner> learner_;
  const UnrollLearnerHooks hooks_;
  Rollout rollout_;
  int64_t filled_ = 0;
  std::map<int64_t, int64_t> last_sequence_;
  std::map<int64_t, RunningStats> obs_stats_;  // per stream, the newest
  PpoUpdateInfo info_;
};

}  // namespace

void SaveParameters(const PpoModel& model, StateDict* dict) {
  AddFloats(dict, kParameters, model.GetParameters());
}

void ReadoutUpdate(const PpoUpdateInfo& info, LearnerReadout* readout) {
  readout->policy_entropy = info.entropy;
  readout->policy_loss = info.policy_loss;
  readout->value_loss = info.value_loss;
  readout->approx_kl = info.approx_kl;
  readout->clip_fraction = info.clip_fraction;
  readout->explained_variance = info.explained_variance;
}

uint64_t ContextSeed(uint64_t job_seed, int64_t stream, int64_t context) {
  uint64_t h = job_seed * 0x9E3779B97F4A7C15ull;
  h ^= static_cast<uint64_t>(stream) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
  h ^= static_cast<uint64_t>(context) + 0x85EBCA77C2B2AE63ull + (h << 6) + (h >> 2);
  return h;
}

absl::Status LoadParameters(const StateDict& dict, PpoModel* model) {
  std::vector<float> flat;
  RETURN_IF_ERROR(GetFloats(dict, kParameters, model->num_parameters(), &flat));
  return model->SetParameters(flat);
}

namespace {

class Worker : public ActorWorker {
 public:
  Worker(const JobSpec& spec, const WorkerOptions& options, const ProblemSpec& problem,
         const PpoConfig& config, VectorEnv venv, const UnrollFlavor& flavor)
      : job_(options.job_name),
        streams_(options.stream_ids),
        config_(config),
        flavor_(flavor),
        model_(problem, config, spec.seed()),
        venv_(std::move(venv)),
        rng_(WorkerSeed(spec.seed(), streams_[0]) * 0x9E3779B97F4A7C15ull + 17) {
    const int64_t n = static_cast<int64_t>(streams_.size());
    dim_ = model_.obs_dim();
    env_dim_ = venv_.spec().observation_space.flat_size();
    width_ = model_.action_width();
    time_limit_ = venv_.spec().max_episode_steps;
    for (int64_t i = 0; i < n; ++i) {
      obs_norm_.emplace_back(env_dim_, 10.0);
      reward_scale_.emplace_back(config_.gamma, 10.0);
    }
    running_.resize(n);
    ended_.resize(n);
    unrolls_.resize(n);
    for (Unroll& u : unrolls_) u.Resize(config_.num_steps, dim_, width_);
    episode_id_.assign(n, 0);
    step_index_.assign(n, 0);
    unroll_episode_.assign(n, 0);
    unroll_step_.assign(n, 0);
    sequence_.assign(n, 0);
    venv_.Reset(WorkerSeed(spec.seed(), streams_[0]));
    job_seed_ = spec.seed();
    if (flavor_.group_size > 0) {
      // Context numbers restart with every assignment: the worker's own
      // nonce keeps a new assignment's contexts apart from an old one's
      // unfinished groups (still held in the table).
      worker_nonce_ =
          (static_cast<uint64_t>(std::random_device()()) << 32) ^ std::random_device()();
      flavor_.trajectories = true;
      context_.assign(n, 0);
      in_context_.assign(n, 0);
      episodes_.resize(n);
      episode_version_.assign(n, -1);
      for (int64_t i = 0; i < n; ++i) {
        venv_.ResetEnv(static_cast<int>(i), ContextSeed(job_seed_, streams_[i], 0));
        StartEpisode(i);
      }
    }
    current_.resize(n * dim_);
    for (int64_t i = 0; i < n; ++i) {
      Observe(i, venv_.observation(static_cast<int>(i)), 0, &current_[i * dim_]);
      StartTrajectory(i);
    }
  }

  int num_groups() const override { return 1; }

  absl::Status SetParameters(const StateDict& parameters, int64_t version) override {
    RETURN_IF_ERROR(LoadParameters(parameters, &model_));
    version_ = version;
    return absl::OkStatus();
  }

  absl::Status Step(int /*group*/, std::vector<Item>* items, WorkerStep* step) override {
    if (flavor_.group_size > 0) return StepEpisodes(items, step);
    const int64_t n = static_cast<int64_t>(streams_.size());
    const int64_t t = t_;
    if (t == 0) unroll_version_ = version_;
    step->policy_version = version_;
    model_.Act(current_.data(), n, /*greedy=*/false, &rng_, &scratch_, &act_);
    RETURN_IF_ERROR(venv_.Step(act_.env_actions, &results_));
    for (int64_t e = 0; e < n; ++e) {
      Unroll& u = unrolls_[e];
      if (t == 0) {
        unroll_episode_[e] = episode_id_[e];
        unroll_step_[e] = step_index_[e];
      }
      std::copy_n(&current_[e * dim_], dim_, &u.observations[t * dim_]);
      std::copy_n(&act_.actions[e * width_], width_, &u.actions[t * width_]);
      u.log_probs[t] = act_.log_probs[e];
      u.values[t] = act_.values[e];
      const VectorStepResult& r = results_[e];
      u.rewards[t] = flavor_.zero_rewards        ? 0.0f
                     : config_.normalize_rewards ? reward_scale_[e].Scale(r.reward, r.done())
                                                 : static_cast<float>(r.reward);
      u.terminated[t] = r.terminated;
      u.truncated[t] = r.truncated;
      u.episode_returns[t] = r.done() ? static_cast<float>(r.episode_return) : 0.0f;
      if (r.truncated) {
        Observe(e, r.final_observation, r.episode_length, &u.final_observations[t * dim_]);
      } else {
        std::fill_n(&u.final_observations[t * dim_], dim_, 0.0f);
      }
      if (flavor_.trajectories) {
        Trajectory& traj = running_[e];
        RecordStep(&act_.env_actions[e * width_], static_cast<int>(width_), r.reward,
                   r.done() ? r.final_observation : r.observation, &traj);
        if (r.done()) {
          traj.set_terminated(r.terminated);
          ended_[e].push_back({static_cast<int>(t), std::move(traj)});
        }
      }
      if (r.done()) {
        step->episode_returns.push_back(r.episode_return);
        ++episode_id_[e];
        step_index_[e] = 0;
        if (flavor_.trajectories) StartTrajectory(e);
      } else {
        ++step_index_[e];
      }
      Observe(e, r.observation, step_index_[e], &current_[e * dim_]);
    }
    step->env_steps += n;
    if (++t_ < config_.num_steps) return absl::OkStatus();
    t_ = 0;
    for (int64_t e = 0; e < n; ++e) {
      Unroll& u = unrolls_[e];
      std::copy_n(&current_[e * dim_], dim_, u.next_observation.begin());
      if (config_.normalize_observations) u.obs_stats = obs_norm_[e].stats().Pack();
      ItemMetadata metadata;
      metadata.set_job_id(job_);
      metadata.set_actor_id(streams_[e]);
      metadata.set_episode_id(unroll_episode_[e]);
      metadata.set_step_index(unroll_step_[e]);
      metadata.set_policy_version(unroll_version_);
      metadata.set_sequence(sequence_[e]++);
      items->push_back(EncodeUnroll(u, metadata));
      if (flavor_.trajectories) {
        AddTrajectories(ended_[e], static_cast<int>(env_dim_), static_cast<int>(width_),
                        &items->back());
        ended_[e].clear();
      }
    }
    return absl::OkStatus();
  }

 private:
  // The model's input for a raw observation `elapsed` steps into its episode.
  void Observe(int64_t env, const std::vector<float>& raw, int elapsed, float* out) {
    if (config_.normalize_observations) {
      obs_norm_[env].Normalize(raw, out);
    } else {
      std::copy(raw.begin(), raw.end(), out);
    }
    if (flavor_.time_feature > 0) {
      out[env_dim_] = TimeFeature(elapsed, time_limit_, flavor_.time_feature);
    }
  }
  void StartTrajectory(int64_t e) {
    Trajectory& t = running_[e];
    t.Clear();
    t.set_obs_dim(static_cast<int32_t>(env_dim_));
    t.set_action_dim(static_cast<int32_t>(width_));
    for (float v : venv_.observation(static_cast<int>(e))) t.add_observations(v);
  }

  // Step for episode items (flavor_.group_size > 0): each env's episode
  // grows in episodes_; when it ends it goes out as one item with its
  // context, and after group_size episodes the env moves to its next
  // context; every episode of a context starts from the context's seed.
  absl::Status StepEpisodes(std::vector<Item>* items, WorkerStep* step) {
    const int64_t n = static_cast<int64_t>(streams_.size());
    step->policy_version = version_;
    model_.Act(current_.data(), n, /*greedy=*/false, &rng_, &scratch_, &act_);
    RETURN_IF_ERROR(venv_.Step(act_.env_actions, &results_));
    for (int64_t e = 0; e < n; ++e) {
      Unroll& u = episodes_[e];
      const VectorStepResult& r = results_[e];
      if (u.length == 0) episode_version_[e] = version_;
      AppendStep(&current_[e * dim_], &act_.actions[e * width_], act_.log_probs[e], act_.values[e],
                 &u);
      Trajectory& traj = running_[e];
      RecordStep(&act_.env_actions[e * width_], static_cast<int>(width_), r.reward,
                 r.done() ? r.final_observation : r.observation, &traj);
      if (!r.done()) {
        ++step_index_[e];
        Observe(e, r.observation, step_index_[e], &current_[e * dim_]);
        continue;
      }
      traj.set_terminated(r.terminated);
      step->episode_returns.push_back(r.episode_return);
      const int64_t length = u.length;
      u.rewards.assign(length, 0.0f);
      u.episode_returns.assign(length, 0.0f);
      u.episode_returns.back() = static_cast<float>(r.episode_return);
      u.terminated.assign(length, 0);
      u.truncated.assign(length, 0);
      u.terminated.back() = r.terminated;
      u.truncated.back() = r.truncated;
      u.final_observations.assign(length * dim_, 0.0f);
      u.next_observation.assign(dim_, 0.0f);
      u.obs_stats.assign(2 * dim_ + 1, 0.0f);
      if (config_.normalize_observations) u.obs_stats = obs_norm_[e].stats().Pack();
      ItemMetadata metadata;
      metadata.set_job_id(job_);
      metadata.set_actor_id(streams_[e]);
      metadata.set_episode_id(episode_id_[e]);
      metadata.set_step_index(0);
      metadata.set_policy_version(episode_version_[e]);
      metadata.set_sequence(sequence_[e]++);
      metadata.set_context_id(
          absl::StrCat(job_, "/", streams_[e], "/", absl::Hex(worker_nonce_), "/", context_[e]));
      metadata.set_group_size(flavor_.group_size);
      items->push_back(EncodeUnroll(u, metadata));
      AddTrajectories({{static_cast<int>(length - 1), std::move(traj)}}, static_cast<int>(env_dim_),
                      static_cast<int>(width_), &items->back());
      ++episode_id_[e];
      step_index_[e] = 0;
      if (++in_context_[e] == flavor_.group_size) {
        in_context_[e] = 0;
        ++context_[e];
      }
      venv_.ResetEnv(static_cast<int>(e), ContextSeed(job_seed_, streams_[e], context_[e]));
      StartEpisode(e);
      Observe(e, venv_.observation(static_cast<int>(e)), 0, &current_[e * dim_]);
    }
    step->env_steps += n;
    return absl::OkStatus();
  }
  void StartEpisode(int64_t e) {
    Unroll& u = episodes_[e];
    u = Unroll();
    u.obs_dim = dim_;
    u.action_width = width_;
    StartTrajectory(e);
  }

  const std::string job_;
  const std::vector<int64_t> streams_;
  const PpoConfig config_;
  UnrollFlavor flavor_;
  uint64_t job_seed_ = 0, worker_nonce_ = 0;
  std::vector<int64_t> context_, in_context_;  // episode items: context number, episodes in it
  std::vector<Unroll> episodes_;               // episode items: each env's episode so far
  std::vector<int64_t> episode_version_;       // episode items: the version each began with
  PpoModel model_;
  VectorEnv venv_;
  std::mt19937_64 rng_;
  int64_t dim_ = 0, env_dim_ = 0, width_ = 0;
  int time_limit_ = 0;
  std::vector<Trajectory> running_;                   // each env's episode so far
  std::vector<std::vector<EndedTrajectory>> ended_;   // ended in the current unroll
  int64_t version_ = -1, unroll_version_ = -1;
  int64_t t_ = 0;
  std::vector<ObservationNormalizer> obs_norm_;
  std::vector<RewardScaler> reward_scale_;
  std::vector<Unroll> unrolls_;
  std::vector<int64_t> episode_id_, step_index_, unroll_episode_, unroll_step_, sequence_;
  std::vector<float> current_;
  ActScratch scratch_;
  ActOutput act_;
  std::vector<VectorStepResult> results_;
};

class Greedy : public GreedyPolicy {
 public:
  Greedy(const ProblemSpec& problem, const PpoConfig& config, uint64_t seed, int env_dim,
         int time_limit, double time_feature)
      : config_(config),
        model_(problem, config, seed),
        rng_(seed),
        env_dim_(env_dim),
        time_limit_(time_limit),
        time_feature_(time_feature),
        norm_(env_dim, 10.0) {}

  absl::Status SetParameters(const StateDict& parameters) override {
    RETURN_IF_ERROR(LoadParameters(parameters, &model_));
    if (config_.normalize_observations) {
      std::vector<float> packed;
      frozen_ = GetFloats(parameters, kObservationStats, 2 * env_dim_ + 1, &packed).ok();
      if (frozen_) {
        RunningStats stats(env_dim_);
        stats.Unpack(packed);
        norm_.set_stats(stats);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Act(absl::Span<const float> observation, bool episode_start,
                   std::vector<float>* env_action) override {
    if (episode_start) elapsed_ = 0;
    input_.resize(model_.obs_dim());
    if (config_.normalize_observations) {
      norm_.Normalize(observation, input_.data(), /*update=*/!frozen_);
    } else {
      std::copy(observation.begin(), observation.end(), input_.begin());
    }
    if (time_feature_ > 0) input_[env_dim_] = TimeFeature(elapsed_++, time_limit_, time_feature_);
    model_.Act(input_.data(), 1, /*greedy=*/true, &rng_, &scratch_, &act_);
    *env_action = act_.env_actions;
    return absl::OkStatus();
  }

  // One batched forward pass when the model takes the observations as they
  // are (multi-agent envs: no normalisation, no time feature).
  absl::Status ActBatch(absl::Span<const float> observations, int64_t count, bool episode_start,
                        std::vector<float>* env_actions) override {
    if (config_.normalize_observations || time_feature_ > 0) {
      return GreedyPolicy::ActBatch(observations, count, episode_start, env_actions);
    }
    if (count < 1 || static_cast<int64_t>(observations.size()) != count * model_.obs_dim()) {
      return absl::InvalidArgumentError(absl::StrCat("ActBatch: expected ", count, " x ",
                                                     model_.obs_dim(), " observation values, got ",
                                                     observations.size()));
    }
    model_.Act(observations.data(), count, /*greedy=*/true, &rng_, &scratch_, &act_);
    *env_actions = act_.env_actions;
    return absl::OkStatus();
  }

 private:
  const PpoConfig config_;
  PpoModel model_;
  std::mt19937_64 rng_;
  const int env_dim_, time_limit_;
  const double time_feature_;  // > 0: the time feature's scale
  int elapsed_ = 0;
  ObservationNormalizer norm_;
  bool frozen_ = false;  // statistics from the learner (else they follow the episodes)
  std::vector<float> input_;
  ActScratch scratch_;
  ActOutput act_;
};

}  // namespace

uint64_t WorkerSeed(uint64_t job_seed, int64_t first_stream) {
  return first_stream == 0 ? job_seed : DeriveSeed(job_seed, 1000 + first_stream);
}

absl::StatusOr<std::unique_ptr<JobLearner>> MakeUnrollLearner(const JobSpec& spec,
                                                              const ProblemSpec& model_problem,
                                                              const PpoConfig& config,
                                                              UnrollLearnerHooks hooks) {
  ASSIGN_OR_RETURN(std::unique_ptr<PpoLearner> learner,
                   PpoLearner::Create(model_problem, config, spec.seed()));
  return std::unique_ptr<JobLearner>(new Learner(config, std::move(learner), std::move(hooks)));
}

absl::StatusOr<std::unique_ptr<JobLearner>> MakeLearner(const JobSpec& spec,
                                                        const LearnerContext& /*context*/) {
  ASSIGN_OR_RETURN(ProblemSpec problem, JobProblem(spec));
  return MakeUnrollLearner(spec, problem, JobPpoConfig(spec), UnrollLearnerHooks());
}

absl::StatusOr<std::unique_ptr<ActorWorker>> MakeUnrollWorker(const JobSpec& spec,
                                                              const WorkerOptions& options,
                                                              const ProblemSpec& model_problem,
                                                              const PpoConfig& config,
                                                              const UnrollFlavor& flavor) {
  if (options.stream_ids.empty()) return absl::InvalidArgumentError("no streams");
  ASSIGN_OR_RETURN(VectorEnv venv,
                   VectorEnv::Create(spec.env(), static_cast<int>(options.stream_ids.size())));
  return std::unique_ptr<ActorWorker>(
      new Worker(spec, options, model_problem, config, std::move(venv), flavor));
}

absl::StatusOr<std::unique_ptr<GreedyPolicy>> MakeUnrollGreedyPolicy(
    const JobSpec& spec, const ProblemSpec& model_problem, const PpoConfig& config,
    double time_feature) {
  ASSIGN_OR_RETURN(ProblemSpec env_problem, JobProblem(spec));
  return std::unique_ptr<GreedyPolicy>(
      new Greedy(model_problem, config, DeriveSeed(EvalSeedBase(spec), kEvalSeedTag),
                 static_cast<int>(env_problem.observation_dim), env_problem.time_limit,
                 time_feature));
}

absl::StatusOr<std::unique_ptr<ActorWorker>> MakeWorker(const JobSpec& spec,
                                                        const WorkerOptions& options) {
  ASSIGN_OR_RETURN(ProblemSpec problem, JobProblem(spec));
  return MakeUnrollWorker(spec, options, problem, JobPpoConfig(spec), UnrollFlavor());
}

absl::StatusOr<std::unique_ptr<GreedyPolicy>> MakeGreedyPolicy(const JobSpec& spec) {
  ASSIGN_OR_RETURN(ProblemSpec problem, JobProblem(spec));
  return MakeUnrollGreedyPolicy(spec, problem, JobPpoConfig(spec), /*time_feature=*/0.0);
}

}  // namespace rlx::ppo
