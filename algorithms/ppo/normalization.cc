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

std::vector<float> RunningStats::Pack() const {
  std::vector<float> packed;
  for (double m : mean_) packed.push_back(static_cast<float>(m));
  for (double v : var_) packed.push_back(static_cast<float>(v));
  packed.push_back(static_cast<float>(count_));
  return packed;
}

void RunningStats::Unpack(absl::Span<const float> packed) {
  const size_t dim = (packed.size() - 1) / 2;
  mean_.assign(packed.begin(), packed.begin() + dim);
  var_.assign(packed.begin() + dim, packed.begin() + 2 * dim);
  count_ = packed[2 * dim];
}

RunningStats RunningStats::Merge(const std::vector<RunningStats>& parts) {
  RunningStats total(parts.empty() ? 1 : parts[0].dim());
  bool first = true;
  for (const RunningStats& p : parts) {
    if (first) {
      total = p;
      first = false;
      continue;
    }
    const double n = total.count_ + p.count_;
    for (size_t i = 0; i < total.mean_.size(); ++i) {
      const double delta = p.mean_[i] - total.mean_[i];
      const double m2 = total.var_[i] * total.count_ + p.var_[i] * p.count_ +
                        delta * delta * total.count_ * p.count_ / n;
      total.mean_[i] += delta * p.count_ / n;
      total.var_[i] = m2 / n;
    }
    total.count_ = n;
  }
  return total;
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

float TimeFeature(int elapsed, int time_limit, double scale) {
  return time_limit > 0
             ? static_cast<float>(scale * (-0.5 + static_cast<double>(elapsed) / time_limit))
             : 0.0f;
}

}  // namespace rlx::ppo
