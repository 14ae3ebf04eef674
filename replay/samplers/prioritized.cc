#include "replay/samplers/prioritized.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "replay/samplers/errors.h"

namespace rlx {
namespace {

absl::Status CheckExponent(const char* field, double value) {
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampler.prioritized.", field, " must be finite, got ", value));
  }
  if (value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampler.prioritized.", field, " must be >= 0, got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PrioritizedSampler>> PrioritizedSampler::Create(
    const PrioritizedSamplerConfig& config, uint64_t seed) {
  RETURN_IF_ERROR(CheckExponent("priority_exponent", config.priority_exponent()));
  RETURN_IF_ERROR(CheckExponent("importance_exponent", config.importance_exponent()));
  return std::unique_ptr<PrioritizedSampler>(
      new PrioritizedSampler(config.priority_exponent(), config.importance_exponent(), seed));
}

PrioritizedSampler::PrioritizedSampler(double priority_exponent, double importance_exponent,
                                       uint64_t seed)
    : priority_exponent_(priority_exponent),
      importance_exponent_(importance_exponent),
      rng_(seed) {}

absl::StatusOr<double> PrioritizedSampler::WeightOf(double priority) const {
  if (!std::isfinite(priority) || priority < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("priority must be finite and >= 0, got ", priority));
  }
  if (priority == 0) return 0.0;
  const double weight = std::pow(priority, priority_exponent_);
  if (!std::isfinite(weight)) {
    return absl::InvalidArgumentError(absl::StrCat("priority ", priority, " raised to ",
                                                   priority_exponent_, " overflows a double"));
  }
  return weight;
}

absl::Status PrioritizedSampler::Insert(uint64_t key, double priority) {
  ASSIGN_OR_RETURN(const double weight, WeightOf(priority));
  RETURN_IF_ERROR(keys_.Insert(key, priority, weight));
  if (!std::isfinite(keys_.total_weight())) {
    keys_.Delete(key).IgnoreError();
    return absl::InvalidArgumentError(
        absl::StrCat("priority ", priority, " makes the sum of weighted priorities overflow"));
  }
  return absl::OkStatus();
}

absl::Status PrioritizedSampler::Update(uint64_t key, double priority) {
  ASSIGN_OR_RETURN(const double weight, WeightOf(priority));
  if (!keys_.contains(key)) return sampler_errors::KeyNotFound(key);
  const double old_priority = keys_.value(key);
  const double old_weight = keys_.weight(key);
  RETURN_IF_ERROR(keys_.Update(key, priority, weight));
  if (!std::isfinite(keys_.total_weight())) {
    // Restoring the leaf recomputes its ancestors from their children, which
    // brings every sum back to its exact previous value.
    keys_.Update(key, old_priority, old_weight).IgnoreError();
    return absl::InvalidArgumentError(
        absl::StrCat("priority ", priority, " makes the sum of weighted priorities overflow"));
  }
  return absl::OkStatus();
}

absl::Status PrioritizedSampler::Delete(uint64_t key) { return keys_.Delete(key); }

absl::StatusOr<SampleChoice> PrioritizedSampler::Sample() {
  if (keys_.size() == 0) return sampler_errors::Empty();
  const WeightedKeys::Pick pick = keys_.Sample(rng_);
  SampleChoice choice;
  choice.key = pick.key;
  if (pick.total_weight > 0) {
    choice.probability = pick.weight / pick.total_weight;
    if (importance_exponent_ > 0) {
      choice.weight = std::pow(keys_.min_positive_weight() / pick.weight, importance_exponent_);
    }
  } else {
    choice.probability = 1.0 / static_cast<double>(keys_.size());
  }
  return choice;
}

void PrioritizedSampler::Clear() { keys_.Clear(); }

}  // namespace rlx
