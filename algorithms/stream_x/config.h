// Configuration of the stream-x algorithms (docs/algorithms.md, "Configuration
// and defaults") and the env-agnostic description of the problem they solve.
//
// ProblemSpec is what a learner or actor needs to know about an environment
// (sizes, action bounds, time limit); the trainer fills it from an EnvSpec, a
// distributed learner from the job. StreamConfig holds every hyperparameter
// with the paper's defaults; ValidateStreamConfig is the one place that checks
// them against the problem.
#ifndef RLX_ALGORITHMS_STREAM_X_CONFIG_H_
#define RLX_ALGORITHMS_STREAM_X_CONFIG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envs/env.h"
#include "envs/multi_agent_env.h"

namespace rlx {

enum class StreamAlgorithm { kStreamAC, kStreamQ, kStreamTD };

absl::StatusOr<StreamAlgorithm> ParseStreamAlgorithm(absl::string_view name);  // stream_ac, ...
absl::string_view StreamAlgorithmName(StreamAlgorithm algorithm);

// "64,64" -> {64, 64} (the tools' --hidden flags); INVALID_ARGUMENT naming
// a part that is not an integer. Sizes are checked where they are used.
absl::StatusOr<std::vector<int64_t>> ParseHiddenSizes(absl::string_view text);

struct ProblemSpec {
  int64_t observation_dim = 0;
  bool discrete = true;
  int64_t num_actions = 0;             // discrete
  int64_t action_dim = 0;              // continuous
  std::vector<float> action_low, action_high;  // continuous, action_dim each
  int64_t time_limit = 0;              // episode truncation limit; 0 = none
  // Multi-agent envs: how each agent's observation holds its local graph
  // (envs/multi_agent_env.h); empty for flat observations.
  GraphLayout graph;
};

// The fixed policy Stream TD(lambda) evaluates.
enum class FixedPolicy {
  kUniformRandom,     // uniform over the discrete actions or the action box
  kCartPoleBalance,   // CartPole only: push right iff angle + angular velocity > 0
};

struct StreamConfig {
  StreamAlgorithm algorithm = StreamAlgorithm::kStreamAC;
  double alpha = 1.0;
  double gamma = 0.99;
  double lambda = 0.8;
  double kappa_value = 2.0;    // value network (AC, TD) and Q network
  double kappa_policy = 3.0;   // policy network (AC)
  double entropy_coef = 0.01;  // AC
  std::vector<int64_t> hidden = {128, 128};
  double sparsity = 0.9;
  // The network backend (models/backends.h): "auto" (the plain C++ MLP),
  // "cpu" / "cpu_mlp", "libtorch" / "torch_mlp".
  std::string network = "auto";
  bool normalize_observations = true;
  bool scale_rewards = true;
  // Appends -0.5 + t / time_limit (t = steps taken in the episode, 0 at reset)
  // to the normalised observation. Needs ProblemSpec::time_limit > 0.
  bool time_feature = true;
  // true (default): a truncation bootstraps from V(s'), the textbook
  // convention. false ends the return there like a termination, as the
  // paper's code (streaming-drl) does; it trains with episodes of up to
  // 10,000 steps, where that rarely happens. On CartPole-v1's 500 steps,
  // ending the return there made every successful episode end in a false
  // "death" and the learned policy fall away from 500 again and again
  // (docs/algorithms.md, "Terminated vs truncated"; docs/benchmarks.md).
  bool bootstrap_on_truncation = true;
  // Training episodes truncate after this many steps instead of the env's
  // registered limit (0: the env's), and the time feature spans it; the
  // paper's code trains with 10,000. Greedy evaluations keep the env's limit.
  int64_t max_episode_steps = 0;
  // Q(lambda): epsilon falls linearly from epsilon_start to epsilon_end over
  // the first exploration_fraction * total_steps environment steps.
  double epsilon_start = 1.0;
  double epsilon_end = 0.01;
  double exploration_fraction = 0.1;
  int64_t total_steps = 0;
  // TD(lambda).
  FixedPolicy td_policy = FixedPolicy::kUniformRandom;
};

// Largest StreamConfig::max_episode_steps a configuration may ask for.
inline constexpr int64_t kMaxEpisodeStepsLimit = 1000000;

// The problem as training sees it: time_limit = config.max_episode_steps
// when that is set (the time feature's span).
ProblemSpec WithEpisodeLimit(ProblemSpec problem, const StreamConfig& config);

// A new env for training: MakeEnv(name) with config.max_episode_steps as its
// step limit when that is set (Env::SetMaxEpisodeSteps's errors otherwise).
absl::StatusOr<std::unique_ptr<Env>> MakeTrainingEnv(absl::string_view env_name,
                                                     const StreamConfig& config);

absl::Status ValidateProblemSpec(const ProblemSpec& problem);
// Every hyperparameter out of range, one "field: what, got value" each (empty
// when valid). The problem must be valid (ValidateProblemSpec).
std::vector<std::string> StreamConfigErrors(const ProblemSpec& problem,
                                            const StreamConfig& config);
// The problem's check, then all of StreamConfigErrors in one INVALID_ARGUMENT.
absl::Status ValidateStreamConfig(const ProblemSpec& problem, const StreamConfig& config);

// Network input size: observation_dim (+1 with the time feature).
int64_t NetworkInputDim(const ProblemSpec& problem, const StreamConfig& config);

// Linear epsilon schedule: epsilon for the act numbered act_index (1-based),
// max(start + (end - start) * act_index / duration, end), duration =
// exploration_fraction * total_steps.
double EpsilonAt(const StreamConfig& config, int64_t act_index);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_CONFIG_H_
