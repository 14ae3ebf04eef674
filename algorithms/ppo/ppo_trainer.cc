#include "algorithms/ppo/ppo_trainer.h"

#include <cmath>
#include <deque>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "algorithms/ppo/normalization.h"
#include "envs/vector_env.h"
#include "algorithms/job_spec.h"

namespace rlx::ppo {

int64_t SolvedAt(const std::vector<EpisodeRecord>& episodes, double threshold, int window) {
  std::deque<double> last;
  double sum = 0;
  for (const EpisodeRecord& e : episodes) {
    last.push_back(e.episode_return);
    sum += e.episode_return;
    if (static_cast<int>(last.size()) > window) {
      sum -= last.front();
      last.pop_front();
    }
    if (static_cast<int>(last.size()) == window && sum / window >= threshold) return e.env_step;
  }
  return -1;
}

absl::StatusOr<PpoTrainResult> RunPpoTraining(const PpoTrainOptions& options) {
  const absl::Time start = absl::Now();
  PpoConfig config = options.config;
  const int64_t batch = RolloutSize(config);
  const int64_t updates = (options.steps + batch - 1) / batch;
  if (config.total_env_steps == 0) config.total_env_steps = updates * batch;
  absl::StatusOr<VectorEnv> venv = VectorEnv::Create(options.env_name, config.num_envs);
  if (!venv.ok()) return venv.status();
  absl::StatusOr<ProblemSpec> problem = ProblemFromEnvSpec(venv->spec());
  if (!problem.ok()) return problem.status();
  absl::StatusOr<std::unique_ptr<PpoLearner>> learner =
      PpoLearner::Create(*problem, config, options.seed);
  if (!learner.ok()) return learner.status();
  PpoTrainResult result;
  result.learner = std::move(*learner);
  // With the learner's MLP on LibTorch (a device), act as actors do: with a
  // host copy on the dense MLP (the same layout), refreshed after every
  // update, instead of a device round trip per env step.
  std::unique_ptr<PpoModel> host_model;
  auto refresh_host_model = [&] {
    return host_model == nullptr ? absl::OkStatus()
                                 : host_model->SetParameters(result.learner->model().GetParameters());
  };
  if (config.learner_on_libtorch()) {
    host_model = std::make_unique<PpoModel>(*problem, config, options.seed);
    if (absl::Status s = refresh_host_model(); !s.ok()) return s;
  }
  const PpoModel& model = host_model != nullptr ? *host_model : result.learner->model();
  const int64_t n = config.num_envs, t_len = config.num_steps;
  const int64_t dim = model.obs_dim(), width = model.action_width();

  std::vector<ObservationNormalizer> obs_norm;
  std::vector<RewardScaler> reward_scale;
  for (int64_t i = 0; i < n; ++i) {
    obs_norm.emplace_back(dim, 10.0);
    reward_scale.emplace_back(config.gamma, 10.0);
  }
  auto observe = [&](int64_t env, const std::vector<float>& raw, float* out) {
    if (config.normalize_observations) {
      obs_norm[env].Normalize(raw, out);
    } else {
      std::copy(raw.begin(), raw.end(), out);
    }
  };

  venv->Reset(options.seed);
  std::vector<float> current(n * dim);  // the model's view of each env's observation
  for (int64_t i = 0; i < n; ++i) observe(i, venv->observation(static_cast<int>(i)), &current[i * dim]);
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ull + 17);
  ActScratch scratch;
  ActOutput act;
  std::vector<VectorStepResult> results;
  Rollout rollout;
  rollout.Resize(n, t_len, dim, width);
  PpoUpdateInfo info;
  for (int64_t u = 0; u < updates; ++u) {
    for (int64_t t = 0; t < t_len; ++t) {
      model.Act(current.data(), n, /*greedy=*/false, &rng, &scratch, &act);
      if (absl::Status s = venv->Step(act.env_actions, &results); !s.ok()) return s;
      result.env_steps += n;
      for (int64_t e = 0; e < n; ++e) {
        const int64_t i = e * t_len + t;
        std::copy_n(&current[e * dim], dim, &rollout.observations[i * dim]);
        std::copy_n(&act.actions[e * width], width, &rollout.actions[i * width]);
        rollout.log_probs[i] = act.log_probs[e];
        rollout.values[i] = act.values[e];
        const VectorStepResult& r = results[e];
        rollout.rewards[i] = config.normalize_rewards
                                 ? reward_scale[e].Scale(r.reward, r.done())
                                 : static_cast<float>(r.reward);
        rollout.terminated[i] = r.terminated;
        rollout.truncated[i] = r.truncated;
        if (r.truncated) observe(e, r.final_observation, &rollout.final_observations[i * dim]);
        if (r.done()) {
          result.episodes.push_back({result.env_steps, r.episode_return, r.episode_length});
        }
        observe(e, r.observation, &current[e * dim]);
      }
    }
    std::copy(current.begin(), current.end(), rollout.next_observations.begin());
    if (options.before_update) options.before_update(rollout, result.learner.get());
    const absl::Time update_start = absl::Now();
    if (absl::Status s = result.learner->Update(rollout, &info); !s.ok()) return s;
    if (absl::Status s = refresh_host_model(); !s.ok()) return s;
    result.update_seconds += absl::ToDoubleSeconds(absl::Now() - update_start);
    if (options.on_update) options.on_update(result.env_steps, info);
  }
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

}  // namespace rlx::ppo
