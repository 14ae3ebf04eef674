#include "algorithms/stream_x/transition_codec.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/tensor_codec.h"

namespace rlx {
Item EncodeTransition(const Transition& t, const ItemMetadata& metadata) {
  Item item;
  if (t.episode_start) AddNamedTensor(item.mutable_tensors(), "observation", FloatTensor(t.observation));
  AddNamedTensor(item.mutable_tensors(), "action", FloatTensor(t.action));
  const double reward = t.reward;
  TensorProto r;
  r.set_dtype(DTYPE_FLOAT64);
  r.set_data(&reward, sizeof(reward));
  AddNamedTensor(item.mutable_tensors(), "reward", std::move(r));
  AddNamedTensor(item.mutable_tensors(), "next_observation", FloatTensor(t.next_observation));
  TensorProto flags;
  flags.set_dtype(DTYPE_UINT8);
  flags.add_shape(3);
  const char bits[3] = {static_cast<char>(t.terminated), static_cast<char>(t.truncated),
                        static_cast<char>(t.episode_start)};
  flags.set_data(bits, 3);
  AddNamedTensor(item.mutable_tensors(), "flags", std::move(flags));
  *item.mutable_metadata() = metadata;
  item.mutable_metadata()->set_num_steps(1);
  return item;
}

absl::StatusOr<Transition> DecodeTransition(const Item& item) {
  Transition t;
  const TensorProto* flags = FindNamedTensor(item.tensors(), "flags");
  if (flags == nullptr || flags->dtype() != DTYPE_UINT8 || flags->data().size() != 3) {
    return absl::InvalidArgumentError("transition item: tensor 'flags' must be uint8[3]");
  }
  t.terminated = flags->data()[0] != 0;
  t.truncated = flags->data()[1] != 0;
  t.episode_start = flags->data()[2] != 0;
  const TensorProto* action = FindNamedTensor(item.tensors(), "action");
  const TensorProto* next = FindNamedTensor(item.tensors(), "next_observation");
  const TensorProto* reward = FindNamedTensor(item.tensors(), "reward");
  if (action == nullptr) return absl::InvalidArgumentError("transition item: no tensor 'action'");
  if (next == nullptr) {
    return absl::InvalidArgumentError("transition item: no tensor 'next_observation'");
  }
  if (reward == nullptr || reward->dtype() != DTYPE_FLOAT64 || reward->data().size() != 8) {
    return absl::InvalidArgumentError("transition item: tensor 'reward' must be a float64 scalar");
  }
  if (absl::Status s = ToFloats(*action, "action", &t.action); !s.ok()) return s;
  if (absl::Status s = ToFloats(*next, "next_observation", &t.next_observation); !s.ok()) return s;
  std::memcpy(&t.reward, reward->data().data(), sizeof(double));
  if (!std::isfinite(t.reward)) {
    return absl::InvalidArgumentError(absl::StrCat("transition item: reward is ", t.reward));
  }
  if (t.episode_start) {
    const TensorProto* obs = FindNamedTensor(item.tensors(), "observation");
    if (obs == nullptr) {
      return absl::InvalidArgumentError(
          "transition item: episode_start without tensor 'observation'");
    }
    if (absl::Status s = ToFloats(*obs, "observation", &t.observation); !s.ok()) return s;
  }
  return t;
}

}  // namespace rlx
