// stream_train: in-process stream-x training (Stream AC / Q / TD(lambda)) on
// a built-in environment, one core. Prints progress periodically and writes
// the episode returns as CSV.
//
//   stream_train --env=CartPole-v1 --algorithm=stream_ac --steps=50000 --seed=1
//                --csv=returns.csv --eval_every=10000 --eval_episodes=10
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/state_dict.h"
#include "algorithms/stream_x/stream_trainer.h"
#include "models/backends.h"
#include "core/process_setup.h"

ABSL_FLAG(std::string, env, "CartPole-v1", "Environment registry name.");
ABSL_FLAG(std::string, algorithm, "stream_ac", "stream_ac, stream_q or stream_td.");
ABSL_FLAG(int64_t, steps, 100000, "Environment steps to train for.");
ABSL_FLAG(uint64_t, seed, 0, "Seed of everything (networks, actor, env).");
ABSL_FLAG(std::string, csv, "", "Write episode returns here: env_step,episode,return,length.");
ABSL_FLAG(int64_t, eval_every, 0, "Env steps between greedy evaluations (0: none).");
ABSL_FLAG(int32_t, eval_episodes, 10, "Episodes per greedy evaluation.");
ABSL_FLAG(int64_t, progress_every, 10000, "Env steps between progress lines (0: none).");
ABSL_FLAG(double, alpha, 1.0, "ObGD step size.");
ABSL_FLAG(double, gamma, 0.99, "Discount.");
ABSL_FLAG(double, lambda, 0.8, "Trace decay.");
ABSL_FLAG(double, kappa_value, 2.0, "ObGD kappa of the value / Q network.");
ABSL_FLAG(double, kappa_policy, 3.0, "ObGD kappa of the policy network.");
ABSL_FLAG(std::string, network, "auto",
          "Network backend: auto (= cpu_mlp, plain C++), cpu, libtorch (= torch_mlp).");
ABSL_FLAG(double, entropy_coef, 0.01, "Stream AC entropy coefficient.");
ABSL_FLAG(std::string, hidden, "128,128", "Hidden layer sizes.");
ABSL_FLAG(double, sparsity, 0.9, "Fraction of incoming weights zeroed per unit at init.");
ABSL_FLAG(bool, time_feature, true, "Append the elapsed fraction of the time limit.");
ABSL_FLAG(bool, bootstrap_on_truncation, true,
          "Bootstrap from V(s') at truncation (false: a truncation ends the return, as the "
          "paper's code does).");
ABSL_FLAG(int64_t, max_episode_steps, 0,
          "Training episodes truncate here instead of at the env's limit (0: the env's; the "
          "paper's code uses 10000). Evaluations keep the env's limit.");
ABSL_FLAG(bool, normalize_observations, true, "Running observation normalisation.");
ABSL_FLAG(bool, scale_rewards, true, "Scale rewards by the running std of the return.");
ABSL_FLAG(double, epsilon_start, 1.0, "Stream Q: initial epsilon.");
ABSL_FLAG(double, epsilon_end, 0.01, "Stream Q: final epsilon.");
ABSL_FLAG(double, exploration_fraction, 0.1, "Stream Q: fraction of total steps to decay over.");
ABSL_FLAG(int64_t, total_steps, 0, "Stream Q: steps the epsilon schedule assumes (0: --steps).");
ABSL_FLAG(std::string, td_policy, "random", "Stream TD: fixed policy, random or cartpole_balance.");
ABSL_FLAG(bool, stop_when_solved, false, "Stop once the mean of 10 training returns reaches "
          "the env's threshold.");
ABSL_FLAG(std::string, checkpoint, "", "Write the final learner state here.");

namespace rlx {
namespace {

int Run() {
  SetBackendThreads(1);
  StreamTrainOptions options;
  options.env_name = absl::GetFlag(FLAGS_env);
  options.steps = absl::GetFlag(FLAGS_steps);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.eval_every = absl::GetFlag(FLAGS_eval_every);
  options.eval_episodes = absl::GetFlag(FLAGS_eval_episodes);
  options.final_eval = options.eval_every > 0;
  options.progress_every = absl::GetFlag(FLAGS_progress_every);
  options.stop_when_solved = absl::GetFlag(FLAGS_stop_when_solved);
  StreamConfig& c = options.config;
  absl::StatusOr<StreamAlgorithm> algorithm = ParseStreamAlgorithm(absl::GetFlag(FLAGS_algorithm));
  if (!algorithm.ok()) {
    std::fprintf(stderr, "%s\n", algorithm.status().ToString().c_str());
    return 2;
  }
  c.algorithm = *algorithm;
  c.alpha = absl::GetFlag(FLAGS_alpha);
  c.gamma = absl::GetFlag(FLAGS_gamma);
  c.lambda = absl::GetFlag(FLAGS_lambda);
  c.kappa_value = absl::GetFlag(FLAGS_kappa_value);
  c.kappa_policy = absl::GetFlag(FLAGS_kappa_policy);
  c.network = absl::GetFlag(FLAGS_network);
  c.entropy_coef = absl::GetFlag(FLAGS_entropy_coef);
  absl::StatusOr<std::vector<int64_t>> hidden = rlx::ParseHiddenSizes(absl::GetFlag(FLAGS_hidden));
  if (!hidden.ok()) {
    std::fprintf(stderr, "%s\n", std::string(hidden.status().message()).c_str());
    return 2;
  }
  c.hidden = *hidden;
  c.sparsity = absl::GetFlag(FLAGS_sparsity);
  c.time_feature = absl::GetFlag(FLAGS_time_feature);
  c.normalize_observations = absl::GetFlag(FLAGS_normalize_observations);
  c.bootstrap_on_truncation = absl::GetFlag(FLAGS_bootstrap_on_truncation);
  c.max_episode_steps = absl::GetFlag(FLAGS_max_episode_steps);
  c.scale_rewards = absl::GetFlag(FLAGS_scale_rewards);
  c.epsilon_start = absl::GetFlag(FLAGS_epsilon_start);
  c.epsilon_end = absl::GetFlag(FLAGS_epsilon_end);
  c.exploration_fraction = absl::GetFlag(FLAGS_exploration_fraction);
  c.total_steps = absl::GetFlag(FLAGS_total_steps);
  const std::string td_policy = absl::GetFlag(FLAGS_td_policy);
  if (td_policy == "random") {
    c.td_policy = FixedPolicy::kUniformRandom;
  } else if (td_policy == "cartpole_balance") {
    c.td_policy = FixedPolicy::kCartPoleBalance;
  } else {
    std::fprintf(stderr, "--td_policy: unknown policy '%s'\n", td_policy.c_str());
    return 2;
  }

  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv).empty()) {
    csv.open(absl::GetFlag(FLAGS_csv));
    if (!csv) {
      std::fprintf(stderr, "cannot open %s\n", absl::GetFlag(FLAGS_csv).c_str());
      return 1;
    }
    csv << "env_step,episode,return,length\n";
    options.on_episode = [&csv](const EpisodeRecord& e) {
      csv << absl::StrFormat("%d,%d,%.6g,%d\n", e.env_step, e.episode, e.episode_return,
                             e.length);
    };
  }
  const bool td = c.algorithm == StreamAlgorithm::kStreamTD;
  options.on_progress = [td](const TrainProgress& p) {
    std::string line = absl::StrFormat("step %9d  episodes %6d  %7.0f steps/s", p.env_step,
                                       p.episodes, p.steps_per_second);
    absl::StrAppendFormat(&line, "  mean return (last 10) %8.2f", p.mean_return_last10);
    if (td) {
      // Against single-sample Monte Carlo returns (of the scaled rewards the
      // learner sees), so a stochastic policy leaves a floor of return noise.
      absl::StrAppendFormat(&line, "  value RMSE vs MC returns (last 10 episodes) %.4f (RMS of G %.4f)",
                            p.mean_value_rmse_last10, p.mean_return_rms_last10);
    }
    if (!std::isnan(p.epsilon)) absl::StrAppendFormat(&line, "  epsilon %.3f", p.epsilon);
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  options.on_eval = [](const EvalRecord& e) {
    std::printf("eval at step %ld: greedy mean return %.2f over %zu episodes\n", e.env_step,
                e.mean_return, e.returns.size());
    std::fflush(stdout);
  };

  absl::StatusOr<StreamTrainResult> result = RunStreamTraining(options);
  if (!result.ok()) {
    std::fprintf(stderr, "stream_train: %s\n", result.status().ToString().c_str());
    return 1;
  }
  std::printf("done: %ld steps, %zu episodes, %.1f s, %.0f steps/s; ", result->env_steps,
              result->episodes.size(), result->seconds, result->steps_per_second);
  if (result->solved_at >= 0) {
    std::printf("solved (mean of 10 returns >= %g) at step %ld\n", result->solve_threshold,
                result->solved_at);
  } else {
    std::printf("not solved (threshold %g)\n", result->solve_threshold);
  }
  if (!absl::GetFlag(FLAGS_checkpoint).empty()) {
    StateDict dict;
    result->learner->SaveState(&dict);
    if (absl::Status s = WriteStateFile(absl::GetFlag(FLAGS_checkpoint), dict); !s.ok()) {
      std::fprintf(stderr, "checkpoint: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  rlx::SetUpProcess();
  absl::SetProgramUsageMessage(
      "In-process stream-x training (Elsayed et al. 2024): stream_ac, stream_q, stream_td.\n"
      "  stream_train --env=CartPole-v1 --algorithm=stream_ac --steps=50000 --csv=out.csv");
  absl::ParseCommandLine(argc, argv);
  return rlx::Run();
}
