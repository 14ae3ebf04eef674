// ppo_train: PPO (or APPO's V-trace targets) in one process, the reference the
// distributed PPO job is measured against.
//
//   ppo_train --env=CartPole-v1 --steps=500000 --seed=1
//   ppo_train --env=Pendulum-v1 --continuous_defaults --steps=1000000
//
// Prints a progress line per 10 updates and a summary (env steps/s, time in
// updates, solved-at: the first env step where the mean of the last 10
// training returns reaches --threshold, default the env's reward threshold).
#include <cstdio>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "algorithms/ppo/ppo_trainer.h"
#include "models/backends.h"
#include "envs/registry.h"
#include "core/process_setup.h"

ABSL_FLAG(std::string, env, "CartPole-v1", "Environment registry name.");
ABSL_FLAG(int64_t, steps, 500000, "Env steps (rounded up to whole rollouts).");
ABSL_FLAG(uint64_t, seed, 1, "Seed (envs: seed + i).");
ABSL_FLAG(bool, continuous_defaults, false,
          "CleanRL ppo_continuous_action.py defaults: 1 env, 2048 steps, 32 minibatches, "
          "10 epochs, lr 3e-4, ent_coef 0, observation and reward normalisation.");
ABSL_FLAG(int, num_envs, 0, "Envs (0: the defaults' 4, or 1 with --continuous_defaults).");
ABSL_FLAG(int, num_steps, 0, "Steps per env per rollout (0: default).");
ABSL_FLAG(int, num_minibatches, 0, "Minibatches per epoch (0: default).");
ABSL_FLAG(int, update_epochs, 0, "Epochs per update (0: default).");
ABSL_FLAG(double, learning_rate, 0, "Adam learning rate (0: default).");
ABSL_FLAG(double, ent_coef, -1, "Entropy coefficient (-1: default).");
ABSL_FLAG(double, vf_coef, -1, "Value loss coefficient (-1: default).");
ABSL_FLAG(double, max_grad_norm, -1, "Gradient norm clip (-1: default).");
ABSL_FLAG(double, gamma, -1, "Discount (-1: default).");
ABSL_FLAG(std::string, clip_value_loss, "",
          "true or false: the clipped value loss (empty: default).");
ABSL_FLAG(std::string, normalize_rewards, "",
          "true or false: scale rewards by the std of the discounted return (empty: default).");
ABSL_FLAG(std::string, normalize_observations, "",
          "true or false: running mean/std normalisation of observations (empty: default).");
ABSL_FLAG(std::string, hidden, "64,64", "Hidden layer sizes.");
ABSL_FLAG(bool, vtrace, false, "V-trace targets instead of GAE (APPO's correction).");
ABSL_FLAG(bool, bootstrap_on_truncation, true,
          "Bootstrap from V(final observation) at a time limit (false: end the return there, "
          "as CleanRL's ppo.py does).");
ABSL_FLAG(double, threshold, NAN, "Solved-at threshold (default: the env's reward threshold).");
ABSL_FLAG(std::string, curve, "", "If set, write 'env_step,episode_return' per episode here.");
ABSL_FLAG(bool, quiet, false, "Only the summary line.");
ABSL_FLAG(std::string, device, "cpu",
          "Where the learner's network passes run: cpu, cuda or cuda:N (a CUDA LibTorch).");
ABSL_FLAG(std::string, learner_backend, "auto",
          "The learner's MLP: dense (BLAS on the host), libtorch (on --device) or auto "
          "(libtorch off the CPU).");

int main(int argc, char** argv) {
  rlx::SetUpProcess();
  absl::SetProgramUsageMessage(
      "PPO in one process.\n  ppo_train --env=CartPole-v1 --steps=500000 --seed=1");
  absl::ParseCommandLine(argc, argv);
  rlx::SetBackendThreads(1);  // LibTorch's intra-op threads, as the learner process sets them
  using rlx::ppo::PpoConfig;
  rlx::ppo::PpoTrainOptions options;
  options.env_name = absl::GetFlag(FLAGS_env);
  options.steps = absl::GetFlag(FLAGS_steps);
  options.seed = absl::GetFlag(FLAGS_seed);
  PpoConfig& c = options.config;
  if (absl::GetFlag(FLAGS_continuous_defaults)) c = rlx::ppo::ContinuousControlDefaults();
  if (int v = absl::GetFlag(FLAGS_num_envs); v > 0) c.num_envs = v;
  if (int v = absl::GetFlag(FLAGS_num_steps); v > 0) c.num_steps = v;
  if (int v = absl::GetFlag(FLAGS_num_minibatches); v > 0) c.num_minibatches = v;
  if (int v = absl::GetFlag(FLAGS_update_epochs); v > 0) c.update_epochs = v;
  if (double v = absl::GetFlag(FLAGS_learning_rate); v > 0) c.learning_rate = v;
  if (double v = absl::GetFlag(FLAGS_ent_coef); v >= 0) c.ent_coef = v;
  if (double v = absl::GetFlag(FLAGS_vf_coef); v >= 0) c.vf_coef = v;
  if (double v = absl::GetFlag(FLAGS_max_grad_norm); v >= 0) c.max_grad_norm = v;
  if (double v = absl::GetFlag(FLAGS_gamma); v >= 0) c.gamma = v;
  // A bool flag that may also be left empty (the config's default stays).
  const auto set_bool = [](const std::string& name, const std::string& v, bool& field) {
    if (v.empty()) return true;
    if (v != "true" && v != "false") {
      std::fprintf(stderr, "ppo_train: --%s is true or false, not '%s'\n", name.c_str(), v.c_str());
      return false;
    }
    field = v == "true";
    return true;
  };
  if (!set_bool("clip_value_loss", absl::GetFlag(FLAGS_clip_value_loss), c.clip_value_loss) ||
      !set_bool("normalize_rewards", absl::GetFlag(FLAGS_normalize_rewards), c.normalize_rewards) ||
      !set_bool("normalize_observations", absl::GetFlag(FLAGS_normalize_observations),
                c.normalize_observations)) {
    return 2;
  }
  c.vtrace = absl::GetFlag(FLAGS_vtrace);
  c.bootstrap_on_truncation = absl::GetFlag(FLAGS_bootstrap_on_truncation);
  c.device = absl::GetFlag(FLAGS_device);
  c.learner_backend = absl::GetFlag(FLAGS_learner_backend);
  absl::StatusOr<std::vector<int64_t>> hidden = rlx::ParseHiddenSizes(absl::GetFlag(FLAGS_hidden));
  if (!hidden.ok()) {
    std::fprintf(stderr, "ppo_train: %s\n", std::string(hidden.status().message()).c_str());
    return 2;
  }
  c.hidden = *hidden;
  double threshold = absl::GetFlag(FLAGS_threshold);
  if (std::isnan(threshold)) {
    auto env = rlx::MakeEnv(options.env_name);
    if (!env.ok()) {
      std::fprintf(stderr, "ppo_train: %s\n", env.status().ToString().c_str());
      return 2;
    }
    threshold = (*env)->spec().reward_threshold;
  }
  const bool quiet = absl::GetFlag(FLAGS_quiet);
  int64_t updates = 0;
  options.on_update = [&](int64_t steps, const rlx::ppo::PpoUpdateInfo& info) {
    if (quiet || ++updates % 10 != 0) return;
    std::fprintf(stderr,
                 "step %lld: lr %.2e pg %.4f v %.4f entropy %.3f kl %.4f clip %.3f ev %.3f\n",
                 static_cast<long long>(steps), info.learning_rate, info.policy_loss,
                 info.value_loss, info.entropy, info.approx_kl, info.clip_fraction,
                 info.explained_variance);
  };
  auto result = rlx::ppo::RunPpoTraining(options);
  if (!result.ok()) {
    std::fprintf(stderr, "ppo_train: %s\n", result.status().ToString().c_str());
    return 1;
  }
  if (const std::string path = absl::GetFlag(FLAGS_curve); !path.empty()) {
    std::ofstream out(path);
    out << "env_step,episode_return\n";
    for (const auto& e : result->episodes) out << e.env_step << "," << e.episode_return << "\n";
  }
  double last10 = 0;
  const size_t n = result->episodes.size();
  for (size_t i = n >= 10 ? n - 10 : 0; i < n; ++i) last10 += result->episodes[i].episode_return;
  if (n > 0) last10 /= std::min<size_t>(n, 10);
  // Samples through the learner: every env step is used update_epochs times.
  const double learner_samples_per_s =
      result->env_steps * static_cast<double>(c.update_epochs) / result->update_seconds;
  std::printf(
      "ppo_train %s seed %llu: %lld env steps in %.2f s (%.0f steps/s, %.0f%% in updates, "
      "learner %.0f samples/s), %zu episodes, last-10 mean return %.1f, solved-at(%.0f) %lld, "
      "learner network %s\n",
      options.env_name.c_str(), static_cast<unsigned long long>(options.seed),
      static_cast<long long>(result->env_steps), result->seconds,
      result->env_steps / result->seconds, 100 * result->update_seconds / result->seconds,
      learner_samples_per_s, n, last10, threshold,
      static_cast<long long>(rlx::ppo::SolvedAt(result->episodes, threshold)),
      c.learner_on_libtorch() ? ("libtorch on " + c.device).c_str() : "dense (BLAS, host)");
  return 0;
}
