// swarm_train: multi-agent PPO on Navigation-v0 in one process, then the
// greedy policy evaluated zero-shot at larger N (same density).
//
//   swarm_train --agents=8 --agent_steps=20000000 --max_minutes=30 --seed=1
//   swarm_train --network=mlp ...       # the K-nearest MLP baseline
//   swarm_train --obstacles ...         # 8 obstacles per 4 x 4
//   swarm_train --save_params=p.bin ... ; swarm_train --load_params=p.bin --eval_agents=8,512
//
// Prints a progress line per 10 updates (mean success rate and return of
// the last 20 training episodes), then one evaluation line per N in
// --eval_agents (success, collisions per agent-episode, time to goal,
// alongside the go-to-goal controller's in the same episodes), and writes
// the curve (--curve, CSV) and a picture of one episode's paths (--svg).
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "algorithms/job_spec.h"
#include "algorithms/swarm/swarm_trainer.h"
#include "envs/navigation_controllers.h"
#include "envs/navigation_svg.h"
#include "core/process_setup.h"

ABSL_FLAG(int, agents, 8, "Agents per env while training.");
ABSL_FLAG(bool, obstacles, false, "Obstacles (8 per 4 x 4).");
ABSL_FLAG(bool, geodesic, false,
          "With obstacles: progress along the shortest path around them (false: straight distance).");
ABSL_FLAG(std::string, scenario, "random", "Training scenario: random | swap | circle | mixed (evaluation: random).");
ABSL_FLAG(std::string, network, "gnn",
          "gnn | gnn_max (attention and max-pool) | gnn_typed (heads by node type: agents, LiDAR hits) "
          "| mlp (the K-nearest baseline).");
ABSL_FLAG(std::string, save_params, "",
          "After training, write the policy's parameters here (float32, as PpoModel::GetParameters).");
ABSL_FLAG(std::string, load_params, "",
          "Skip training: evaluate parameters written by --save_params (same --network, --hidden, "
          "--gnn_heads and --obstacles).");
ABSL_FLAG(int32_t, gnn_heads, 1, "attention heads of gnn / gnn_max (must divide the last --hidden size)");
ABSL_FLAG(int64_t, agent_steps, 20000000, "Agent steps (rounded up to whole rollouts).");
ABSL_FLAG(double, max_minutes, 30, "Stop training after this many minutes (0: no limit).");
ABSL_FLAG(uint64_t, seed, 1, "Seed.");
ABSL_FLAG(int, num_envs, 0, "Envs per rollout (0: default 8).");
ABSL_FLAG(int, num_steps, 0, "Steps per rollout (0: default 128).");
ABSL_FLAG(int, num_minibatches, 0, "Minibatches (0: default 4).");
ABSL_FLAG(int, update_epochs, 0, "Epochs (0: default 4).");
ABSL_FLAG(double, learning_rate, 0, "Learning rate (0: default 3e-4).");
ABSL_FLAG(double, ent_coef, -1, "Entropy coefficient (-1: default 0).");
ABSL_FLAG(double, gamma, 0, "Discount (0: default 0.99).");
ABSL_FLAG(double, init_log_std, 1, "Initial log std (1: default -0.5).");
ABSL_FLAG(bool, normalize_rewards, false, "Scale rewards by the return's std.");
ABSL_FLAG(std::string, hidden, "64,64", "Hidden sizes.");
ABSL_FLAG(double, collision_penalty, -1, "Per step in collision (-1: env default).");
ABSL_FLAG(double, progress_reward, -1, "Per unit of distance closed (-1: env default).");
ABSL_FLAG(double, proximity_penalty, -1, "Near-miss ramp under --proximity_range clearance (-1: env default).");
ABSL_FLAG(double, obstacle_proximity_penalty, -1,
          "The near-miss ramp's weight for obstacles alone (--proximity_penalty then counts agents "
          "only; < 0: one ramp over the nearest surface of either).");
ABSL_FLAG(double, obstacle_collision_penalty, -1,
          "Per step in contact with an obstacle, apart from --collision_penalty's for agents (< 0: "
          "one penalty for any contact).");
ABSL_FLAG(bool, residual, false,
          "The policy's action corrects GCBF+'s nominal go-to-goal force (env setting residual=1).");
ABSL_FLAG(bool, ego_lidar, false,
          "With --obstacles: the ego features also hold the 32 LiDAR ranges (env setting ego_lidar=1).");
ABSL_FLAG(bool, free_rays, false,
          "With --obstacles: rays that hit nothing fill their slot with a free-space node.");
ABSL_FLAG(double, goal_bonus, -1, "Paid once when an agent reaches its goal (-1: env default).");
ABSL_FLAG(double, proximity_range, -1,
          "Clearance under which the near-miss ramp starts, in (0, 0.4] (< 0: the env's 0.1).");
ABSL_FLAG(std::string, eval_scenario, "random", "Evaluation scenario: random | swap | circle.");
ABSL_FLAG(std::string, eval_agents, "8,16,32,64,128", "N values to evaluate at.");
ABSL_FLAG(int, eval_episodes, 10, "Evaluation episodes per N.");
ABSL_FLAG(std::string, eval_repulsion_gains, "0.05,0.1,0.2,0.5",
          "Go-to-goal plus repulsion at these gains, on the same evaluation episodes (empty: none).");
ABSL_FLAG(std::string, curve, "", "Write 'agent_step,success_rate,collisions,return' here.");
ABSL_FLAG(std::string, svg, "", "Write one evaluation episode's paths (first N) here.");
ABSL_FLAG(bool, quiet, false, "Only the summary lines.");

namespace rlx::swarm {
namespace {

absl::StatusOr<std::unique_ptr<ppo::PpoModel>> LoadModel(const SwarmTrainOptions& o,
                                                         const std::string& path) {
  absl::StatusOr<std::unique_ptr<NavigationEnv>> env = NavigationEnv::Create(o.env);
  if (!env.ok()) return env.status();
  auto model = std::make_unique<ppo::PpoModel>(ProblemFromMultiAgentSpec((*env)->spec()), o.config,
                                               o.seed);
  std::ifstream in(path, std::ios::binary);
  std::vector<float> params(model->num_parameters());
  in.read(reinterpret_cast<char*>(params.data()),
          static_cast<std::streamsize>(params.size() * sizeof(float)));
  if (!in || in.peek() != std::char_traits<char>::eof()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": cannot read ", params.size(),
        " float32 parameters (missing, or written for another --network / --hidden / --obstacles)"));
  }
  if (absl::Status s = model->SetParameters(params); !s.ok()) return s;
  return model;
}

void ReportTraining(const SwarmTrainOptions& o, const SwarmTrainResult& r) {
  const ppo::PpoConfig& c = o.config;
  const std::vector<SwarmEpisodeRecord>& eps = r.episodes;
  if (const std::string path = absl::GetFlag(FLAGS_curve); !path.empty()) {
    std::ofstream out(path);
    out << "agent_step,success_rate,collisions_per_agent,mean_return\n";
    for (const SwarmEpisodeRecord& e : eps) {
      out << e.agent_step << "," << e.success_rate << "," << e.collisions_per_agent << ","
          << e.mean_return << "\n";
    }
  }
  double last_success = 0, last_return = 0;
  const size_t n = eps.size(), window = std::min<size_t>(n, 20);
  for (size_t i = n - window; i < n; ++i) {
    last_success += eps[i].success_rate / window;
    last_return += eps[i].mean_return / window;
  }
  std::printf(
      "swarm_train %s N=%d obstacles=%d seed %llu: %lld agent steps in %.1f s (%.0f agent-steps/s, "
      "%.0f%% in updates), %zu episodes, last-20 training success %.1f%% return %.2f\n",
      c.network.c_str(), o.env.num_agents, o.env.obstacles ? 1 : 0,
      static_cast<unsigned long long>(o.seed), static_cast<long long>(r.agent_steps), r.seconds,
      r.agent_steps / r.seconds, 100 * r.update_seconds / r.seconds, n, 100 * last_success,
      last_return);
  std::fflush(stdout);
}

int Main() {
  SwarmTrainOptions o;
  o.env.num_agents = absl::GetFlag(FLAGS_agents);
  o.env.obstacles = absl::GetFlag(FLAGS_obstacles);
  o.env.geodesic_progress = absl::GetFlag(FLAGS_geodesic);
  absl::StatusOr<NavigationScenario> scenario = ParseNavigationScenario(absl::GetFlag(FLAGS_scenario));
  if (!scenario.ok()) {
    std::fprintf(stderr, "swarm_train: %s\n", scenario.status().ToString().c_str());
    return 2;
  }
  o.env.scenario = *scenario;
  if (double v = absl::GetFlag(FLAGS_collision_penalty); v >= 0) o.env.collision_penalty = v;
  if (double v = absl::GetFlag(FLAGS_progress_reward); v >= 0) o.env.progress_reward = v;
  if (double v = absl::GetFlag(FLAGS_proximity_penalty); v >= 0) o.env.proximity_penalty = v;
  if (double v = absl::GetFlag(FLAGS_proximity_range); v >= 0) o.env.proximity_range = v;
  o.env.obstacle_proximity_penalty = absl::GetFlag(FLAGS_obstacle_proximity_penalty);
  o.env.obstacle_collision_penalty = absl::GetFlag(FLAGS_obstacle_collision_penalty);
  o.env.free_rays = absl::GetFlag(FLAGS_free_rays);
  o.env.residual = absl::GetFlag(FLAGS_residual);
  o.env.ego_lidar = absl::GetFlag(FLAGS_ego_lidar);
  if (double v = absl::GetFlag(FLAGS_goal_bonus); v >= 0) o.env.goal_bonus = v;
  o.agent_steps = absl::GetFlag(FLAGS_agent_steps);
  o.max_seconds = 60 * absl::GetFlag(FLAGS_max_minutes);
  o.seed = absl::GetFlag(FLAGS_seed);
  ppo::PpoConfig& c = o.config;
  c.network = absl::GetFlag(FLAGS_network);
  c.gnn_heads = absl::GetFlag(FLAGS_gnn_heads);
  if (int v = absl::GetFlag(FLAGS_num_envs); v > 0) c.num_envs = v;
  if (int v = absl::GetFlag(FLAGS_num_steps); v > 0) c.num_steps = v;
  if (int v = absl::GetFlag(FLAGS_num_minibatches); v > 0) c.num_minibatches = v;
  if (int v = absl::GetFlag(FLAGS_update_epochs); v > 0) c.update_epochs = v;
  if (double v = absl::GetFlag(FLAGS_learning_rate); v > 0) c.learning_rate = v;
  if (double v = absl::GetFlag(FLAGS_ent_coef); v >= 0) c.ent_coef = v;
  if (double v = absl::GetFlag(FLAGS_gamma); v > 0) c.gamma = v;
  if (double v = absl::GetFlag(FLAGS_init_log_std); v <= 0) c.init_log_std = v;
  c.normalize_rewards = absl::GetFlag(FLAGS_normalize_rewards);
  absl::StatusOr<std::vector<int64_t>> hidden = ParseHiddenSizes(absl::GetFlag(FLAGS_hidden));
  if (!hidden.ok()) {
    std::fprintf(stderr, "swarm_train: %s\n", std::string(hidden.status().message()).c_str());
    return 2;
  }
  c.hidden = *hidden;
  const bool quiet = absl::GetFlag(FLAGS_quiet);
  int64_t updates = 0;
  o.on_update = [&](int64_t steps, const ppo::PpoUpdateInfo& info) {
    if (quiet || ++updates % 10 != 0) return;
    std::fprintf(stderr, "agent step %lld: pg %.4f v %.4f entropy %.3f kl %.4f ev %.3f\n",
                 static_cast<long long>(steps), info.policy_loss, info.value_loss, info.entropy,
                 info.approx_kl, info.explained_variance);
  };
  std::unique_ptr<ppo::PpoModel> loaded;
  absl::StatusOr<SwarmTrainResult> result;
  if (const std::string path = absl::GetFlag(FLAGS_load_params); !path.empty()) {
    absl::StatusOr<std::unique_ptr<ppo::PpoModel>> model = LoadModel(o, path);
    if (!model.ok()) {
      std::fprintf(stderr, "swarm_train: %s\n", model.status().ToString().c_str());
      return 1;
    }
    loaded = std::move(*model);
  } else {
    result = RunSwarmTraining(o);
    if (!result.ok()) {
      std::fprintf(stderr, "swarm_train: %s\n", result.status().ToString().c_str());
      return 1;
    }
    ReportTraining(o, *result);
    if (const std::string path = absl::GetFlag(FLAGS_save_params); !path.empty()) {
      const std::vector<float> params = result->learner->model().GetParameters();
      std::ofstream out(path, std::ios::binary);
      out.write(reinterpret_cast<const char*>(params.data()),
                static_cast<std::streamsize>(params.size() * sizeof(float)));
      if (!out) {
        std::fprintf(stderr, "swarm_train: cannot write %s\n", path.c_str());
        return 1;
      }
    }
  }
  const ppo::PpoModel& model = loaded ? *loaded : result->learner->model();
  const NavigationPolicy policy = GreedyNavigationPolicy(model);
  NavigationController go_to_goal;
  bool first = true;
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_eval_agents), ',', absl::SkipEmpty())) {
    int agents = 0;
    if (!absl::SimpleAtoi(part, &agents) || agents < 1) continue;
    NavigationConfig ec = o.env;
    ec.num_agents = agents;
    absl::StatusOr<NavigationScenario> eval_scenario =
        ParseNavigationScenario(absl::GetFlag(FLAGS_eval_scenario));
    if (!eval_scenario.ok()) {
      std::fprintf(stderr, "swarm_train: %s\n", eval_scenario.status().ToString().c_str());
      return 2;
    }
    ec.scenario = *eval_scenario;
    const int episodes = absl::GetFlag(FLAGS_eval_episodes);
    const uint64_t eval_seed = 1'000'000;
    NavigationPathRecorder recorder;
    absl::StatusOr<NavigationEvalResult> learned = EvaluateNavigation(
        ec, episodes, eval_seed, policy, [&](int episode, const NavigationEnv& env) {
          if (first && episode == 0) recorder.Record(env);
        });
    absl::StatusOr<NavigationEvalResult> baseline =
        EvaluateNavigationController(ec, episodes, eval_seed, go_to_goal);
    if (!learned.ok() || !baseline.ok()) {
      std::fprintf(stderr, "swarm_train: evaluation: %s\n",
                   (learned.ok() ? baseline.status() : learned.status()).ToString().c_str());
      return 1;
    }
    // The repulsion rule at each gain on the same episodes: the best of them
    // is the baseline a learned policy has to beat.
    std::string repulsion;
    for (absl::string_view g :
         absl::StrSplit(absl::GetFlag(FLAGS_eval_repulsion_gains), ',', absl::SkipEmpty())) {
      double gain = 0;
      if (!absl::SimpleAtod(g, &gain) || !(gain > 0)) continue;
      absl::StatusOr<NavigationEvalResult> r =
          EvaluateNavigationController(ec, episodes, eval_seed, NavigationController(gain));
      if (!r.ok()) {
        std::fprintf(stderr, "swarm_train: evaluation: %s\n", r.status().ToString().c_str());
        return 1;
      }
      absl::StrAppendFormat(&repulsion, " | repulsion %g success %.2f%% reached %.2f%%", gain,
                            100 * r->success_rate, 100 * r->reach_rate);
    }
    std::printf(
        "eval %s N=%d: success %.2f%% reached %.2f%% collisions/agent %.3f time-to-goal %.2fs | "
        "go-to-goal success %.2f%% time-to-goal %.2fs (ratio %.2f)%s\n",
        c.network.c_str(), agents, 100 * learned->success_rate, 100 * learned->reach_rate,
        learned->collisions_per_agent, learned->mean_time_to_goal, 100 * baseline->success_rate,
        baseline->mean_time_to_goal,
        baseline->mean_time_to_goal > 0 ? learned->mean_time_to_goal / baseline->mean_time_to_goal
                                        : 0.0,
        repulsion.c_str());
    std::fflush(stdout);
    if (first && !absl::GetFlag(FLAGS_svg).empty()) {
      absl::Status s = recorder.WriteSvg(
          absl::GetFlag(FLAGS_svg),
          absl::StrCat("Navigation-v0, ", c.network, " policy, N=", agents,
                       o.env.obstacles ? ", obstacles" : "", " (green: success, red: collided)"));
      if (!s.ok()) std::fprintf(stderr, "swarm_train: %s\n", s.ToString().c_str());
    }
    first = false;
  }
  return 0;
}

}  // namespace
}  // namespace rlx::swarm

int main(int argc, char** argv) {
  rlx::SetUpProcess();
  absl::SetProgramUsageMessage(
      "Multi-agent PPO on Navigation-v0 in one process.\n"
      "  swarm_train --agents=8 --agent_steps=20000000 --max_minutes=30 --seed=1");
  absl::ParseCommandLine(argc, argv);
  return rlx::swarm::Main();
}
