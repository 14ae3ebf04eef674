// The acting side of the stream-x algorithms: chooses actions from a copy of
// the learner's policy (a PolicySnapshot) with its own random generator, so an
// actor can run without the learner (in another process, lagging it).
//
// Protocol, per environment step:
//   Observe(o, episode_start)  for every observation the env returns (the
//                              reset one with episode_start, and every step's,
//                              terminal ones included); it updates the local
//                              copy of the normaliser statistics, as the
//                              learner will when it learns from the transition;
//   Sync(snapshot)             whenever a newer snapshot is available (the
//                              in-process trainer: after every Learn, i.e.
//                              lag 0); it replaces parameters, statistics and
//                              the step position;
//   Act(greedy, &action)       for the last observation, normalised with the
//                              current local statistics.
// With one actor synced after every Learn this reproduces the in-process
// algorithm exactly (the learner's statistics then equal the local copy). The
// order that does so is the in-process trainer's: Act, Env::Step,
// Observe(o'), [learner: Learn], Sync, then on episode end Reset and
// Observe(o_0) -- a Sync that lands after Observe(o_0) drops o_0 from the local
// statistics until the learner has seen it.
//
// Policies: Stream AC samples the categorical / Gaussian policy (Gaussian
// actions clipped to the bounds for the env, the unclipped sample kept for the
// learner); greedy takes the argmax / mean. Stream Q is epsilon-greedy with
// epsilon = EpsilonAt(config, learner_steps + acts since the sync + 1); an
// exploratory draw uses the generator twice (uniform, then the action).
// Stream TD follows the fixed config.td_policy.
//
// Not thread-safe: one owner.
#ifndef RLX_ALGORITHMS_STREAM_X_ACTOR_H_
#define RLX_ALGORITHMS_STREAM_X_ACTOR_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "algorithms/stream_x/config.h"
#include "algorithms/stream_x/learner.h"
#include "algorithms/stream_x/normalizer.h"
#include "algorithms/stream_x/rng.h"
#include "models/network.h"

namespace rlx {

struct ActorAction {
  std::vector<float> action;      // for Transition::action (unclipped sample)
  std::vector<float> env_action;  // for Env::Step (clipped to the action bounds)
  bool exploratory = false;       // Q: the random action differs from the greedy one
  double epsilon = 0;             // Q: epsilon used
};

class StreamActor {
 public:
  static absl::StatusOr<std::unique_ptr<StreamActor>> Create(
      const ProblemSpec& problem, const StreamConfig& config, uint64_t seed,
      NetworkFactory factory = nullptr);

  // INVALID_ARGUMENT if the snapshot's sizes do not fit this actor.
  absl::Status Sync(const PolicySnapshot& snapshot);

  // Whether Observe updates the local statistics (default true; evaluation
  // actors turn it off so they do not drift from the learner's).
  void set_update_statistics(bool update) { update_statistics_ = update; }

  void Observe(absl::Span<const float> raw_observation, bool episode_start);
  // FAILED_PRECONDITION before the first Observe, or (AC, Q) before Sync.
  absl::Status Act(bool greedy, ActorAction* out);

  // The network input of the last observation, as Act saw it.
  absl::Span<const float> last_input() const { return input_; }
  Rng& rng() { return rng_; }

 private:
  StreamActor(const ProblemSpec& problem, const StreamConfig& config, uint64_t seed,
              std::unique_ptr<Network> network);

  ProblemSpec problem_;
  StreamConfig config_;
  Rng rng_;
  std::unique_ptr<Network> network_;  // null for TD
  RunningMeanVar statistics_;
  bool update_statistics_ = true;
  bool synced_ = false;
  bool observed_ = false;
  int64_t snapshot_steps_ = 0;
  int64_t acts_since_sync_ = 0;
  int64_t episode_step_ = 0;
  std::vector<float> raw_, input_, output_;
};

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_ACTOR_H_
