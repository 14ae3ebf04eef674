// The algorithm-neutral interfaces the processes run every algorithm through
// (docs/architecture.md): the learner process drives a JobLearner, the actor
// an ActorWorker, the evaluator a GreedyPolicy. Each algorithm family
// implements them next to its code (algorithms/<family>/runtime.h) and
// registers them by name in algorithms/registry.cc. Torch-free header.
//
// Versions: a learner's steps() are the env steps it has learned from, and
// the version of the parameters it publishes (monotonic). Parameters travel
// as a StateDict (core/state_dict.h) inside learner.proto's Parameters.
#ifndef RLX_ALGORITHMS_ALGORITHM_H_
#define RLX_ALGORITHMS_ALGORITHM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "core/state_dict.h"
#include "replay.pb.h"

namespace rlx {

// ---- Learner side (learner process) ---------------------------------------

// What taking one item did.
struct ItemOutcome {
  bool used = false;                    // false: skipped (duplicate, stale episode)
  int64_t episodes_ended = 0;
  std::vector<double> episode_returns;  // raw returns of episodes that ended in it
  bool learned = false;                 // steps() advanced (an update ran)
};

// Scalars for the learner's metrics (unset = the algorithm has none).
struct LearnerReadout {
  std::optional<double> td_error, policy_entropy;
  std::optional<double> policy_loss, value_loss, approx_kl, clip_fraction, explained_variance;
  // Preference learners (SPO): totals so far, mean latency of a call, the
  // spread (std) of the last group's win rates, the share of distinct
  // action sequences among the recent trajectories (spo::DistinctShare),
  // and with the non-markovian preference the share of the recent
  // trajectories whose last quarter's return is within its threshold.
  std::optional<double> preference_queries, preference_failures, preference_latency,
      win_rate_spread, distinct_trajectories, constraint_share;
  // Exploration monitors (only when asked for: they cost forward passes).
  std::optional<double> action_entropy, distinct_actions;
  std::vector<std::pair<std::string, double>> dormant_ratio;  // per network
};

class JobLearner {
 public:
  virtual ~JobLearner() = default;
  // Takes one item of the job's queue table from a stream a live lease holds
  // (the job filters the rest). INVALID_ARGUMENT for an item it cannot use
  // (malformed, wrong sizes): the job counts it as skipped.
  virtual absl::Status Consume(const Item& item, ItemOutcome* outcome) = 0;
  // Env steps learned from (= the version of Parameters()).
  virtual int64_t steps() const = 0;
  // steps() per update: an item's policy lag is reported in updates (the
  // versions its acting policy is behind): 1 for stream-x (one update per
  // step), a rollout's env steps for PPO.
  virtual int64_t steps_per_update() const { return 1; }
  // What actors and the evaluator act with.
  virtual void Parameters(StateDict* dict) const = 0;
  // Everything needed to continue after a restart (names under "learner/").
  virtual void SaveState(StateDict* dict) const = 0;
  virtual absl::Status RestoreState(const StateDict& dict) = 0;
  // The stream's lease ended: drop its per-stream state.
  virtual void DropStream(int64_t stream_id) = 0;
  virtual void Readout(bool monitors, LearnerReadout* readout) = 0;
};

// ---- Actor side (actor process) --------------------------------------------

// What one Step did.
struct WorkerStep {
  int64_t env_steps = 0;
  std::vector<double> episode_returns;  // episodes that ended (raw returns)
  int64_t policy_version = -1;          // newest version synced into a policy
};

// The envs of one assignment, acting with the newest parameters and turning
// what they do into items for the job's queue table. The actor runtime
// calls, for group g = 0, 1, ..., num_groups()-1, 0, ...:
//   [wait for the lag bound] SetParameters(newest) when a newer version came,
//   Step(g).
// Items carry ItemMetadata (job_id, actor_id = stream, episode_id,
// step_index, policy_version, num_steps, sequence per stream from 0,
// episode_return where one ended).
class ActorWorker {
 public:
  virtual ~ActorWorker() = default;
  // Groups of envs stepped together (stream-x: one per env, PPO: one).
  virtual int num_groups() const = 0;
  // A newer version of the job's parameters (decoded once; each group takes
  // it at its next step).
  virtual absl::Status SetParameters(const StateDict& parameters, int64_t version) = 0;
  // One env step for each env of group g; items that became complete are
  // appended to *items.
  virtual absl::Status Step(int group, std::vector<Item>* items, WorkerStep* step) = 0;
};

// ---- Evaluator side --------------------------------------------------------

// Greedy acting with frozen statistics, for evaluation episodes.
class GreedyPolicy {
 public:
  virtual ~GreedyPolicy() = default;
  virtual absl::Status SetParameters(const StateDict& parameters) = 0;
  // The env action for `observation`; episode_start on an episode's first.
  virtual absl::Status Act(absl::Span<const float> observation, bool episode_start,
                           std::vector<float>* env_action) = 0;
  // The env actions for `count` observations at once (rows of equal width,
  // actions concatenated): one per agent of a multi-agent env, all at the
  // same step of one episode. The default acts row by row.
  virtual absl::Status ActBatch(absl::Span<const float> observations, int64_t count,
                                bool episode_start, std::vector<float>* env_actions) {
    env_actions->clear();
    if (count < 1 || observations.size() % count != 0) {
      return absl::InvalidArgumentError("ActBatch: observations do not split into count rows");
    }
    const size_t width = observations.size() / count;
    std::vector<float> one;
    for (int64_t i = 0; i < count; ++i) {
      absl::Status s = Act(observations.subspan(i * width, width), episode_start, &one);
      if (!s.ok()) return s;
      env_actions->insert(env_actions->end(), one.begin(), one.end());
    }
    return absl::OkStatus();
  }
};

}  // namespace rlx

#endif  // RLX_ALGORITHMS_ALGORITHM_H_
