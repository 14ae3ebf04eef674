#include "algorithms/swarm/runtime.h"

#include <random>
#include <string>
#include <vector>

#include "algorithms/job_spec.h"
#include "algorithms/ppo/job_config.h"
#include "algorithms/ppo/normalization.h"
#include "algorithms/ppo/ppo_model.h"
#include "algorithms/ppo/runtime.h"
#include "algorithms/ppo/unroll_codec.h"
#include "core/status_macros.h"
#include "envs/multi_agent_registry.h"

namespace rlx::swarm {
namespace {

class Worker : public ActorWorker {
 public:
  Worker(const JobSpec& spec, const WorkerOptions& options, const ProblemSpec& problem,
         const ppo::PpoConfig& config, std::vector<std::unique_ptr<MultiAgentEnv>> envs)
      : job_(options.job_name),
        streams_(options.stream_ids),
        config_(config),
        model_(problem, config, spec.seed()),
        envs_(std::move(envs)),
        agents_(envs_[0]->spec().num_agents),
        rng_(ppo::WorkerSeed(spec.seed(), streams_[0]) * 0x9E3779B97F4A7C15ull + 29) {
    const int64_t e_n = static_cast<int64_t>(envs_.size());
    dim_ = model_.obs_dim();
    width_ = model_.action_width();
    const int64_t total = e_n * agents_;
    unrolls_.resize(total);
    for (ppo::Unroll& u : unrolls_) u.Resize(config_.num_steps, dim_, width_);
    reward_scale_.assign(total, ppo::RewardScaler(config_.gamma, 10.0));
    returns_.assign(total, 0.0);
    episode_id_.assign(e_n, 0);
    step_index_.assign(e_n, 0);
    unroll_episode_.assign(e_n, 0);
    unroll_step_.assign(e_n, 0);
    sequence_.assign(e_n, 0);
    current_.resize(total * dim_);
    const uint64_t base = ppo::WorkerSeed(spec.seed(), streams_[0]);
    for (int64_t e = 0; e < e_n; ++e) {
      envs_[e]->Reset(base + e, &obs_);
      std::copy(obs_.begin(), obs_.end(), current_.begin() + e * agents_ * dim_);
    }
  }

  int num_groups() const override { return 1; }

  absl::Status SetParameters(const StateDict& parameters, int64_t version) override {
    RETURN_IF_ERROR(ppo::LoadParameters(parameters, &model_));
    version_ = version;
    return absl::OkStatus();
  }

  absl::Status Step(int /*group*/, std::vector<Item>* items, WorkerStep* step) override {
    const int64_t e_n = static_cast<int64_t>(envs_.size()), total = e_n * agents_;
    const int64_t t = t_;
    if (t == 0) unroll_version_ = version_;
    step->policy_version = version_;
    model_.Act(current_.data(), total, /*greedy=*/false, &rng_, &scratch_, &act_);
    for (int64_t e = 0; e < e_n; ++e) {
      const int64_t first = e * agents_;
      RETURN_IF_ERROR(envs_[e]->Step(
          absl::MakeConstSpan(&act_.env_actions[first * width_], agents_ * width_), &result_));
      if (t == 0) {
        unroll_episode_[e] = episode_id_[e];
        unroll_step_[e] = step_index_[e];
      }
      const bool done = result_.done();
      for (int64_t a = 0; a < agents_; ++a) {
        const int64_t s = first + a;
        ppo::Unroll& u = unrolls_[s];
        std::copy_n(&current_[s * dim_], dim_, &u.observations[t * dim_]);
        std::copy_n(&act_.actions[s * width_], width_, &u.actions[t * width_]);
        u.log_probs[t] = act_.log_probs[s];
        u.values[t] = act_.values[s];
        const float r = result_.rewards[a];
        returns_[s] += r;
        u.rewards[t] = config_.normalize_rewards ? reward_scale_[s].Scale(r, done) : r;
        u.terminated[t] = result_.terminated[a];
        u.truncated[t] = result_.truncated[a];
        u.episode_returns[t] = done ? static_cast<float>(returns_[s]) : 0.0f;
        if (result_.truncated[a]) {
          std::copy_n(&result_.observations[a * dim_], dim_, &u.final_observations[t * dim_]);
        } else {
          std::fill_n(&u.final_observations[t * dim_], dim_, 0.0f);
        }
        if (done) {
          step->episode_returns.push_back(returns_[s]);
          returns_[s] = 0;
        }
      }
      if (done) {
        envs_[e]->Reset(std::nullopt, &obs_);
        std::copy(obs_.begin(), obs_.end(), current_.begin() + first * dim_);
        ++episode_id_[e];
        step_index_[e] = 0;
      } else {
        std::copy(result_.observations.begin(), result_.observations.end(),
                  current_.begin() + first * dim_);
        ++step_index_[e];
      }
    }
    step->env_steps += total;
    if (++t_ < config_.num_steps) return absl::OkStatus();
    t_ = 0;
    for (int64_t e = 0; e < e_n; ++e) {
      for (int64_t a = 0; a < agents_; ++a) {
        const int64_t s = e * agents_ + a;
        ppo::Unroll& u = unrolls_[s];
        std::copy_n(&current_[s * dim_], dim_, u.next_observation.begin());
        ItemMetadata metadata;
        metadata.set_job_id(job_);
        metadata.set_actor_id(streams_[e]);
        metadata.set_episode_id(unroll_episode_[e]);
        metadata.set_step_index(unroll_step_[e]);
        metadata.set_policy_version(unroll_version_);
        metadata.set_agent_id(static_cast<int32_t>(a));
        metadata.set_sequence(sequence_[e] * agents_ + a);
        items->push_back(ppo::EncodeUnroll(u, metadata));
      }
      ++sequence_[e];
    }
    return absl::OkStatus();
  }

 private:
  const std::string job_;
  const std::vector<int64_t> streams_;
  const ppo::PpoConfig config_;
  ppo::PpoModel model_;
  std::vector<std::unique_ptr<MultiAgentEnv>> envs_;
  const int64_t agents_;
  std::mt19937_64 rng_;
  int64_t dim_ = 0, width_ = 0;
  int64_t version_ = -1, unroll_version_ = -1;
  int64_t t_ = 0;
  std::vector<ppo::Unroll> unrolls_;                 // per agent stream
  std::vector<ppo::RewardScaler> reward_scale_;      // per agent stream
  std::vector<double> returns_;                      // per agent stream
  std::vector<int64_t> episode_id_, step_index_, unroll_episode_, unroll_step_, sequence_;  // per env
  std::vector<float> current_, obs_;
  ppo::ActScratch scratch_;
  ppo::ActOutput act_;
  MultiAgentStepResult result_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ActorWorker>> MakeWorker(const JobSpec& spec,
                                                        const WorkerOptions& options) {
  if (options.stream_ids.empty()) return absl::InvalidArgumentError("no streams");
  ASSIGN_OR_RETURN(ProblemSpec problem, JobProblem(spec));
  std::vector<std::unique_ptr<MultiAgentEnv>> envs;
  for (size_t i = 0; i < options.stream_ids.size(); ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<MultiAgentEnv> env,
                     MakeMultiAgentEnv(spec.env(), spec.env_options()));
    envs.push_back(std::move(env));
  }
  return std::unique_ptr<ActorWorker>(
      new Worker(spec, options, problem, ppo::JobPpoConfig(spec), std::move(envs)));
}

}  // namespace rlx::swarm
