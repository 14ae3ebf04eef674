// The wire form of a stream-x transition: a replay Item with named tensors
// "observation" (only at episode start), "action", "reward", "next_observation",
// "flags" (uint8 [terminated, truncated, episode_start]) and the ItemMetadata
// that says who produced it. Actors encode, the learner decodes. Stateless.
#ifndef RLX_ALGORITHMS_STREAM_X_TRANSITION_CODEC_H_
#define RLX_ALGORITHMS_STREAM_X_TRANSITION_CODEC_H_

#include "absl/status/statusor.h"
#include "algorithms/stream_x/transition.h"
#include "replay.pb.h"

namespace rlx {

Item EncodeTransition(const Transition& transition, const ItemMetadata& metadata);

// INVALID_ARGUMENT naming the tensor for a missing or malformed one, or a
// non-finite reward.
absl::StatusOr<Transition> DecodeTransition(const Item& item);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_TRANSITION_CODEC_H_
