#include "algorithms/ppo/ppo_config.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rlx::ppo {

PpoConfig ContinuousControlDefaults() {
  PpoConfig c;
  c.num_envs = 1;
  c.num_steps = 2048;
  c.num_minibatches = 32;
  c.update_epochs = 10;
  c.learning_rate = 3e-4;
  c.ent_coef = 0.0;
  c.normalize_observations = true;
  return c;
}

std::vector<std::string> PpoConfigErrors(const ProblemSpec& problem, const PpoConfig& c) {
  std::vector<std::string> errors;
  auto bad = [&errors](const std::string& field, const std::string& what, double got) {
    errors.push_back(absl::StrCat(field, ": ", what, ", got ", got));
  };
  auto finite_in = [&](const std::string& field, double v, double lo, double hi) {
    if (!(std::isfinite(v) && v >= lo && v <= hi)) {
      bad(field, absl::StrCat("must be in [", lo, ", ", hi, "]"), v);
    }
  };
  if (c.num_envs < 1 || c.num_envs > 4096) bad("num_envs", "must be in [1, 4096]", c.num_envs);
  if (c.num_steps < 1 || c.num_steps > 65536) bad("num_steps", "must be in [1, 65536]", c.num_steps);
  if (c.num_minibatches < 1) bad("num_minibatches", "must be >= 1", c.num_minibatches);
  if (c.update_epochs < 1 || c.update_epochs > 1000) {
    bad("update_epochs", "must be in [1, 1000]", c.update_epochs);
  }
  if (c.num_minibatches >= 1 && c.num_envs >= 1 && c.num_steps >= 1 &&
      RolloutSize(c) % c.num_minibatches != 0) {
    bad("num_minibatches", absl::StrCat("must divide num_envs * num_steps = ", RolloutSize(c)),
        c.num_minibatches);
  }
  if (!(std::isfinite(c.learning_rate) && c.learning_rate > 0 && c.learning_rate <= 1)) {
    bad("learning_rate", "must be in (0, 1]", c.learning_rate);
  }
  finite_in("gamma", c.gamma, 0, 1);
  finite_in("gae_lambda", c.gae_lambda, 0, 1);
  finite_in("clip_coef", c.clip_coef, 0, 10);
  finite_in("ent_coef", c.ent_coef, 0, 100);
  finite_in("vf_coef", c.vf_coef, 0, 100);
  if (!(std::isfinite(c.max_grad_norm) && c.max_grad_norm > 0)) {
    bad("max_grad_norm", "must be finite and > 0", c.max_grad_norm);
  }
  if (!(std::isfinite(c.adam_eps) && c.adam_eps > 0)) bad("adam_eps", "must be > 0", c.adam_eps);
  finite_in("init_log_std", c.init_log_std, -20, 5);
  for (size_t i = 0; i < c.hidden.size(); ++i) {
    if (c.hidden[i] <= 0) bad(absl::StrCat("hidden[", i, "]"), "must be > 0", static_cast<double>(c.hidden[i]));
  }
  const bool graph = c.graph_network();
  if (c.network != "mlp" && !graph) {
    errors.push_back(absl::StrCat("network: must be \"mlp\", \"gnn\", \"gnn_max\" or \"gnn_typed\", got \"",
                                  c.network, "\""));
  } else if (graph && problem.graph.empty()) {
    errors.push_back(absl::StrCat("network: \"", c.network,
                                  "\" needs an env with graph observations (a multi-agent env)"));
  } else if (graph && c.hidden.empty()) {
    errors.push_back(absl::StrCat("hidden: \"", c.network,
                                  "\" needs at least one hidden size (the message width)"));
  } else if (graph && (c.gnn_heads < 1 || c.hidden.back() % c.gnn_heads != 0)) {
    errors.push_back(absl::StrCat("gnn_heads: must be >= 1 and divide the message width hidden.back() = ",
                                  c.hidden.back(), ", got ", c.gnn_heads));
  } else if (c.network == "gnn_typed" && c.gnn_heads % 2 != 0) {
    errors.push_back(absl::StrCat("gnn_heads: \"gnn_typed\" needs an even number of heads "
                                  "(half over agents, half over LiDAR hits), got ",
                                  c.gnn_heads));
  }
  if (c.learner_backend != "auto" && c.learner_backend != "dense" &&
      c.learner_backend != "libtorch") {
    errors.push_back(absl::StrCat("learner_backend: must be \"auto\", \"dense\" or \"libtorch\", got \"",
                                  c.learner_backend.substr(0, 32), "\""));
  }
  if (c.device != "cpu" && !absl::StartsWith(c.device, "cuda")) {
    errors.push_back(
        absl::StrCat("device: must be cpu, cuda or cuda:N, got \"", c.device.substr(0, 32), "\""));
  } else if (c.device != "cpu" && c.network != "mlp") {
    errors.push_back(absl::StrCat("device: ", c.device, " runs PPO's MLP (network: \"mlp\"); network \"",
                                  c.network, "\" runs on the CPU only"));
  } else if (c.device != "cpu" && c.learner_backend == "dense") {
    errors.push_back(absl::StrCat("device: ", c.device,
                                  " needs learner_backend \"libtorch\" or \"auto\" (the dense MLP "
                                  "runs on the CPU), got \"dense\""));
  } else if (c.learner_backend == "libtorch" && c.network != "mlp") {
    errors.push_back(absl::StrCat("learner_backend: \"libtorch\" computes PPO's MLP; network \"",
                                  c.network, "\" has no LibTorch form"));
  }
  if (c.anneal_lr && c.total_env_steps <= 0) {
    errors.push_back("total_env_steps: anneal_lr needs the job's length (stop.max_env_steps)");
  }
  if (problem.discrete && problem.num_actions < 2) {
    errors.push_back("env: PPO needs at least 2 discrete actions");
  }
  return errors;
}

}  // namespace rlx::ppo
