// swarm_bench: Navigation-v0 (envs/navigation.h) figures for
// docs/benchmarks.md, "Swarm navigation".
//
//   --section=env        env agent-steps/s against N on one core, random actions
//   --section=baselines  the hand-written controllers' success, collisions and
//                        time to goal at several N (go-to-goal, and go-to-goal
//                        plus repulsion at the --gains given)
//   --section=policy     greedy policy inference agent-steps/s against N (one
//                        batched forward pass per step for all agents; the
//                        GNN and the K-nearest MLP), and env + policy together
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "envs/navigation.h"
#include "envs/navigation_controllers.h"
#include "envs/navigation_eval.h"
#include "algorithms/job_spec.h"
#include "algorithms/swarm/swarm_trainer.h"

ABSL_FLAG(std::string, section, "env", "env | baselines | policy");
ABSL_FLAG(std::string, agents, "8,16,32,64,128,256,512,1024", "N values (comma-separated)");
ABSL_FLAG(bool, obstacles, false, "with obstacles (8 per 4 x 4)");
ABSL_FLAG(bool, geodesic, false, "with obstacles: progress along the shortest path around them");
ABSL_FLAG(std::string, scenario, "random", "random | swap | circle");
ABSL_FLAG(double, seconds, 1.0, "env section: seconds of stepping per N");
ABSL_FLAG(int, episodes, 20, "baselines section: episodes per N");
ABSL_FLAG(std::string, gains, "0.005,0.01,0.02,0.04", "repulsion gains to evaluate");
ABSL_FLAG(uint64_t, seed, 1000, "first episode seed");

namespace rlx {
namespace {

std::vector<double> ParseList(const std::string& text) {
  std::vector<double> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    double v = 0;
    if (absl::SimpleAtod(part, &v)) out.push_back(v);
  }
  return out;
}

NavigationConfig Config(int agents) {
  NavigationConfig c;
  c.num_agents = agents;
  c.obstacles = absl::GetFlag(FLAGS_obstacles);
  c.geodesic_progress = absl::GetFlag(FLAGS_geodesic);
  c.scenario = *ParseNavigationScenario(absl::GetFlag(FLAGS_scenario));
  return c;
}

int EnvSection() {
  std::printf("# Navigation-v0 env stepping, one core, uniform random forces (%s, obstacles %s%s)\n",
              absl::GetFlag(FLAGS_scenario).c_str(), absl::GetFlag(FLAGS_obstacles) ? "on" : "off",
              absl::GetFlag(FLAGS_obstacles) && absl::GetFlag(FLAGS_geodesic) ? ", geodesic progress"
                                                                               : "");
  std::printf("%6s %12s %14s %10s\n", "N", "steps/s", "agent-steps/s", "ns/agent");
  for (double nd : ParseList(absl::GetFlag(FLAGS_agents))) {
    const int n = static_cast<int>(nd);
    std::unique_ptr<NavigationEnv> env = *NavigationEnv::Create(Config(n));
    // A pool of random actions drawn beforehand, so the figure is the env's.
    std::mt19937_64 rng(n);
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<std::vector<float>> pool(64, std::vector<float>(2 * n));
    for (auto& a : pool) for (float& v : a) v = u(rng);
    std::vector<float> obs;
    MultiAgentStepResult r;
    uint64_t seed = 1;
    env->Reset(seed, &obs);
    int64_t steps = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (elapsed < absl::GetFlag(FLAGS_seconds)) {
      for (int k = 0; k < 64; ++k) {
        if (!env->Step(pool[(steps + k) % 64], &r).ok()) return 1;
        if (r.done()) env->Reset(++seed, &obs);
      }
      steps += 64;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    const double agent_steps = static_cast<double>(steps) * n / elapsed;
    std::printf("%6d %12.0f %14.0f %10.1f\n", n, steps / elapsed, agent_steps, 1e9 / agent_steps);
    std::fflush(stdout);
  }
  return 0;
}

int BaselinesSection() {
  std::printf("# Hand-written controllers, %d episodes per N (%s, obstacles %s)\n",
              absl::GetFlag(FLAGS_episodes), absl::GetFlag(FLAGS_scenario).c_str(),
              absl::GetFlag(FLAGS_obstacles) ? "on" : "off");
  std::printf("%-18s %6s %9s %9s %11s %12s\n", "controller", "N", "success", "reached",
              "coll/agent", "time-to-goal");
  std::vector<double> gains = {0.0};
  for (double g : ParseList(absl::GetFlag(FLAGS_gains))) gains.push_back(g);
  for (double nd : ParseList(absl::GetFlag(FLAGS_agents))) {
    const int n = static_cast<int>(nd);
    for (double gain : gains) {
      absl::StatusOr<NavigationEvalResult> r =
          EvaluateNavigationController(Config(n), absl::GetFlag(FLAGS_episodes),
                                       absl::GetFlag(FLAGS_seed), NavigationController(gain));
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        return 1;
      }
      const std::string name = gain == 0 ? "go-to-goal" : "repulsion " + std::to_string(gain).substr(0, 6);
      std::printf("%-18s %6d %8.2f%% %8.2f%% %11.3f %11.2fs\n", name.c_str(), n,
                  100 * r->success_rate, 100 * r->reach_rate, r->collisions_per_agent,
                  r->mean_time_to_goal);
      std::fflush(stdout);
    }
  }
  return 0;
}

int PolicySection() {
  std::printf("# Greedy policy inference, one core, batched over all N agents (obstacles %s)\n",
              absl::GetFlag(FLAGS_obstacles) ? "on" : "off");
  std::printf("%-5s %6s %16s %16s\n", "net", "N", "forward agent/s", "env+policy agent/s");
  for (const char* network : {"gnn", "mlp"}) {
    for (double nd : ParseList(absl::GetFlag(FLAGS_agents))) {
      const int n = static_cast<int>(nd);
      std::unique_ptr<NavigationEnv> env = *NavigationEnv::Create(Config(n));
      ppo::PpoConfig config = swarm::NavigationPpoDefaults();
      config.network = network;
      const ProblemSpec problem = ProblemFromMultiAgentSpec(env->spec());
      ppo::PpoModel model(problem, config, 1);
      std::vector<float> obs;
      env->Reset(1, &obs);
      ppo::ActScratch scratch;
      ppo::ActOutput out;
      // Forward passes alone, on one state's observations.
      int64_t passes = 0;
      auto start = std::chrono::steady_clock::now();
      double elapsed = 0;
      while (elapsed < absl::GetFlag(FLAGS_seconds)) {
        for (int k = 0; k < 16; ++k) model.Act(obs.data(), n, true, nullptr, &scratch, &out);
        passes += 16;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      const double forward = passes * static_cast<double>(n) / elapsed;
      // Env and policy together (an actor's loop without the learner).
      const NavigationPolicy policy = swarm::GreedyNavigationPolicy(model);
      MultiAgentStepResult r;
      std::vector<float> u;
      int64_t steps = 0;
      uint64_t seed = 1;
      start = std::chrono::steady_clock::now();
      elapsed = 0;
      while (elapsed < absl::GetFlag(FLAGS_seconds)) {
        for (int k = 0; k < 16; ++k) {
          if (!policy(*env, obs, &u).ok() || !env->Step(u, &r).ok()) return 1;
          obs.swap(r.observations);
          if (r.done()) env->Reset(++seed, &obs);
        }
        steps += 16;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      std::printf("%-5s %6d %16.0f %16.0f\n", network, n, forward, steps * static_cast<double>(n) / elapsed);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Navigation-v0 env throughput and hand-written baselines");
  absl::ParseCommandLine(argc, argv);
  const std::string section = absl::GetFlag(FLAGS_section);
  if (section == "env") return rlx::EnvSection();
  if (section == "baselines") return rlx::BaselinesSection();
  if (section == "policy") return rlx::PolicySection();
  std::fprintf(stderr, "unknown --section=%s (env | baselines | policy)\n", section.c_str());
  return 2;
}
