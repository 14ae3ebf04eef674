#include "algorithms/ppo/normalization.h"

#include <algorithm>
#include <cmath>

namespace rlx::ppo {

void RunningStats::Update(absl::Span<const float> x) {
  // A batch of one (Gymnasium's RunningMeanStd with batch_count 1).
  const double total = count_ + 1.0;
  for (size_t i = 0; i < mean_.size(); ++i) {
    const double delta = x[i] - mean_[i];
    const double m_a = var_[i] * count_;
    const double m2 = m_a + delta * delta * count_ / total;
    mean_[i] += delta / total;
    var_[i] = m2 / total;
  }
  count_ = total;
}

void ObservationNormalizer::Normalize(absl::Span<const float> raw, float* out, bool update) {
  if (update) stats_.Update(raw);
  for (size_t i = 0; i < raw.size(); ++i) {
    const double z = (raw[i] - stats_.mean(i)) / std::sqrt(stats_.var(i) + 1e-8);
    out[i] = static_cast<float>(std::clamp(z, -clip_, clip_));
  }
}

float RewardScaler::Scale(double reward, bool episode_ended) {
  discounted_return_ = discounted_return_ * gamma_ + reward;
  const float g = static_cast<float>(discounted_return_);
  stats_.Update(absl::MakeConstSpan(&g, 1));
  if (episode_ended) discounted_return_ = 0;
  const double scaled = reward / std::sqrt(stats_.var(0) + 1e-8);
  return static_cast<float>(std::clamp(scaled, -clip_, clip_));
}

}  // namespace rlx::ppo
