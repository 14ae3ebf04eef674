// spo_bench: SPO against its baselines.
//
//   spo_bench --experiment=intransitive [--seeds=5] [--steps=60000]
//
// intransitive: the paper's intransitive experiment on PreferenceGame-v0 for
// three population mixes: the exact Minimax Winner (fictitious play), SPO's
// action distribution (the average of the second half of training, and the
// last), and reward-model RLHF's, with their total variation from the
// Minimax Winner, on the same preference-query budget.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "algorithms/ppo/ppo_config.h"
#include "algorithms/stream_x/config.h"
#include "algorithms/spo/preference_trainer.h"
#include "algorithms/preferences.h"

ABSL_FLAG(std::string, experiment, "intransitive", "intransitive | episodic");
ABSL_FLAG(int, seeds, 3, "Seeds per cell.");
ABSL_FLAG(int, first_seed, 1, "episodic: the first seed (seeds first_seed .. first_seed + seeds - 1).");
ABSL_FLAG(int64_t, steps, 60000, "Env steps per run.");
ABSL_FLAG(double, ent_coef, 0.02, "PPO entropy coefficient.");
ABSL_FLAG(double, lr, 5e-4, "PPO learning rate (annealed).");
ABSL_FLAG(int, opponents, 8, "Preference queries per trajectory.");
ABSL_FLAG(int, queue_size, 256, "SPO: recent trajectories kept as opponents.");
ABSL_FLAG(std::string, mixes, "0.4/0.35/0.25,0.3/0.3/0.4,0.45/0.2/0.35",
          "Intransitive population mixes (return/position/energy raters).");
ABSL_FLAG(bool, normalize_advantages, false, "PPO's per-minibatch advantage normalisation.");
ABSL_FLAG(int, epochs, 4, "PPO epochs per update.");
ABSL_FLAG(std::string, env, "CartPole-v1", "episodic: the environment.");
ABSL_FLAG(std::string, functions, "markovian,noisy,non_markovian", "episodic: preference functions.");
ABSL_FLAG(double, temperature, 20, "episodic: noisy preferences' temperature (returns).");
ABSL_FLAG(double, threshold, 25, "episodic: non-markovian threshold on the last quarter's return.");
ABSL_FLAG(double, threshold_return, 475, "episodic: solved-at threshold of the true return.");
ABSL_FLAG(double, spo_gamma, 1.0, "episodic: SPO's discount (its reward comes at the end).");
ABSL_FLAG(std::string, preference_address, "",
          "episodic: ask this PreferenceService (host:port) instead of the local function.");
ABSL_FLAG(bool, whole_episodes, false, "episodic: SPO learns from whole episodes only.");
ABSL_FLAG(bool, spread, false, "episodic: SPO spreads the win rate over the steps (whole episodes).");
ABSL_FLAG(std::string, learners, "spo,reward_model,ppo_true", "episodic: which learners to run.");
ABSL_FLAG(std::string, csv_prefix, "",
          "episodic: write each run's episodes to <prefix><function>_<learner>_<seed>.csv "
          "(env_step, queries, return, length, head, tail, within: the preference queries "
          "asked when the episode ended, the return of its first three quarters and of its "
          "last quarter, and whether that is within the non-markovian threshold); "
          "bench/plot_curves.py plots them.");
ABSL_FLAG(std::string, hidden, "",
          "episodic: the policy's and critic's hidden layers for every learner, e.g. 128,128 "
          "(empty: PPO's 64,64).");
ABSL_FLAG(std::string, rm_hidden, "", "Reward model hidden layers, e.g. 64,64 (empty: linear).");
ABSL_FLAG(int, rm_epochs, 50, "Reward model Adam steps per update.");
ABSL_FLAG(int, rm_minibatch, 32, "MLP reward model: answers per Adam step.");
ABSL_FLAG(double, rm_lr, 1e-3, "MLP reward model: Adam learning rate.");
ABSL_FLAG(bool, continuous_defaults, false,
          "episodic: PPO's continuous-control defaults (1 env x 2048 steps, 32 minibatches x 10 "
          "epochs, lr 3e-4, no entropy bonus; reward scaling for PPO on the true reward; no "
          "observation normalisation).");
ABSL_FLAG(double, episodic_ent_coef, -1,
          "episodic: PPO's entropy coefficient for SPO and the reward-model learner (-1: PPO's "
          "default).");
ABSL_FLAG(int, greedy_episodes, 10,
          "episodic: episodes of the final policy acting greedily, after training (their mean "
          "true return, and the constraint, are printed beside the training episodes').");
ABSL_FLAG(double, spo_gae_lambda, -1,
          "episodic: SPO's GAE lambda (-1: PPO's default; 1: Monte Carlo advantages, every step "
          "sees its episode's win rate without the critic's bootstrap).");
ABSL_FLAG(int, spo_normalize_advantages, -1,
          "episodic: SPO's per-minibatch advantage normalisation (-1: PPO's default; 0: off, so "
          "equal win rates give zero advantages instead of normalised noise; 1: on).");
ABSL_FLAG(double, time_feature_scale, 1.0,
          "episodic: the time feature -0.5 + t / time_limit times this (every learner).");
ABSL_FLAG(bool, trace, false, "Print the distribution every 1/8 of training.");
ABSL_FLAG(bool, print_lengths, false,
          "episodic: after each run, the lengths of the last 100 training episodes "
          "(mean, standard deviation, a histogram in 10-step bins) and, for the "
          "non-markovian preference on CartPole, where SPO's self-play would settle "
          "that shape (SelfPlayShiftFixedPoint).");

namespace rlx::spo {
namespace {

std::string Dist(const std::vector<double>& p) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f %.3f %.3f", p[0], p[1], p[2]);
  return buf;
}

// Hidden layer widths from a flag such as "64,64" (empty: none), parsed by
// the trainers' own ParseHiddenSizes; a value that is not a list of
// integers ends the run.
std::vector<int64_t> Layers(const std::string& flag) {
  absl::StatusOr<std::vector<int64_t>> widths = ParseHiddenSizes(flag);
  if (!widths.ok()) {
    std::fprintf(stderr, "spo_bench: %s\n", std::string(widths.status().message()).c_str());
    std::exit(2);
  }
  return *widths;
}

void SetRewardModelOptions(PreferenceTrainOptions* options) {
  options->reward_model_hidden = Layers(absl::GetFlag(FLAGS_rm_hidden));
  options->reward_model_epochs = absl::GetFlag(FLAGS_rm_epochs);
  options->reward_model_minibatch = absl::GetFlag(FLAGS_rm_minibatch);
  options->reward_model_learning_rate = absl::GetFlag(FLAGS_rm_lr);
}

int Intransitive() {
  std::vector<std::vector<double>> mixes;
  for (absl::string_view m : absl::StrSplit(absl::GetFlag(FLAGS_mixes), ',')) {
    std::vector<double> w;
    for (absl::string_view x : absl::StrSplit(m, '/')) w.push_back(std::stod(std::string(x)));
    if (w.size() == 3) mixes.push_back(w);
  }
  std::printf("PreferenceGame-v0, %lld env steps per run, PPO lr %g ent %g, %d queries per "
              "trajectory, SPO queue %d\n",
              static_cast<long long>(absl::GetFlag(FLAGS_steps)), absl::GetFlag(FLAGS_lr),
              absl::GetFlag(FLAGS_ent_coef), absl::GetFlag(FLAGS_opponents),
              absl::GetFlag(FLAGS_queue_size));
  std::printf("%-16s %-5s %-19s %-19s %6s %-19s %6s %-19s %8s\n", "mix", "seed", "minimax winner",
              "SPO average", "TV", "SPO last", "TV", "RM-RLHF last", "largest");
  for (const std::vector<double>& mix : mixes) {
    PreferenceFunctionSpec spec;
    spec.set_name("intransitive");
    for (double w : mix) spec.add_mix(w);
    auto f = MakePreferenceFunction(spec);
    if (!f.ok()) return 1;
    const std::vector<double> winner = MinimaxWinner(PreferenceGameMatrix(**f));
    for (int seed = 1; seed <= absl::GetFlag(FLAGS_seeds); ++seed) {
      PreferenceTrainOptions options;
      options.record_distributions = true;
      options.preference = spec;
      options.ppo.num_envs = 4;
      options.ppo.num_steps = 64;
      options.ppo.num_minibatches = 4;
      options.ppo.ent_coef = absl::GetFlag(FLAGS_ent_coef);
      options.ppo.learning_rate = absl::GetFlag(FLAGS_lr);
      options.ppo.normalize_advantages = absl::GetFlag(FLAGS_normalize_advantages);
      options.ppo.update_epochs = absl::GetFlag(FLAGS_epochs);
      options.opponents = absl::GetFlag(FLAGS_opponents);
      options.queue_size = absl::GetFlag(FLAGS_queue_size);
      options.steps = absl::GetFlag(FLAGS_steps);
      options.seed = seed;
      SetRewardModelOptions(&options);
      auto spo = RunPreferenceTraining(options);
      options.source = RewardSource::kRewardModel;
      auto rlhf = RunPreferenceTraining(options);
      if (!spo.ok() || !rlhf.ok()) return 1;
      if (absl::GetFlag(FLAGS_trace)) {
        const size_t n = spo->distributions.size();
        for (size_t k = 0; k < n; k += std::max<size_t>(1, n / 8)) {
          std::printf("    update %zu: SPO %s  RM %s\n", k, Dist(spo->distributions[k]).c_str(),
                      Dist(rlhf->distributions[k]).c_str());
        }
      }
      std::printf("%-16s %-5d %-19s %-19s %6.3f %-19s %6.3f %-19s %8.3f\n",
                  absl::StrFormat("%.2f/%.2f/%.2f", mix[0], mix[1], mix[2]).c_str(), seed,
                  Dist(winner).c_str(), Dist(spo->average_distribution).c_str(),
                  TotalVariation(spo->average_distribution, winner),
                  Dist(spo->final_distribution).c_str(),
                  TotalVariation(spo->final_distribution, winner),
                  Dist(rlhf->final_distribution).c_str(),
                  *std::max_element(rlhf->final_distribution.begin(),
                                    rlhf->final_distribution.end()));
      std::fflush(stdout);
    }
  }
  return 0;
}

// CartPole-v1 (or --env) with each preference function: SPO, reward-model
// RLHF on the same queries, and PPO on the true reward; the true return of
// the last 10 episodes and where the mean of 10 reached --threshold.
int Episodic() {
  const std::vector<std::string> functions = absl::StrSplit(absl::GetFlag(FLAGS_functions), ',');
  std::printf("%s, %lld env steps per run, PPO %s, %d queries per "
              "ended episode, SPO queue %d, noisy temperature %g, non-markovian threshold %g\n",
              absl::GetFlag(FLAGS_env).c_str(), static_cast<long long>(absl::GetFlag(FLAGS_steps)),
              absl::GetFlag(FLAGS_continuous_defaults) ? "continuous defaults (1 env x 2048 steps)"
                                                        : "defaults (4 envs x 128 steps)",
              absl::GetFlag(FLAGS_opponents), absl::GetFlag(FLAGS_queue_size),
              absl::GetFlag(FLAGS_temperature), absl::GetFlag(FLAGS_threshold));
  std::printf("%-14s %-12s %-5s %12s %12s %10s %8s %12s %12s %12s %12s\n", "preference",
              "learner", "seed", "last-10 true", "solved at", "queries", "flipped", "constraint",
              "greedy true", "greedy cons.", "last-100 c.");
  const std::vector<std::pair<std::string, RewardSource>> sources = {
      {"spo", RewardSource::kSpo}, {"reward_model", RewardSource::kRewardModel},
      {"ppo_true", RewardSource::kTrueReward}};
  const std::vector<std::string> learners = absl::StrSplit(absl::GetFlag(FLAGS_learners), ',');
  for (const std::string& function : functions) {
    for (const auto& [source_name, source] : sources) {
      if (std::find(learners.begin(), learners.end(), source_name) == learners.end()) continue;
      const int first = absl::GetFlag(FLAGS_first_seed);
      for (int seed = first; seed < first + absl::GetFlag(FLAGS_seeds); ++seed) {
        PreferenceTrainOptions options;
        options.env_name = absl::GetFlag(FLAGS_env);
        options.source = source;
        if (absl::GetFlag(FLAGS_continuous_defaults)) {
          options.ppo = ppo::ContinuousControlDefaults();
          options.ppo.normalize_observations = false;
          options.ppo.normalize_rewards = source == RewardSource::kTrueReward;
        }
        options.preference.set_name(function);
        options.preference.set_temperature(absl::GetFlag(FLAGS_temperature));
        options.preference.set_threshold(absl::GetFlag(FLAGS_threshold));
        options.preference.set_sample(function == "noisy");
        for (double w : {0.4, 0.35, 0.25}) options.preference.add_mix(w);
        options.opponents = absl::GetFlag(FLAGS_opponents);
        options.queue_size = absl::GetFlag(FLAGS_queue_size);
        options.preference_address = absl::GetFlag(FLAGS_preference_address);
        options.steps = absl::GetFlag(FLAGS_steps);
        options.seed = seed;
        options.final_greedy_episodes = absl::GetFlag(FLAGS_greedy_episodes);
        options.time_feature_scale = absl::GetFlag(FLAGS_time_feature_scale);
        if (source == RewardSource::kSpo) {
          options.ppo.gamma = absl::GetFlag(FLAGS_spo_gamma);
          if (absl::GetFlag(FLAGS_spo_gae_lambda) >= 0) {
            options.ppo.gae_lambda = absl::GetFlag(FLAGS_spo_gae_lambda);
          }
          if (absl::GetFlag(FLAGS_spo_normalize_advantages) >= 0) {
            options.ppo.normalize_advantages = absl::GetFlag(FLAGS_spo_normalize_advantages) == 1;
          }
        }
        if (source != RewardSource::kTrueReward && absl::GetFlag(FLAGS_episodic_ent_coef) >= 0) {
          options.ppo.ent_coef = absl::GetFlag(FLAGS_episodic_ent_coef);
        }
        options.whole_episodes = absl::GetFlag(FLAGS_whole_episodes);
        if (!absl::GetFlag(FLAGS_hidden).empty()) options.ppo.hidden = Layers(absl::GetFlag(FLAGS_hidden));
        SetRewardModelOptions(&options);
        options.spread = absl::GetFlag(FLAGS_spread);
        auto r = RunPreferenceTraining(options);
        if (!r.ok()) {
          std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
          return 1;
        }
        // Final episodes within the non-markovian constraint: the return of
        // an episode's last quarter at most the threshold (CartPole: 1 per
        // step, so a length limit), of `tails`' last `k`.
        auto within = [&](const std::vector<double>& tails, size_t k) {
          int met = 0;
          for (size_t j = tails.size() - k; j < tails.size(); ++j) {
            met += tails[j] <= absl::GetFlag(FLAGS_threshold);
          }
          return met;
        };
        const size_t k = std::min<size_t>(10, r->episodes.size());
        double last = 0;
        for (size_t j = r->episodes.size() - k; j < r->episodes.size(); ++j) {
          last += r->episodes[j].episode_return / k;
        }
        // The constraint over the last 10 episodes, and over the last 100: a
        // steadier reading of the final policy (lr is annealed to 0, so they
        // come from nearly one policy).
        std::string constraint = "-";
        std::string constraint100 = "-";
        if (function == "non_markovian") {
          constraint = absl::StrFormat("%d/%zu", within(r->tail_returns, k), k);
          const size_t k100 = std::min<size_t>(100, r->episodes.size());
          constraint100 = absl::StrFormat("%d/%zu", within(r->tail_returns, k100), k100);
        }
        double greedy = 0;
        for (const ppo::EpisodeRecord& e : r->greedy_episodes) {
          greedy += e.episode_return / r->greedy_episodes.size();
        }
        const std::string greedy_constraint =
            function == "non_markovian"
                ? absl::StrFormat("%d/%zu", within(r->greedy_tail_returns, r->greedy_episodes.size()),
                                  r->greedy_episodes.size())
                : "-";
        std::printf("%-14s %-12s %-5d %12.1f %12lld %10lld %7.1f%% %12s %12.1f %12s %12s\n",
                    function.c_str(), source_name.c_str(), seed, last,
                    static_cast<long long>(ppo::SolvedAt(r->episodes, absl::GetFlag(FLAGS_threshold_return))),
                    static_cast<long long>(r->queries), 100 * r->against_true_order,
                    constraint.c_str(), greedy, greedy_constraint.c_str(), constraint100.c_str());
        if (const std::string prefix = absl::GetFlag(FLAGS_csv_prefix); !prefix.empty()) {
          const std::string path = absl::StrCat(prefix, function, "_", source_name, "_", seed, ".csv");
          std::FILE* f = std::fopen(path.c_str(), "w");
          if (f == nullptr) {
            std::fprintf(stderr, "cannot write %s\n", path.c_str());
            return 1;
          }
          std::fprintf(f, "env_step,queries,return,length,head,tail,within\n");
          for (size_t j = 0; j < r->episodes.size(); ++j) {
            const ppo::EpisodeRecord& e = r->episodes[j];
            // Episodes still waiting for their score at the end have no count.
            const int64_t queries = r->queries_at_episode.empty() ? 0
                                    : j < r->queries_at_episode.size() ? r->queries_at_episode[j]
                                                                       : r->queries;
            const double tail = r->tail_returns[j];
            std::fprintf(f, "%lld,%lld,%.3f,%d,%.3f,%.3f,%d\n", static_cast<long long>(e.env_step),
                         static_cast<long long>(queries), e.episode_return, e.length,
                         e.episode_return - tail, tail, tail <= absl::GetFlag(FLAGS_threshold) ? 1 : 0);
          }
          std::fclose(f);
        }
        if (absl::GetFlag(FLAGS_print_lengths)) {
          const size_t k100 = std::min<size_t>(100, r->episodes.size());
          std::vector<int> lengths;
          double sum = 0, sq = 0;
          std::map<int, int> bins;
          for (size_t j = r->episodes.size() - k100; j < r->episodes.size(); ++j) {
            const int l = r->episodes[j].length;
            lengths.push_back(l);
            sum += l;
            sq += static_cast<double>(l) * l;
            ++bins[l / 10 * 10];
          }
          const double mean = sum / k100;
          std::printf("  lengths of the last %zu: mean %.1f, sd %.1f;", k100, mean,
                      std::sqrt(std::max(0.0, sq / k100 - mean * mean)));
          for (const auto& [bin, count] : bins) std::printf(" %d:%d", bin, count);
          if (function == "non_markovian") {  // what the preference maximises
            double head = 0;
            for (size_t j = r->episodes.size() - k; j < r->episodes.size(); ++j) {
              head += (r->episodes[j].episode_return - r->tail_returns[j]) / k;
            }
            std::printf("; head return (first 3/4) of the last %zu: %.1f", k, head);
          }
          if (function == "non_markovian" && absl::GetFlag(FLAGS_env) == "CartPole-v1") {
            // Where SPO's self-play would put this shape (CartPole: 1 per step).
            static const std::vector<std::vector<double>> matrix = [&] {
              auto f = MakePreferenceFunction(options.preference);
              return ConstantRewardLengthMatrix(**f, 500);
            }();
            const ShiftFixedPoint fp = SelfPlayShiftFixedPoint(matrix, lengths);
            double fp_mean = 0;
            int fp_within = 0;
            for (int l : fp.outcomes) {
              fp_mean += static_cast<double>(l) / fp.outcomes.size();
              fp_within += LastQuarterReturn(std::vector<float>(l, 1.0f)) <=
                           absl::GetFlag(FLAGS_threshold);
            }
            std::printf("; self-play fixed point of this shape: mean %.1f, %d/%zu within", fp_mean,
                        fp_within, fp.outcomes.size());
          }
          std::printf("\n");
        }
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace rlx::spo

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("SPO against reward-model RLHF (see the header of spo_bench.cc).");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_experiment) == "intransitive") return rlx::spo::Intransitive();
  if (absl::GetFlag(FLAGS_experiment) == "episodic") return rlx::spo::Episodic();
  std::fprintf(stderr, "unknown --experiment\n");
  return 1;
}
