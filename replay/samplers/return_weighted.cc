#include "replay/samplers/return_weighted.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "replay/samplers/errors.h"

namespace rlx {
namespace {

absl::Status CheckReturn(double episode_return) {
  if (!std::isfinite(episode_return)) {
    return absl::InvalidArgumentError(
        absl::StrCat("episode return must be finite, got ", episode_return));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReturnWeightedSampler>> ReturnWeightedSampler::Create(
    const ReturnWeightedSamplerConfig& config, uint64_t seed) {
  const double temperature = config.temperature();
  if (std::isnan(temperature) || temperature <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampler.return_weighted.temperature must be > 0, got ", temperature));
  }
  if (!std::isfinite(temperature)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sampler.return_weighted.temperature must be finite, got ", temperature));
  }
  return std::unique_ptr<ReturnWeightedSampler>(new ReturnWeightedSampler(temperature, seed));
}

ReturnWeightedSampler::ReturnWeightedSampler(double temperature, uint64_t seed)
    : temperature_(temperature), rng_(seed) {}

double ReturnWeightedSampler::ExponentOf(double episode_return) {
  if (keys_.size() == 0) reference_ = episode_return;
  return (episode_return - reference_) / temperature_;
}

absl::Status ReturnWeightedSampler::Insert(uint64_t key, double episode_return) {
  RETURN_IF_ERROR(CheckReturn(episode_return));
  if (keys_.contains(key)) return sampler_errors::KeyExists(key);
  const double exponent = ExponentOf(episode_return);
  // An exponent above the range would overflow; store 0 for now and rebase,
  // which recomputes this key's weight from its return.
  const bool too_large = exponent > kMaxExponent;
  RETURN_IF_ERROR(keys_.Insert(key, episode_return, too_large ? 0.0 : std::exp(exponent)));
  if (too_large) {
    Rebase();
  } else {
    RebaseIfOutOfRange();
  }
  return absl::OkStatus();
}

absl::Status ReturnWeightedSampler::Update(uint64_t key, double episode_return) {
  RETURN_IF_ERROR(CheckReturn(episode_return));
  if (!keys_.contains(key)) return sampler_errors::KeyNotFound(key);
  const double exponent = ExponentOf(episode_return);
  const bool too_large = exponent > kMaxExponent;
  RETURN_IF_ERROR(keys_.Update(key, episode_return, too_large ? 0.0 : std::exp(exponent)));
  if (too_large) {
    Rebase();
  } else {
    RebaseIfOutOfRange();
  }
  return absl::OkStatus();
}

absl::Status ReturnWeightedSampler::Delete(uint64_t key) {
  RETURN_IF_ERROR(keys_.Delete(key));
  RebaseIfOutOfRange();
  return absl::OkStatus();
}

void ReturnWeightedSampler::RebaseIfOutOfRange() {
  if (keys_.size() == 0) return;
  static const double kMaxTotal = std::exp(kMaxExponent);
  static const double kMinTotal = std::exp(-kMaxExponent);
  const double total = keys_.total_weight();
  if (total > kMaxTotal || total < kMinTotal) Rebase();
}

void ReturnWeightedSampler::Rebase() {
  double max_return = -std::numeric_limits<double>::infinity();
  keys_.ForEachValue([&](double value) { max_return = std::max(max_return, value); });
  reference_ = max_return;
  // The maximum gets weight exactly 1, so the total is in [1, n].
  keys_.Reweigh([this](double value) { return std::exp((value - reference_) / temperature_); });
  ++num_rebases_;
}

absl::StatusOr<SampleChoice> ReturnWeightedSampler::Sample() {
  if (keys_.size() == 0) return sampler_errors::Empty();
  const WeightedKeys::Pick pick = keys_.Sample(rng_);
  SampleChoice choice;
  choice.key = pick.key;
  // The total is at least e^-kMaxExponent after every call (see
  // RebaseIfOutOfRange), so the uniform fallback of WeightedKeys never applies;
  // handle it anyway rather than divide by zero.
  choice.probability = pick.total_weight > 0 ? pick.weight / pick.total_weight
                                             : 1.0 / static_cast<double>(keys_.size());
  return choice;
}

void ReturnWeightedSampler::Clear() { keys_.Clear(); }

}  // namespace rlx
