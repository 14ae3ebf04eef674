// Whole trajectories on an unroll item (SPO): the episodes that ended inside
// an unroll travel with it, so the learner can have them compared before it
// learns from the unroll. Named tensors, beside the unroll's own
// (algorithms/ppo/unroll_codec.h):
//   "trajectory_ends"          float32 [k]  the unroll step each ended at
//   "trajectory_lengths"       float32 [k]  steps of each
//   "trajectory_terminated"    float32 [k]  1 if the env ended it
//   "trajectory_observations"  float32 [sum (L + 1), obs_dim]
//   "trajectory_actions"       float32 [sum L, action_dim]
//   "trajectory_rewards"       float32 [sum L]
// (k may be 0). Stateless.
#ifndef RLX_ALGORITHMS_TRAJECTORY_CODEC_H_
#define RLX_ALGORITHMS_TRAJECTORY_CODEC_H_

#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "preference.pb.h"
#include "replay.pb.h"

namespace rlx {

struct EndedTrajectory {
  int end_step = 0;  // index of its last step in the unroll
  Trajectory trajectory;
};

// Records one env step on a trajectory being built (its first observation
// already in): the action as the env took it (action_dim floats), the
// reward, and the observation after it (an ended episode's final one).
void RecordStep(const float* env_action, int action_dim, double reward,
                const std::vector<float>& next_observation, Trajectory* t);

void AddTrajectories(const std::vector<EndedTrajectory>& ended, int obs_dim, int action_dim,
                     Item* item);
// INVALID_ARGUMENT naming the tensor when missing, inconsistent or non-finite.
absl::StatusOr<std::vector<EndedTrajectory>> DecodeTrajectories(const Item& item, int obs_dim,
                                                                int action_dim, int unroll_length);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_TRAJECTORY_CODEC_H_
