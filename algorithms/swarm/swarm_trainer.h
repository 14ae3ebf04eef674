// The in-process multi-agent trainer: PPO with one set of parameters shared
// by every agent (docs/algorithms.md, "Swarm navigation"). num_envs
// Navigation-v0 envs of N agents step together; every agent is a stream, so
// one rollout is num_envs x N unrolls of num_steps steps, acted with one
// batched forward pass per step over all agents of all envs, and learned by
// PpoLearner (config.network "gnn": the graph policy; "mlp": the K-nearest
// baseline over the same zero-padded observation).
//
// Env i is reset with seed `seed + i` and continues its generator after;
// acting draws from a generator seeded from `seed`. Blocking; not
// thread-safe.
#ifndef RLX_ALGORITHMS_SWARM_SWARM_TRAINER_H_
#define RLX_ALGORITHMS_SWARM_SWARM_TRAINER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "algorithms/ppo/ppo_learner.h"
#include "envs/navigation.h"
#include "envs/navigation_eval.h"

namespace rlx::swarm {

// PPO settings the navigation jobs start from (chosen by measurement;
// docs/benchmarks.md): 8 envs x 128 steps, 4 minibatches x 4 epochs,
// lr 3e-4, gamma 0.99, GAE 0.95, no entropy bonus, log std -0.5, the GNN
// with hidden {64, 64}.
ppo::PpoConfig NavigationPpoDefaults();

struct SwarmTrainOptions {
  NavigationConfig env;
  ppo::PpoConfig config = NavigationPpoDefaults();  // total_env_steps set from agent_steps when 0
  int64_t agent_steps = 2'000'000;  // rounded up to whole rollouts
  double max_seconds = 0;           // > 0: also stop after this much wall time
  uint64_t seed = 1;
  // After every update: agent steps so far and the update's figures (may be null).
  std::function<void(int64_t agent_steps, const ppo::PpoUpdateInfo&)> on_update;
};

// One ended training episode.
struct SwarmEpisodeRecord {
  int64_t agent_step = 0;      // agent steps taken (all envs) when it ended
  double success_rate = 0;     // of its agents
  double collisions_per_agent = 0;
  double mean_return = 0;      // per agent
};

struct SwarmTrainResult {
  std::vector<SwarmEpisodeRecord> episodes;
  int64_t agent_steps = 0;
  double seconds = 0, update_seconds = 0;
  std::unique_ptr<ppo::PpoLearner> learner;
};

absl::StatusOr<SwarmTrainResult> RunSwarmTraining(const SwarmTrainOptions& options);

// The greedy policy (the Gaussian's mean, clipped to the force box) of
// `model` as a NavigationPolicy for EvaluateNavigation. The model's graph
// layout must match the env's observation width.
NavigationPolicy GreedyNavigationPolicy(const ppo::PpoModel& model);

}  // namespace rlx::swarm

#endif  // RLX_ALGORITHMS_SWARM_SWARM_TRAINER_H_
