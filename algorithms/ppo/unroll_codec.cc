#include "algorithms/ppo/unroll_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/tensor_codec.h"

namespace rlx::ppo {
namespace {

// A float32 tensor of exactly `shape`, finite, into *out.
absl::Status ReadFloats(const Item& item, const char* name, std::vector<int64_t> shape,
                        std::vector<float>* out) {
  const TensorProto* t = FindNamedTensor(item.tensors(), name);
  if (t == nullptr) return absl::InvalidArgumentError(absl::StrCat("unroll item: no tensor '", name, "'"));
  const bool shape_ok = t->dtype() == DTYPE_FLOAT32 &&
                        std::equal(t->shape().begin(), t->shape().end(), shape.begin(),
                                   shape.end());
  if (!shape_ok) {
    std::string want;
    for (int64_t d : shape) absl::StrAppend(&want, want.empty() ? "" : ", ", d);
    return absl::InvalidArgumentError(
        absl::StrCat("unroll item: tensor '", name, "' must be float32 [", want, "]"));
  }
  if (absl::Status s = ToFloats(*t, name, out); !s.ok()) return s;
  for (size_t i = 0; i < out->size(); ++i) {
    if (!std::isfinite((*out)[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("unroll item: tensor '", name, "'[", i, "] is ", (*out)[i]));
    }
  }
  return absl::OkStatus();
}

}  // namespace

void Unroll::Resize(int64_t t, int64_t dim, int64_t width) {
  length = t;
  obs_dim = dim;
  action_width = width;
  observations.assign(t * dim, 0.0f);
  actions.assign(t * width, 0.0f);
  log_probs.assign(t, 0.0f);
  values.assign(t, 0.0f);
  rewards.assign(t, 0.0f);
  episode_returns.assign(t, 0.0f);
  terminated.assign(t, 0);
  truncated.assign(t, 0);
  final_observations.assign(t * dim, 0.0f);
  next_observation.assign(dim, 0.0f);
  obs_stats.assign(2 * dim + 1, 0.0f);
}

void AppendStep(const float* observation, const float* action, float log_prob, float value,
                Unroll* u) {
  u->observations.insert(u->observations.end(), observation, observation + u->obs_dim);
  u->actions.insert(u->actions.end(), action, action + u->action_width);
  u->log_probs.push_back(log_prob);
  u->values.push_back(value);
  ++u->length;
}

Item EncodeUnroll(const Unroll& u, const ItemMetadata& metadata) {
  Item item;
  const int64_t t = u.length;
  AddNamedTensor(item.mutable_tensors(), "observations", FloatTensor(u.observations, {t, u.obs_dim}));
  AddNamedTensor(item.mutable_tensors(), "actions", FloatTensor(u.actions, {t, u.action_width}));
  AddNamedTensor(item.mutable_tensors(), "log_probs", FloatTensor(u.log_probs, {t}));
  AddNamedTensor(item.mutable_tensors(), "values", FloatTensor(u.values, {t}));
  AddNamedTensor(item.mutable_tensors(), "rewards", FloatTensor(u.rewards, {t}));
  AddNamedTensor(item.mutable_tensors(), "episode_returns", FloatTensor(u.episode_returns, {t}));
  TensorProto flags;
  flags.set_dtype(DTYPE_UINT8);
  flags.add_shape(t);
  flags.add_shape(2);
  std::string bits(2 * t, '\0');
  for (int64_t i = 0; i < t; ++i) {
    bits[2 * i] = static_cast<char>(u.terminated[i]);
    bits[2 * i + 1] = static_cast<char>(u.truncated[i]);
  }
  flags.set_data(std::move(bits));
  AddNamedTensor(item.mutable_tensors(), "flags", std::move(flags));
  AddNamedTensor(item.mutable_tensors(), "final_observations", FloatTensor(u.final_observations, {t, u.obs_dim}));
  AddNamedTensor(item.mutable_tensors(), "next_observation", FloatTensor(u.next_observation, {u.obs_dim}));
  AddNamedTensor(item.mutable_tensors(), "obs_stats", FloatTensor(u.obs_stats, {2 * u.obs_dim + 1}));
  *item.mutable_metadata() = metadata;
  item.mutable_metadata()->set_num_steps(static_cast<int32_t>(t));
  return item;
}

absl::StatusOr<Unroll> DecodeUnroll(const Item& item, int64_t length, int64_t obs_dim,
                                    int64_t action_width) {
  Unroll u;
  u.Resize(length, obs_dim, action_width);
  for (const absl::Status& s :
       {ReadFloats(item, "observations", {length, obs_dim}, &u.observations),
        ReadFloats(item, "actions", {length, action_width}, &u.actions),
        ReadFloats(item, "log_probs", {length}, &u.log_probs),
        ReadFloats(item, "values", {length}, &u.values),
        ReadFloats(item, "rewards", {length}, &u.rewards),
        ReadFloats(item, "episode_returns", {length}, &u.episode_returns),
        ReadFloats(item, "final_observations", {length, obs_dim}, &u.final_observations),
        ReadFloats(item, "next_observation", {obs_dim}, &u.next_observation),
        ReadFloats(item, "obs_stats", {2 * obs_dim + 1}, &u.obs_stats)}) {
    if (!s.ok()) return s;
  }
  const TensorProto* flags = FindNamedTensor(item.tensors(), "flags");
  if (flags == nullptr || flags->dtype() != DTYPE_UINT8 || flags->shape_size() != 2 ||
      flags->shape(0) != length || flags->shape(1) != 2 ||
      static_cast<int64_t>(flags->data().size()) != 2 * length) {
    return absl::InvalidArgumentError(
        absl::StrCat("unroll item: tensor 'flags' must be uint8 [", length, ", 2]"));
  }
  for (int64_t i = 0; i < length; ++i) {
    u.terminated[i] = flags->data()[2 * i] != 0;
    u.truncated[i] = flags->data()[2 * i + 1] != 0;
  }
  return u;
}

void CopyUnrollInto(const Unroll& u, int64_t n, Rollout* r) {
  const int64_t t = u.length, d = u.obs_dim, w = u.action_width;
  std::copy(u.observations.begin(), u.observations.end(), r->observations.begin() + n * t * d);
  std::copy(u.actions.begin(), u.actions.end(), r->actions.begin() + n * t * w);
  std::copy(u.log_probs.begin(), u.log_probs.end(), r->log_probs.begin() + n * t);
  std::copy(u.values.begin(), u.values.end(), r->values.begin() + n * t);
  std::copy(u.rewards.begin(), u.rewards.end(), r->rewards.begin() + n * t);
  std::copy(u.terminated.begin(), u.terminated.end(), r->terminated.begin() + n * t);
  std::copy(u.truncated.begin(), u.truncated.end(), r->truncated.begin() + n * t);
  std::copy(u.final_observations.begin(), u.final_observations.end(),
            r->final_observations.begin() + n * t * d);
  std::copy(u.next_observation.begin(), u.next_observation.end(),
            r->next_observations.begin() + n * d);
}

}  // namespace rlx::ppo
