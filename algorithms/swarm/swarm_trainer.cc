#include "algorithms/swarm/swarm_trainer.h"

#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "algorithms/job_spec.h"
#include "algorithms/ppo/normalization.h"

namespace rlx::swarm {

ppo::PpoConfig NavigationPpoDefaults() {
  ppo::PpoConfig c;
  c.num_envs = 8;
  c.num_steps = 128;
  c.num_minibatches = 4;
  c.update_epochs = 4;
  c.learning_rate = 3e-4;
  c.gamma = 0.99;
  c.gae_lambda = 0.95;
  c.ent_coef = 0.0;
  c.init_log_std = -0.5;
  c.hidden = {64, 64};
  c.network = "gnn";
  c.normalize_rewards = false;  // the setting measured (docs/benchmarks.md, "Swarm navigation")
  return c;
}

absl::StatusOr<SwarmTrainResult> RunSwarmTraining(const SwarmTrainOptions& options) {
  const absl::Time start = absl::Now();
  ppo::PpoConfig config = options.config;
  const int envs_n = config.num_envs, agents = options.env.num_agents;
  const int64_t streams = int64_t{envs_n} * agents, t_len = config.num_steps;
  const int64_t batch = streams * t_len;
  const int64_t updates = (options.agent_steps + batch - 1) / batch;
  if (config.total_env_steps == 0) config.total_env_steps = updates * batch;
  std::vector<std::unique_ptr<NavigationEnv>> envs;
  for (int e = 0; e < envs_n; ++e) {
    absl::StatusOr<std::unique_ptr<NavigationEnv>> env = NavigationEnv::Create(options.env);
    if (!env.ok()) return env.status();
    envs.push_back(std::move(*env));
  }
  const ProblemSpec problem = ProblemFromMultiAgentSpec(envs[0]->spec());
  // The learner sees one stream per agent: a rollout of num_envs x N unrolls.
  ppo::PpoConfig learner_config = config;
  learner_config.num_envs = static_cast<int>(streams);
  absl::StatusOr<std::unique_ptr<ppo::PpoLearner>> learner =
      ppo::PpoLearner::Create(problem, learner_config, options.seed);
  if (!learner.ok()) return learner.status();
  SwarmTrainResult result;
  result.learner = std::move(*learner);
  const ppo::PpoModel& model = result.learner->model();
  const int64_t dim = model.obs_dim(), width = model.action_width();

  std::vector<ppo::RewardScaler> reward_scale(streams, ppo::RewardScaler(config.gamma, 10.0));
  std::vector<float> current(streams * dim), obs;
  std::vector<double> returns(streams, 0.0);
  for (int e = 0; e < envs_n; ++e) {
    envs[e]->Reset(options.seed + e, &obs);
    std::copy(obs.begin(), obs.end(), current.begin() + int64_t{e} * agents * dim);
  }
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ull + 29);
  ppo::ActScratch scratch;
  ppo::ActOutput act;
  MultiAgentStepResult step;
  ppo::Rollout rollout;
  rollout.Resize(streams, t_len, dim, width);
  ppo::PpoUpdateInfo info;
  for (int64_t u = 0; u < updates; ++u) {
    if (options.max_seconds > 0 &&
        absl::ToDoubleSeconds(absl::Now() - start) >= options.max_seconds) {
      break;
    }
    for (int64_t t = 0; t < t_len; ++t) {
      model.Act(current.data(), streams, /*greedy=*/false, &rng, &scratch, &act);
      for (int e = 0; e < envs_n; ++e) {
        NavigationEnv& env = *envs[e];
        const int64_t first = int64_t{e} * agents;
        if (absl::Status s = env.Step(absl::MakeConstSpan(&act.env_actions[first * width],
                                                          agents * width),
                                      &step);
            !s.ok()) {
          return s;
        }
        const bool done = step.done();
        for (int a = 0; a < agents; ++a) {
          const int64_t s = first + a, i = s * t_len + t;
          std::copy_n(&current[s * dim], dim, &rollout.observations[i * dim]);
          std::copy_n(&act.actions[s * width], width, &rollout.actions[i * width]);
          rollout.log_probs[i] = act.log_probs[s];
          rollout.values[i] = act.values[s];
          const float r = step.rewards[a];
          returns[s] += r;
          rollout.rewards[i] =
              config.normalize_rewards ? reward_scale[s].Scale(r, done) : r;
          rollout.terminated[i] = step.terminated[a];
          rollout.truncated[i] = step.truncated[a];
          if (step.truncated[a]) {
            std::copy_n(&step.observations[a * dim], dim, &rollout.final_observations[i * dim]);
          }
        }
        if (done) {
          SwarmEpisodeRecord record;
          record.agent_step = result.agent_steps + (int64_t{e} + 1) * agents;
          double success = 0, collisions = 0, ret = 0;
          for (int a = 0; a < agents; ++a) {
            success += env.stats()[a].success();
            collisions += env.stats()[a].collisions;
            ret += returns[first + a];
            returns[first + a] = 0;
          }
          record.success_rate = success / agents;
          record.collisions_per_agent = collisions / agents;
          record.mean_return = ret / agents;
          result.episodes.push_back(record);
          env.Reset(std::nullopt, &obs);
          std::copy(obs.begin(), obs.end(), current.begin() + first * dim);
        } else {
          std::copy(step.observations.begin(), step.observations.end(),
                    current.begin() + first * dim);
        }
      }
      result.agent_steps += streams;
    }
    std::copy(current.begin(), current.end(), rollout.next_observations.begin());
    const absl::Time update_start = absl::Now();
    if (absl::Status s = result.learner->Update(rollout, &info); !s.ok()) return s;
    result.update_seconds += absl::ToDoubleSeconds(absl::Now() - update_start);
    if (options.on_update) options.on_update(result.agent_steps, info);
  }
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

NavigationPolicy GreedyNavigationPolicy(const ppo::PpoModel& model) {
  auto scratch = std::make_shared<ppo::ActScratch>();
  auto out = std::make_shared<ppo::ActOutput>();
  return [&model, scratch, out](const NavigationEnv& env, const std::vector<float>& observations,
                                std::vector<float>* actions) -> absl::Status {
    const int64_t n = env.num_agents();
    if (static_cast<int64_t>(observations.size()) != n * model.obs_dim()) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy expects observations of width ", model.obs_dim(), ", env gives ",
                       observations.size() / std::max<int64_t>(n, 1)));
    }
    model.Act(observations.data(), n, /*greedy=*/true, nullptr, scratch.get(), out.get());
    *actions = out->env_actions;
    return absl::OkStatus();
  };
}

}  // namespace rlx::swarm
