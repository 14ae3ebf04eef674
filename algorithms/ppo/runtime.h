// PPO and APPO behind the platform's interfaces (algorithms/algorithm.h).
//
// Learner: takes unroll items (algorithms/ppo/unroll_codec.h) from the
// job's queue table into a Rollout and runs one PpoLearner::Update when
// ppo.unrolls_per_update of them are in (GAE, or V-trace for APPO); steps()
// grows by the rollout's env steps. A resent unroll (sequence not after its
// stream's last) is skipped. Unrolls held for an unfinished rollout are not
// checkpointed: a learner restart drops them (actors lease again).
//
// Actor worker: one group, the assignment's envs stepped together with one
// batched forward pass per step (the in-process trainer's code path: per-env
// observation normalisation and reward scaling when the job asks); each
// env's T steps become one unroll item. With the first stream id 0 the envs
// and the acting generator are seeded as ppo_train's with the job's seed, so
// one actor holding every env of a synchronous job reproduces ppo_train.
//
// Observation statistics: with normalisation, each unroll carries its env's
// statistics; the learner publishes their merge with the parameters, and the
// greedy policy normalises with them, frozen.
//
// Greedy policy: the mode of the policy (argmax / the mean, clipped).
#ifndef RLX_ALGORITHMS_PPO_RUNTIME_H_
#define RLX_ALGORITHMS_PPO_RUNTIME_H_

#include <memory>

#include "absl/status/statusor.h"
#include "algorithms/algorithm.h"
#include <functional>

#include "algorithms/ppo/ppo_config.h"
#include "algorithms/ppo/ppo_learner.h"
#include "algorithms/registry.h"
#include "job.pb.h"

namespace rlx::ppo {

absl::StatusOr<std::unique_ptr<JobLearner>> MakeLearner(const JobSpec& spec,
                                                        const LearnerContext& context);
absl::StatusOr<std::unique_ptr<ActorWorker>> MakeWorker(const JobSpec& spec,
                                                        const WorkerOptions& options);
absl::StatusOr<std::unique_ptr<GreedyPolicy>> MakeGreedyPolicy(const JobSpec& spec);

// Loads the parameters a PPO learner publishes (Parameters()) into `model`
// (INVALID_ARGUMENT when missing or of another size).
absl::Status LoadParameters(const StateDict& dict, PpoModel* model);
// What LoadParameters reads: `model`'s parameters under PPO's name.
void SaveParameters(const PpoModel& model, StateDict* dict);
// The last update's losses and statistics, for the learner's metrics.
void ReadoutUpdate(const PpoUpdateInfo& info, LearnerReadout* readout);

// The acting generator's and the envs' base seed for an actor whose first
// stream is first_stream (the job's seed for stream 0, as ppo_train).
uint64_t WorkerSeed(uint64_t job_seed, int64_t first_stream);

// Variations of the unroll worker for algorithms built on PPO (SPO):
struct UnrollFlavor {
  // > 0: append time_feature * (-0.5 + t / time_limit) to the model's input.
  double time_feature = 0.0;
  bool zero_rewards = false;  // rewards come from elsewhere (the learner sets them)
  bool trajectories = false;  // episodes that ended ride on their unroll (trajectory_codec.h)
  // > 0: one item per episode instead of per T steps (an unroll of the
  // episode's length with its trajectory riding on it, last step at
  // length - 1), each env playing group_size episodes from the same start
  // state (reset with a seed of the job's, the stream's and the context's
  // number) before the next; ItemMetadata.context_id names the context
  // ("<job>/<stream>/<worker nonce>/<n>": a new assignment's contexts never
  // join an old one's unfinished groups) and group_size its size, for a table's group
  // gate (replay/gates/group_gate.h). Implies trajectories.
  int group_size = 0;
};
// The seed env `stream` resets with for its context number `context`.
uint64_t ContextSeed(uint64_t job_seed, int64_t stream, int64_t context);
// Where an algorithm built on PPO's learner steps in (each may be empty):
// on_unroll sees each new unroll item and its slot in the rollout (before
// it is copied there); before_update may rewrite the full rollout (e.g. its
// rewards); readout adds to the metrics.
struct UnrollLearnerHooks {
  std::function<absl::Status(const Item& item, int64_t slot)> on_unroll;
  std::function<absl::Status(Rollout* rollout)> before_update;
  std::function<void(bool monitors, LearnerReadout* readout)> readout;
};
absl::StatusOr<std::unique_ptr<JobLearner>> MakeUnrollLearner(const JobSpec& spec,
                                                              const ProblemSpec& model_problem,
                                                              const PpoConfig& config,
                                                              UnrollLearnerHooks hooks);
// model_problem: what the networks see (one input wider with the time feature).
absl::StatusOr<std::unique_ptr<ActorWorker>> MakeUnrollWorker(const JobSpec& spec,
                                                              const WorkerOptions& options,
                                                              const ProblemSpec& model_problem,
                                                              const PpoConfig& config,
                                                              const UnrollFlavor& flavor);
absl::StatusOr<std::unique_ptr<GreedyPolicy>> MakeUnrollGreedyPolicy(
    const JobSpec& spec, const ProblemSpec& model_problem, const PpoConfig& config,
    double time_feature);  // as UnrollFlavor::time_feature

}  // namespace rlx::ppo

#endif  // RLX_ALGORITHMS_PPO_RUNTIME_H_
