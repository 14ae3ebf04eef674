// ppo_parity_dump: one PPO update's inputs and outputs, for a comparison with
// the Python reference from identical inputs (bench/ppo_parity_check.py).
//
// Runs the in-process trainer (algorithms/ppo/ppo_trainer.h, CleanRL ppo.py's
// defaults) with --seed until update --update (0: the first, from the initial
// weights), and writes for that update, into --out:
//   meta.json               config, layout, the update's statistics and the
//                           per-minibatch losses and gradient norms
//   params_before.f32       flat parameters (PpoModel::GetParameters order:
//   params_after.f32        actor then critic, each [W0 (out x in, row-major),
//                           b0, W1, b1, W2, b2]; no log std for discrete)
//   adam_m.f32, adam_v.f32  Adam's moments before the update
//   observations.f32 actions.f32 log_probs.f32 values.f32 rewards.f32
//   terminated.u8 truncated.u8 final_observations.f32 next_observations.f32
//                           the rollout (unroll-major: index env * T + t)
//   advantages.f32 returns.f32   the learner's GAE (before normalisation)
//   orders.i64              update_epochs x N*T sample orders
// All raw little-endian arrays.
//
//   ppo_parity_dump --seed=1 --update=0 --out=/tmp/parity
//   /usr/bin/python3 bench/ppo_parity_check.py /tmp/parity
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "algorithms/ppo/ppo_trainer.h"

ABSL_FLAG(std::string, env, "CartPole-v1", "Environment.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the run.");
ABSL_FLAG(int64_t, update, 0, "Which update to dump (0: the first).");
ABSL_FLAG(int64_t, steps, 500000,
          "Env steps of the run the learning-rate schedule assumes (as learning_bench --steps).");
ABSL_FLAG(bool, bootstrap_on_truncation, false,
          "Bootstrap from V(final observation) at truncation (false: CleanRL ppo.py).");
ABSL_FLAG(double, learning_rate, 0,
          "Adam learning rate (0: the default 2.5e-4; larger ones exercise the clipped paths).");
ABSL_FLAG(std::string, out, "/tmp/ppo_parity", "Output directory (made if missing).");
ABSL_FLAG(bool, clip_value_loss, true,
          "The clipped value loss (CleanRL's default and PPO's here); false: the plain "
          "squared error.");
ABSL_FLAG(bool, normalize_rewards, true,
          "Scale rewards by the std of the discounted return (PPO's default; false: CleanRL "
          "ppo.py).");

namespace {

template <typename T>
bool Write(const std::string& dir, const std::string& name, const std::vector<T>& v) {
  std::ofstream f(dir + "/" + name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  return static_cast<bool>(f);
}

std::string Stats(const rlx::ppo::MinibatchStats& s) {
  return absl::StrFormat(
      "{\"policy_loss\": %.9g, \"value_loss\": %.9g, \"entropy\": %.9g, \"approx_kl\": %.9g, "
      "\"clip_fraction\": %.9g}",
      s.policy_loss, s.value_loss, s.entropy, s.approx_kl, s.clip_fraction);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string dir = absl::GetFlag(FLAGS_out);
  std::error_code made;
  std::filesystem::create_directories(dir, made);  // a failure shows when writing
  const int64_t target = absl::GetFlag(FLAGS_update);
  rlx::ppo::PpoTrainOptions options;
  options.env_name = absl::GetFlag(FLAGS_env);
  options.seed = absl::GetFlag(FLAGS_seed);
  rlx::ppo::PpoConfig& c = options.config;
  c.bootstrap_on_truncation = absl::GetFlag(FLAGS_bootstrap_on_truncation);
  c.clip_value_loss = absl::GetFlag(FLAGS_clip_value_loss);
  c.normalize_rewards = absl::GetFlag(FLAGS_normalize_rewards);
  if (double lr = absl::GetFlag(FLAGS_learning_rate); lr > 0) c.learning_rate = lr;
  const int64_t batch = rlx::ppo::RolloutSize(c);
  const int64_t run_steps = absl::GetFlag(FLAGS_steps);
  c.total_env_steps = (run_steps + batch - 1) / batch * batch;  // as RunPpoTraining sets it
  options.steps = (target + 1) * batch;                         // stop right after the update

  int64_t update = 0;
  rlx::ppo::PpoUpdateTrace trace;
  std::vector<float> before;
  bool ok = true;
  int64_t truncations = 0, terminations = 0;
  options.before_update = [&](const rlx::ppo::Rollout& r, rlx::ppo::PpoLearner* learner) {
    if (update != target) return;
    learner->set_trace(&trace);
    before = learner->model().GetParameters();
    for (size_t i = 0; i < r.terminated.size(); ++i) {
      terminations += r.terminated[i];
      truncations += r.truncated[i];
    }
    ok = ok && Write(dir, "params_before.f32", before) &&
         Write(dir, "observations.f32", r.observations) && Write(dir, "actions.f32", r.actions) &&
         Write(dir, "log_probs.f32", r.log_probs) && Write(dir, "values.f32", r.values) &&
         Write(dir, "rewards.f32", r.rewards) && Write(dir, "terminated.u8", r.terminated) &&
         Write(dir, "truncated.u8", r.truncated) &&
         Write(dir, "final_observations.f32", r.final_observations) &&
         Write(dir, "next_observations.f32", r.next_observations);
  };
  rlx::ppo::PpoUpdateInfo last_info;
  options.on_update = [&](int64_t, const rlx::ppo::PpoUpdateInfo& info) {
    if (update++ == target) last_info = info;
  };
  auto result = rlx::ppo::RunPpoTraining(options);
  if (!result.ok()) {
    std::fprintf(stderr, "ppo_parity_dump: %s\n", result.status().ToString().c_str());
    return 1;
  }
  const rlx::ppo::PpoModel& model = result->learner->model();
  ok = ok && Write(dir, "params_after.f32", model.GetParameters()) &&
       Write(dir, "adam_m.f32", trace.adam_m) && Write(dir, "adam_v.f32", trace.adam_v) &&
       Write(dir, "advantages.f32", trace.advantages) && Write(dir, "returns.f32", trace.returns) &&
       Write(dir, "orders.i64", trace.orders);
  std::string mbs, norms;
  for (size_t k = 0; k < trace.minibatches.size(); ++k) {
    absl::StrAppend(&mbs, k ? ",\n    " : "", Stats(trace.minibatches[k]));
    absl::StrAppend(&norms, k ? ", " : "", absl::StrFormat("%.9g", trace.grad_norms[k]));
  }
  std::string hidden;
  for (size_t k = 0; k < c.hidden.size(); ++k) absl::StrAppend(&hidden, k ? ", " : "", c.hidden[k]);
  std::ofstream meta(dir + "/meta.json");
  meta << absl::StrFormat(
      "{\n  \"env\": \"%s\", \"seed\": %d, \"update\": %d, \"num_envs\": %d, \"num_steps\": %d,\n"
      "  \"obs_dim\": %d, \"num_actions\": %d, \"hidden\": [%s],\n"
      "  \"num_minibatches\": %d, \"update_epochs\": %d, \"learning_rate\": %.9g,\n"
      "  \"anneal_lr\": %s, \"total_env_steps\": %d, \"gamma\": %.9g, \"gae_lambda\": %.9g,\n"
      "  \"clip_coef\": %.9g, \"clip_value_loss\": %s, \"ent_coef\": %.9g, \"vf_coef\": %.9g,\n"
      "  \"max_grad_norm\": %.9g, \"adam_eps\": %.9g, \"bootstrap_on_truncation\": %s,\n"
      "  \"terminations\": %d, \"truncations\": %d,\n"
      "  \"lr_used\": %.12g, \"adam_steps_before\": %d,\n"
      "  \"info\": {\"policy_loss\": %.9g, \"value_loss\": %.9g, \"entropy\": %.9g, "
      "\"approx_kl\": %.9g, \"clip_fraction\": %.9g, \"explained_variance\": %.9g},\n"
      "  \"grad_norms\": [%s],\n  \"minibatches\": [\n    %s]\n}\n",
      options.env_name, options.seed, target, c.num_envs, c.num_steps, model.obs_dim(),
      model.head_width(), hidden, c.num_minibatches, c.update_epochs, c.learning_rate,
      c.anneal_lr ? "true" : "false", c.total_env_steps, c.gamma, c.gae_lambda, c.clip_coef,
      c.clip_value_loss ? "true" : "false", c.ent_coef, c.vf_coef, c.max_grad_norm, c.adam_eps,
      c.bootstrap_on_truncation ? "true" : "false", terminations, truncations,
      trace.learning_rate, trace.adam_steps, last_info.policy_loss, last_info.value_loss,
      last_info.entropy, last_info.approx_kl, last_info.clip_fraction,
      last_info.explained_variance, norms, mbs);
  ok = ok && static_cast<bool>(meta);
  if (!ok || before.empty()) {
    std::fprintf(stderr, "ppo_parity_dump: could not write everything to %s\n", dir.c_str());
    return 1;
  }
  std::printf("ppo_parity_dump: seed %llu update %lld (%lld terminations, %lld truncations) -> %s\n",
              static_cast<unsigned long long>(options.seed), static_cast<long long>(target),
              static_cast<long long>(terminations), static_cast<long long>(truncations),
              dir.c_str());
  return 0;
}
