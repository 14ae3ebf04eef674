#include "algorithms/trajectory_codec.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/tensor_codec.h"

namespace rlx {
namespace {

absl::Status Read(const Item& item, const char* name, int64_t rows, int64_t width,
                  std::vector<float>* out) {
  const TensorProto* t = FindNamedTensor(item.tensors(), name);
  if (t == nullptr) return absl::InvalidArgumentError(absl::StrCat("item: no tensor '", name, "'"));
  if (t->dtype() != DTYPE_FLOAT32 || NumElements(*t) != rows * width) {
    return absl::InvalidArgumentError(absl::StrCat("item: tensor '", name, "' must be float32 with ",
                                                   rows * width, " values"));
  }
  if (absl::Status s = ToFloats(*t, name, out); !s.ok()) return s;
  for (float v : *out) {
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError(absl::StrCat("item: tensor '", name, "' is not finite"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

void RecordStep(const float* env_action, int action_dim, double reward,
                const std::vector<float>& next_observation, Trajectory* t) {
  t->set_length(t->length() + 1);
  for (int k = 0; k < action_dim; ++k) t->add_actions(env_action[k]);
  t->add_rewards(static_cast<float>(reward));
  for (float v : next_observation) t->add_observations(v);
}

void AddTrajectories(const std::vector<EndedTrajectory>& ended, int obs_dim, int action_dim,
                     Item* item) {
  std::vector<float> ends, lengths, terminated, observations, actions, rewards;
  for (const EndedTrajectory& e : ended) {
    ends.push_back(static_cast<float>(e.end_step));
    lengths.push_back(static_cast<float>(e.trajectory.length()));
    terminated.push_back(e.trajectory.terminated() ? 1.0f : 0.0f);
    observations.insert(observations.end(), e.trajectory.observations().begin(),
                        e.trajectory.observations().end());
    actions.insert(actions.end(), e.trajectory.actions().begin(), e.trajectory.actions().end());
    rewards.insert(rewards.end(), e.trajectory.rewards().begin(), e.trajectory.rewards().end());
  }
  const int64_t k = static_cast<int64_t>(ended.size());
  auto* t = item->mutable_tensors();
  AddNamedTensor(t, "trajectory_ends", FloatTensor(ends, {k}));
  AddNamedTensor(t, "trajectory_lengths", FloatTensor(lengths, {k}));
  AddNamedTensor(t, "trajectory_terminated", FloatTensor(terminated, {k}));
  AddNamedTensor(t, "trajectory_observations",
                 FloatTensor(observations, {static_cast<int64_t>(observations.size()) / std::max(1, obs_dim), obs_dim}));
  AddNamedTensor(t, "trajectory_actions",
                 FloatTensor(actions, {static_cast<int64_t>(actions.size()) / std::max(1, action_dim), action_dim}));
  AddNamedTensor(t, "trajectory_rewards", FloatTensor(rewards, {static_cast<int64_t>(rewards.size())}));
}

absl::StatusOr<std::vector<EndedTrajectory>> DecodeTrajectories(const Item& item, int obs_dim,
                                                                int action_dim, int unroll_length) {
  const TensorProto* ends_t = FindNamedTensor(item.tensors(), "trajectory_ends");
  if (ends_t == nullptr) return absl::InvalidArgumentError("item: no tensor 'trajectory_ends'");
  const int64_t k = NumElements(*ends_t);
  std::vector<float> ends, lengths, terminated;
  for (const absl::Status& s : {Read(item, "trajectory_ends", k, 1, &ends),
                                Read(item, "trajectory_lengths", k, 1, &lengths),
                                Read(item, "trajectory_terminated", k, 1, &terminated)}) {
    if (!s.ok()) return s;
  }
  int64_t steps = 0;
  for (int64_t i = 0; i < k; ++i) {
    if (lengths[i] < 1 || lengths[i] != std::floor(lengths[i]) || lengths[i] > 1e7 ||
        ends[i] < 0 || ends[i] >= unroll_length || ends[i] != std::floor(ends[i])) {
      return absl::InvalidArgumentError(absl::StrCat("item: trajectory ", i,
                                                     " has a bad length or end step"));
    }
    steps += static_cast<int64_t>(lengths[i]);
  }
  std::vector<float> observations, actions, rewards;
  for (const absl::Status& s :
       {Read(item, "trajectory_observations", steps + k, obs_dim, &observations),
        Read(item, "trajectory_actions", steps, action_dim, &actions),
        Read(item, "trajectory_rewards", steps, 1, &rewards)}) {
    if (!s.ok()) return s;
  }
  std::vector<EndedTrajectory> out(k);
  int64_t o = 0, a = 0, r = 0;
  for (int64_t i = 0; i < k; ++i) {
    const int64_t len = static_cast<int64_t>(lengths[i]);
    EndedTrajectory& e = out[i];
    e.end_step = static_cast<int>(ends[i]);
    Trajectory& t = e.trajectory;
    t.set_length(static_cast<int32_t>(len));
    t.set_obs_dim(obs_dim);
    t.set_action_dim(action_dim);
    t.set_terminated(terminated[i] != 0);
    t.mutable_observations()->Add(observations.begin() + o, observations.begin() + o + (len + 1) * obs_dim);
    t.mutable_actions()->Add(actions.begin() + a, actions.begin() + a + len * action_dim);
    t.mutable_rewards()->Add(rewards.begin() + r, rewards.begin() + r + len);
    o += (len + 1) * obs_dim;
    a += len * action_dim;
    r += len;
  }
  return out;
}

}  // namespace rlx
