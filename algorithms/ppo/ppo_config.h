// PPO's hyperparameters and problem description (docs/algorithms.md, "PPO").
// Defaults are CleanRL's ppo.py (discrete actions) with one addition, reward
// scaling (normalize_rewards, below); Gaussian jobs usually
// take ppo_continuous_action.py's values (jobs/pendulum_ppo.textproto).
// Torch-free; PpoConfigErrors is the one place that checks the values.
#ifndef RLX_ALGORITHMS_PPO_PPO_CONFIG_H_
#define RLX_ALGORITHMS_PPO_PPO_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "algorithms/stream_x/config.h"

namespace rlx::ppo {

struct PpoConfig {
  int num_envs = 4;           // envs stepped together (in-process) / per actor
  int num_steps = 128;        // steps per env per rollout (the unroll length T)
  int num_minibatches = 4;
  int update_epochs = 4;
  double learning_rate = 2.5e-4;
  bool anneal_lr = true;      // linearly to 0 over total_env_steps
  double gamma = 0.99;
  double gae_lambda = 0.95;
  bool normalize_advantages = true;
  double clip_coef = 0.2;
  bool clip_value_loss = true;
  double ent_coef = 0.01;
  double vf_coef = 0.5;
  double max_grad_norm = 0.5;
  double adam_eps = 1e-5;
  std::vector<int64_t> hidden = {64, 64};
  // "mlp": DenseMlp actor and critic over the flat observation. "gnn": a
  // GraphNet each (models/graph_net.h) over the problem's graph layout: the
  // message MLP has hidden[0..n-2] hidden layers and hidden.back() outputs,
  // the update MLP has `hidden` hidden layers. "gnn_max": the same with a
  // max-pool channel beside the attention average (GraphNetSpec::max_pool).
  // "gnn_typed": heads by node type, half over other agents, half over
  // LiDAR hits (GraphNetSpec::typed_heads; gnn_heads must be even).
  std::string network = "mlp";
  bool graph_network() const {
    return network == "gnn" || network == "gnn_max" || network == "gnn_typed";
  }
  int gnn_heads = 1;  // graph networks: attention heads (GraphNetSpec::heads)
  // The learner's device: "cpu", or "cuda" / "cuda:N" (JobSpec.device),
  // where the learner's actor and critic passes run ("mlp" only; the policy
  // head, the losses and Adam stay on the host).
  std::string device = "cpu";
  // What computes the learner's MLP: "dense" (models/dense_mlp.h, BLAS on
  // the host), "libtorch" (models/torch_batch_mlp.h on `device`, the same
  // network and parameter layout), or "auto" (libtorch off the CPU, dense on
  // it). Actors and the evaluator always act with the dense MLP.
  std::string learner_backend = "auto";
  bool learner_on_libtorch() const {
    return learner_backend == "libtorch" || (learner_backend == "auto" && device != "cpu");
  }
  double init_log_std = 0.0;  // Gaussian policies: state-independent log std
  // Running mean/var normalisation of observations (clipped to +-10) and
  // scaling of rewards by the std of the discounted return (clipped to
  // +-10), per env, as CleanRL's continuous-action wrappers do. Reward
  // scaling is on by default, a departure from CleanRL's ppo.py: the value
  // clip (clip_coef on V's change) assumes returns of order 1, and on raw
  // CartPole returns (~100) it holds the critic back; with scaling CartPole
  // is solved 2.4x and Acrobot 6x sooner (docs/benchmarks.md, "PPO",
  // "Reward scaling"). false: raw rewards, as ppo.py.
  bool normalize_observations = false;
  bool normalize_rewards = true;
  // true: a truncation (time limit) bootstraps from the value of the final
  // observation; false: it ends the return like a termination (CleanRL's
  // ppo.py, which passes `terminated or truncated` as done).
  bool bootstrap_on_truncation = true;
  // APPO: correct the policy lag with V-trace (rho_bar = c_bar = 1) instead
  // of GAE; actors keep acting while the learner trains.
  bool vtrace = false;
  int64_t total_env_steps = 0;  // for the learning-rate schedule
};

// CleanRL ppo_continuous_action.py's settings for continuous control: 1 env
// x 2048 steps, 32 minibatches x 10 epochs, lr 3e-4, no entropy bonus,
// observation and reward normalisation (the rest as PpoConfig's defaults).
PpoConfig ContinuousControlDefaults();

// Every value out of range, one "field: what, got value" each (empty when valid).
std::vector<std::string> PpoConfigErrors(const ProblemSpec& problem, const PpoConfig& config);

// Env steps per rollout (num_envs * num_steps) and per minibatch.
inline int64_t RolloutSize(const PpoConfig& c) { return int64_t{c.num_envs} * c.num_steps; }

}  // namespace rlx::ppo

#endif  // RLX_ALGORITHMS_PPO_PPO_CONFIG_H_
