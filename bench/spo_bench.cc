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
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "algorithms/spo/one_step_trainer.h"
#include "algorithms/preferences.h"

ABSL_FLAG(std::string, experiment, "intransitive", "intransitive");
ABSL_FLAG(int, seeds, 3, "Seeds per cell.");
ABSL_FLAG(int64_t, steps, 60000, "Env steps per run.");
ABSL_FLAG(double, ent_coef, 0.02, "PPO entropy coefficient.");
ABSL_FLAG(double, lr, 5e-4, "PPO learning rate (annealed).");
ABSL_FLAG(int, opponents, 8, "Preference queries per trajectory.");
ABSL_FLAG(int, queue_size, 256, "SPO: recent trajectories kept as opponents.");
ABSL_FLAG(std::string, mixes, "0.4/0.35/0.25,0.3/0.3/0.4,0.45/0.2/0.35",
          "Intransitive population mixes (return/position/energy raters).");
ABSL_FLAG(bool, normalize_advantages, false, "PPO's per-minibatch advantage normalisation.");
ABSL_FLAG(int, epochs, 4, "PPO epochs per update.");
ABSL_FLAG(bool, trace, false, "Print the distribution every 1/8 of training.");

namespace rlx::spo {
namespace {

Trajectory GameTrajectory(int a) {
  const float reward[3] = {0, 2, 1}, position[3] = {1, 0, 2};
  Trajectory t;
  t.set_length(1);
  t.set_obs_dim(1);
  t.set_action_dim(1);
  t.add_observations(0);
  t.add_observations(position[a]);
  t.add_actions(static_cast<float>(a));
  t.add_rewards(reward[a]);
  return t;
}

std::string Dist(const std::vector<double>& p) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f %.3f %.3f", p[0], p[1], p[2]);
  return buf;
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
    std::vector<std::vector<double>> m(3, std::vector<double>(3));
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) m[i][j] = (*f)->Probability(GameTrajectory(i), GameTrajectory(j));
    }
    const std::vector<double> winner = MinimaxWinner(m);
    for (int seed = 1; seed <= absl::GetFlag(FLAGS_seeds); ++seed) {
      OneStepOptions options;
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
      auto spo = RunOneStepTraining(options);
      options.source = RewardSource::kRewardModel;
      auto rlhf = RunOneStepTraining(options);
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

}  // namespace
}  // namespace rlx::spo

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("SPO against reward-model RLHF (see the header of spo_bench.cc).");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_experiment) == "intransitive") return rlx::spo::Intransitive();
  std::fprintf(stderr, "unknown --experiment\n");
  return 1;
}
