// learning_bench: Stream AC / Q (lambda) and PPO learning curves over several seeds.
// For each seed prints the env step at which the mean training return of the
// last 10 episodes first reaches the threshold ("solved at"), the final greedy
// evaluation return and the speed; then the median solved-at and how many
// seeds solved within --within steps.
//
//   learning_bench --env=CartPole-v1 --algorithm=stream_ac --seeds=5 --steps=50000
//   learning_bench --env=CartPole-v1 --algorithm=stream_q --steps=60000 --total_steps=200000
//   learning_bench --env=CartPole-v1 --algorithm=ppo --steps=500000 --within=250000
//   learning_bench --env=Pendulum-v1 --algorithm=ppo --ppo_continuous_defaults --steps=1000000
// PPO runs the in-process trainer with CleanRL's defaults (algorithms/ppo);
// it has no greedy evaluation here (shown as nan).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "algorithms/ppo/ppo_trainer.h"
#include "algorithms/stream_x/stream_trainer.h"
#include "envs/registry.h"
#include "models/backends.h"
#include "core/process_setup.h"

ABSL_FLAG(std::string, env, "CartPole-v1", "Environment.");
ABSL_FLAG(std::string, algorithm, "stream_ac", "stream_ac, stream_q or ppo.");
ABSL_FLAG(bool, ppo_continuous_defaults, false,
          "ppo: CleanRL ppo_continuous_action.py's settings (1 env, 2048 steps, 32 minibatches, "
          "10 epochs, lr 3e-4, no entropy bonus, observation and reward normalisation).");
ABSL_FLAG(bool, ppo_vtrace, false, "ppo: V-trace targets instead of GAE.");
ABSL_FLAG(bool, ppo_bootstrap_on_truncation, true,
          "ppo: bootstrap from V(final observation) at a time limit (false: end the return "
          "there, as CleanRL's ppo.py and bench/ppo_reference.py do). --bootstrap_on_truncation "
          "is stream-x's only.");
ABSL_FLAG(std::string, network, "auto",
          "Stream-x network backend: auto (= cpu_mlp), cpu, libtorch (= torch_mlp).");
ABSL_FLAG(int, seeds, 5, "Number of seeds.");
ABSL_FLAG(uint64_t, first_seed, 1, "First seed; seeds are consecutive.");
ABSL_FLAG(int64_t, steps, 50000, "Env steps per seed.");
ABSL_FLAG(int64_t, total_steps, 0, "Steps the Q epsilon schedule assumes (0: --steps).");
ABSL_FLAG(double, threshold, NAN, "Solve threshold (default: the env's reward threshold).");
ABSL_FLAG(int64_t, within, 0, "Also count seeds solved within this many steps (0: --steps).");
ABSL_FLAG(int, eval_episodes, 10, "Greedy evaluation episodes at the end.");
ABSL_FLAG(int, parallel, 1, "Seeds run at a time (1 or 2 on this machine).");
ABSL_FLAG(bool, stop_when_solved, false, "Stop each seed when solved (no final evaluation).");
ABSL_FLAG(bool, bootstrap_on_truncation, true,
          "true: bootstrap from V(s') at truncation (default: a truncation ends the return, "
          "as the paper's code does).");
ABSL_FLAG(std::string, csv_prefix, "", "Write <prefix><seed>.csv episode returns per seed.");
ABSL_FLAG(int64_t, eval_every, 0,
          "Stream-x: greedy evaluations every this many env steps (0: only the final one); "
          "prints the share of evaluations at the env's best return after the first one there.");
ABSL_FLAG(int, max_episode_steps, 0,
          "Stream-x: training episodes truncate here instead of at the env's limit (0: the "
          "env's); evaluations keep the env's limit.");
ABSL_FLAG(double, return_cap, NAN,
          "Cap training returns at this for the last-20 figure (e.g. 500 for CartPole trained "
          "with longer episodes; NaN: no cap).");
ABSL_FLAG(std::string, hidden, "", "Stream-x: hidden layer sizes, e.g. 32,32 (empty: default).");
ABSL_FLAG(double, exploration_fraction, NAN,
          "Stream-x Q: share of total_steps over which epsilon falls (NaN: default).");

namespace rlx {
namespace {

// Median of values (sorted here); +inf counts as larger than everything.
double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t m = values.size();
  return m % 2 ? values[m / 2] : 0.5 * (values[m / 2 - 1] + values[m / 2]);
}

struct SeedResult {
  uint64_t seed = 0;
  int64_t solved_at = -1;
  double last10 = NAN;
  double last20 = NAN;  // stream-x: mean of the last 20 training returns
  double eval = NAN;
  // Stream-x with --eval_every: evaluations after the first one at the best
  // return (the env's time limit), and how many of those are there too.
  int evals_after_best = 0, evals_at_best_after = 0;
  int64_t first_best_at = -1;
  double steps_per_second = 0;
  std::string error;
};

SeedResult RunPpoSeed(uint64_t seed) {
  SeedResult out;
  out.seed = seed;
  ppo::PpoTrainOptions options;
  options.env_name = absl::GetFlag(FLAGS_env);
  options.steps = absl::GetFlag(FLAGS_steps);
  options.seed = seed;
  ppo::PpoConfig& c = options.config;
  if (absl::GetFlag(FLAGS_ppo_continuous_defaults)) c = ppo::ContinuousControlDefaults();
  c.vtrace = absl::GetFlag(FLAGS_ppo_vtrace);
  c.bootstrap_on_truncation = absl::GetFlag(FLAGS_ppo_bootstrap_on_truncation);
  auto result = ppo::RunPpoTraining(options);
  if (!result.ok()) {
    out.error = result.status().ToString();
    return out;
  }
  double threshold = absl::GetFlag(FLAGS_threshold);
  if (std::isnan(threshold)) {
    auto env = MakeEnv(options.env_name);
    threshold = env.ok() ? (*env)->spec().reward_threshold : 0.0;
  }
  out.solved_at = ppo::SolvedAt(result->episodes, threshold);
  const size_t n = result->episodes.size();
  double sum = 0;
  for (size_t i = n >= 10 ? n - 10 : 0; i < n; ++i) sum += result->episodes[i].episode_return;
  out.last10 = n > 0 ? sum / std::min<size_t>(n, 10) : NAN;
  out.steps_per_second = result->env_steps / result->seconds;
  if (!absl::GetFlag(FLAGS_csv_prefix).empty()) {
    std::ofstream csv(absl::StrCat(absl::GetFlag(FLAGS_csv_prefix), seed, ".csv"));
    csv << "env_step,episode,return,length\n";
    for (size_t i = 0; i < n; ++i) {
      const ppo::EpisodeRecord& e = result->episodes[i];
      csv << absl::StrFormat("%d,%d,%.6g,%d\n", e.env_step, i, e.episode_return, e.length);
    }
  }
  return out;
}

SeedResult RunSeed(uint64_t seed) {
  if (absl::GetFlag(FLAGS_algorithm) == "ppo") return RunPpoSeed(seed);
  SeedResult out;
  out.seed = seed;
  StreamTrainOptions options;
  options.env_name = absl::GetFlag(FLAGS_env);
  auto algorithm = ParseStreamAlgorithm(absl::GetFlag(FLAGS_algorithm));
  if (!algorithm.ok()) {
    out.error = algorithm.status().ToString();
    return out;
  }
  options.config.algorithm = *algorithm;
  options.config.total_steps = absl::GetFlag(FLAGS_total_steps);
  options.config.bootstrap_on_truncation = absl::GetFlag(FLAGS_bootstrap_on_truncation);
  options.config.network = absl::GetFlag(FLAGS_network);
  if (!absl::GetFlag(FLAGS_hidden).empty()) {
    auto hidden = ParseHiddenSizes(absl::GetFlag(FLAGS_hidden));
    if (!hidden.ok()) {
      out.error = hidden.status().ToString();
      return out;
    }
    options.config.hidden = *hidden;
  }
  if (!std::isnan(absl::GetFlag(FLAGS_exploration_fraction))) {
    options.config.exploration_fraction = absl::GetFlag(FLAGS_exploration_fraction);
  }
  options.eval_every = absl::GetFlag(FLAGS_eval_every);
  options.config.max_episode_steps = absl::GetFlag(FLAGS_max_episode_steps);
  options.steps = absl::GetFlag(FLAGS_steps);
  options.seed = seed;
  options.solve_threshold = absl::GetFlag(FLAGS_threshold);
  options.stop_when_solved = absl::GetFlag(FLAGS_stop_when_solved);
  options.final_eval = !options.stop_when_solved && absl::GetFlag(FLAGS_eval_episodes) > 0;
  options.eval_episodes = absl::GetFlag(FLAGS_eval_episodes);
  std::ofstream csv;
  if (!absl::GetFlag(FLAGS_csv_prefix).empty()) {
    csv.open(absl::StrCat(absl::GetFlag(FLAGS_csv_prefix), seed, ".csv"));
    csv << "env_step,episode,return,length\n";
    options.on_episode = [&csv](const EpisodeRecord& e) {
      csv << absl::StrFormat("%d,%d,%.6g,%d\n", e.env_step, e.episode, e.episode_return,
                             e.length);
    };
  }
  auto result = RunStreamTraining(options);
  if (!result.ok()) {
    out.error = result.status().ToString();
    return out;
  }
  out.solved_at = result->solved_at;
  out.last10 = MeanLastReturns(result->episodes, 10);
  {
    std::vector<EpisodeRecord> capped = result->episodes;
    const double cap = absl::GetFlag(FLAGS_return_cap);
    if (!std::isnan(cap)) {
      for (EpisodeRecord& e : capped) e.episode_return = std::min(e.episode_return, cap);
    }
    out.last20 = MeanLastReturns(capped, 20);
  }
  if (!result->evals.empty()) out.eval = result->evals.back().mean_return;
  if (options.eval_every > 0) {
    // The best return an episode can have: every step rewarded 1 up to the
    // time limit (CartPole). Other envs: the best evaluation seen.
    double best = -INFINITY;
    for (const EvalRecord& e : result->evals) best = std::max(best, e.mean_return);
    if (options.env_name == "CartPole-v1") {
      if (auto env = MakeEnv(options.env_name); env.ok()) best = (*env)->spec().max_episode_steps;
    }
    for (const EvalRecord& e : result->evals) {
      const bool at_best = e.mean_return >= best;
      if (out.first_best_at < 0) {
        if (at_best) out.first_best_at = e.env_step;
        continue;
      }
      ++out.evals_after_best;
      out.evals_at_best_after += at_best;
    }
  }
  out.steps_per_second = result->steps_per_second;
  return out;
}

int Run() {
  SetBackendThreads(1);
  const int seeds = absl::GetFlag(FLAGS_seeds);
  const int parallel = std::max(1, absl::GetFlag(FLAGS_parallel));
  std::vector<SeedResult> results(seeds);
  std::mutex print_mu;
  auto report = [&](const SeedResult& r) {
    std::lock_guard<std::mutex> lock(print_mu);
    if (!r.error.empty()) {
      std::printf("seed %lu: error %s\n", r.seed, r.error.c_str());
    } else {
      std::printf("seed %lu: solved at %s  last-10 training return %.1f  greedy eval %.1f  "
                  "%.0f steps/s",
                  r.seed,
                  r.solved_at >= 0 ? absl::StrCat(r.solved_at).c_str() : "never",
                  r.last10, r.eval, r.steps_per_second);
      if (!std::isnan(r.last20)) std::printf("  last-20 %.1f", r.last20);
      if (absl::GetFlag(FLAGS_eval_every) > 0) {
        std::printf("  evals at best after the first: %d/%d (first at %ld)",
                    r.evals_at_best_after, r.evals_after_best, r.first_best_at);
      }
      std::printf("\n");
    }
    std::fflush(stdout);
  };
  std::printf("%s %s, %d seeds, %ld steps each\n", absl::GetFlag(FLAGS_algorithm).c_str(),
              absl::GetFlag(FLAGS_env).c_str(), seeds, absl::GetFlag(FLAGS_steps));
  for (int start = 0; start < seeds; start += parallel) {
    std::vector<std::thread> threads;
    for (int k = start; k < std::min(seeds, start + parallel); ++k) {
      threads.emplace_back([&, k] {
        results[k] = RunSeed(absl::GetFlag(FLAGS_first_seed) + k);
        report(results[k]);
      });
    }
    for (auto& t : threads) t.join();
  }

  std::vector<double> solved;
  const int64_t within =
      absl::GetFlag(FLAGS_within) > 0 ? absl::GetFlag(FLAGS_within) : absl::GetFlag(FLAGS_steps);
  int within_count = 0;
  for (const SeedResult& r : results) {
    // Unsolved seeds count as infinitely late for the median.
    solved.push_back(r.solved_at >= 0 ? r.solved_at : INFINITY);
    within_count += r.solved_at >= 0 && r.solved_at <= within;
  }
  const double median = Median(solved);
  std::printf("median solved at: %s;  solved within %ld steps: %d/%d seeds\n",
              std::isinf(median) ? "never" : absl::StrFormat("%.0f", median).c_str(), within,
              within_count, seeds);
  if (absl::GetFlag(FLAGS_algorithm) != "ppo") {
    std::vector<double> last20;
    int after = 0, at_best = 0;
    for (const SeedResult& r : results) {
      if (!std::isnan(r.last20)) last20.push_back(r.last20);
      after += r.evals_after_best;
      at_best += r.evals_at_best_after;
    }
    double mean = 0;
    for (double v : last20) mean += v / last20.size();
    if (!last20.empty()) {
      std::printf("last-20 training return: mean %.1f, median %.1f over %zu seeds\n", mean,
                  Median(last20), last20.size());
    }
    if (absl::GetFlag(FLAGS_eval_every) > 0) {
      std::printf("evaluations at the best return after the first one there: %d/%d (%.1f%%)\n",
                  at_best, after, after > 0 ? 100.0 * at_best / after : NAN);
    }
  }
  return 0;
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  rlx::SetUpProcess();
  absl::ParseCommandLine(argc, argv);
  return rlx::Run();
}
