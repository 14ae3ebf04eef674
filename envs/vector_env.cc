#include "envs/vector_env.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "envs/registry.h"

namespace rlx {

absl::StatusOr<VectorEnv> VectorEnv::Create(absl::string_view name, int num_envs) {
  if (num_envs < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("VectorEnv needs at least one env, got num_envs = ", num_envs));
  }
  std::vector<std::unique_ptr<Env>> envs;
  envs.reserve(num_envs);
  for (int i = 0; i < num_envs; ++i) {
    absl::StatusOr<std::unique_ptr<Env>> env = MakeEnv(name);
    if (!env.ok()) return env.status();
    envs.push_back(*std::move(env));
  }
  return VectorEnv(std::move(envs));
}

absl::StatusOr<VectorEnv> VectorEnv::FromEnvs(std::vector<std::unique_ptr<Env>> envs) {
  if (envs.empty()) return absl::InvalidArgumentError("VectorEnv needs at least one env");
  for (size_t i = 0; i < envs.size(); ++i) {
    if (envs[i] == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("VectorEnv: env ", i, " is null"));
    }
    if (envs[i]->spec().name != envs[0]->spec().name) {
      return absl::InvalidArgumentError(absl::StrCat("VectorEnv: env ", i, " is ",
                                                     envs[i]->spec().name, " but env 0 is ",
                                                     envs[0]->spec().name));
    }
  }
  return VectorEnv(std::move(envs));
}

VectorEnv::VectorEnv(std::vector<std::unique_ptr<Env>> envs)
    : envs_(std::move(envs)),
      observations_(envs_.size()),
      returns_(envs_.size(), 0.0),
      lengths_(envs_.size(), 0) {}

void VectorEnv::Reset(uint64_t base_seed) {
  for (size_t i = 0; i < envs_.size(); ++i) {
    envs_[i]->Reset(base_seed + i, &observations_[i]);
    returns_[i] = 0.0;
    lengths_[i] = 0;
  }
  reset_ = true;
}

void VectorEnv::ResetEnv(int i, uint64_t seed) {
  envs_[i]->Reset(seed, &observations_[i]);
  returns_[i] = 0.0;
  lengths_[i] = 0;
}

void VectorEnv::Observations(std::vector<float>* out) const {
  out->clear();
  for (const std::vector<float>& obs : observations_) {
    out->insert(out->end(), obs.begin(), obs.end());
  }
}

absl::Status VectorEnv::Step(absl::Span<const float> actions,
                             std::vector<VectorStepResult>* results) {
  if (!reset_) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec().name, " VectorEnv: Step called before the first Reset"));
  }
  const size_t per_env = static_cast<size_t>(spec().action_space.flat_size());
  if (actions.size() != per_env * envs_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec().name, " VectorEnv: got ", actions.size(), " action values, expected ",
        per_env * envs_.size(), " (", envs_.size(), " envs x ", per_env, ")"));
  }
  for (size_t i = 0; i < envs_.size(); ++i) {
    absl::Status s = ValidateAction(spec().action_space, actions.subspan(i * per_env, per_env));
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(spec().name, " VectorEnv: env ", i, ": ", s.message()));
    }
  }

  results->resize(envs_.size());
  for (size_t i = 0; i < envs_.size(); ++i) {
    // Cannot fail: every action is valid and every episode is in progress
    // (ended ones were reset on the step that ended them).
    absl::Status s = envs_[i]->Step(actions.subspan(i * per_env, per_env), &scratch_);
    if (!s.ok()) return s;
    VectorStepResult& r = (*results)[i];
    r.reward = scratch_.reward;
    r.terminated = scratch_.terminated;
    r.truncated = scratch_.truncated;
    returns_[i] += scratch_.reward;
    ++lengths_[i];
    if (scratch_.done()) {
      r.final_observation.swap(scratch_.observation);
      r.episode_return = returns_[i];
      r.episode_length = lengths_[i];
      envs_[i]->Reset(std::nullopt, &observations_[i]);
      returns_[i] = 0.0;
      lengths_[i] = 0;
    } else {
      observations_[i].swap(scratch_.observation);
      r.final_observation.clear();
      r.episode_return = 0.0;
      r.episode_length = 0;
    }
    r.observation = observations_[i];
  }
  return absl::OkStatus();
}

}  // namespace rlx
