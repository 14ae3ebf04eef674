// PpoModel: PPO's actor and critic (config.network: models/dense_mlp.h over
// the flat observation, or models/graph_net.h over a multi-agent env's local
// graphs; tanh hidden layers, orthogonal init: gain sqrt(2) hidden, 0.01
// policy output, 1.0 value output, as CleanRL) and its policy head:
//   - categorical over num_actions logits (discrete envs);
//   - Gaussian with a state-independent log std vector (continuous envs):
//     the actor outputs the mean; the sampled action goes to the env clipped
//     to the action box (the log-probability is of the unclipped sample).
// Observations pass through per-caller normalisation before the model (see
// ppo_trainer.h); the model sees what it is given.
//
// Head math used by the learner (docs/algorithms.md, "PPO"), for a batch of
// B rows: log-probabilities and entropies of given actions, and their
// gradients with respect to the head's inputs (logits / mean) and the log std.
//
// Thread-safety: Act and Evaluate are const and may run concurrently with
// separate scratch; parameters change only through the learner.
#ifndef RLX_ALGORITHMS_PPO_PPO_MODEL_H_
#define RLX_ALGORITHMS_PPO_PPO_MODEL_H_

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "algorithms/ppo/ppo_config.h"
#include "models/batch_function.h"

namespace rlx::ppo {

// Outputs of one batched Act (B rows).
struct ActOutput {
  std::vector<float> actions;      // B x action_width: what log_probs refer to
  std::vector<float> env_actions;  // B x action_width: what to pass to the env
  std::vector<float> log_probs;    // B
  std::vector<float> values;       // B
};

// Per-caller activations of Act (made on first use).
struct ActScratch {
  std::unique_ptr<BatchCache> actor, critic;
};

class PpoModel {
 public:
  // Actor and critic as config.network names them (the dense MLP for
  // "mlp": what actors and the evaluator act with).
  PpoModel(const ProblemSpec& problem, const PpoConfig& config, uint64_t seed);
  // The given actor and critic (from MakeLearnerNetworks; initialised here
  // exactly as the constructor above initialises its own).
  PpoModel(const ProblemSpec& problem, const PpoConfig& config, uint64_t seed,
           std::unique_ptr<BatchFunction> actor, std::unique_ptr<BatchFunction> critic);

  const ProblemSpec& problem() const { return problem_; }
  int64_t obs_dim() const { return problem_.observation_dim; }
  // Floats per action: 1 (an index) for discrete, action_dim for continuous.
  int64_t action_width() const { return problem_.discrete ? 1 : problem_.action_dim; }
  // Actor outputs per row: logits (discrete) or the mean (continuous).
  int64_t head_width() const { return problem_.discrete ? problem_.num_actions : problem_.action_dim; }

  BatchFunction& actor() { return *actor_; }
  const BatchFunction& actor() const { return *actor_; }
  BatchFunction& critic() { return *critic_; }
  const BatchFunction& critic() const { return *critic_; }
  std::vector<float>& log_std() { return log_std_; }
  const std::vector<float>& log_std() const { return log_std_; }

  // Every parameter in one vector (actor, critic, log std) and back: the
  // form parameters travel in. Set checks the size (INVALID_ARGUMENT).
  std::vector<float> GetParameters() const;
  absl::Status SetParameters(absl::Span<const float> flat);
  int64_t num_parameters() const;

  // Samples (or, greedy, takes the mode of) actions for B observations.
  void Act(const float* observations, int64_t batch, bool greedy, std::mt19937_64* rng,
           ActScratch* scratch, ActOutput* out) const;
  // V(s) for B observations.
  void Values(const float* observations, int64_t batch, BatchCache* cache, float* values) const;

  // Log-probabilities and entropies of `actions` given the actor's outputs
  // `head` (B x head_width()).
  void LogProbEntropy(const float* head, int64_t batch, const float* actions, float* log_probs,
                      float* entropies) const;
  // Gradients of sum_b (g_log_prob[b] log_prob_b + g_entropy[b] entropy_b):
  // written into grad_head (B x head_width()), added into grad_log_std.
  void HeadBackward(const float* head, int64_t batch, const float* actions,
                    const float* g_log_prob, const float* g_entropy, float* grad_head,
                    float* grad_log_std) const;

 private:
  ProblemSpec problem_;
  std::unique_ptr<BatchFunction> actor_, critic_;
  std::vector<float> log_std_;  // continuous only
};

// The learner's actor and critic: config.network's, computed by the
// learner's backend (PpoConfig::learner_backend and device: LibTorch's
// batched MLP, models/torch_batch_mlp.h, opened from the LibTorch module).
// FAILED_PRECONDITION when LibTorch or the device cannot be used.
absl::Status MakeLearnerNetworks(const ProblemSpec& problem, const PpoConfig& config,
                                 std::unique_ptr<BatchFunction>* actor,
                                 std::unique_ptr<BatchFunction>* critic);

}  // namespace rlx::ppo

#endif  // RLX_ALGORITHMS_PPO_PPO_MODEL_H_
