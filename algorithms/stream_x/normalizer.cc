#include "algorithms/stream_x/normalizer.h"

#include <cmath>

namespace rlx {

void RunningMeanVar::Update(absl::Span<const float> x) {
  ++count_;
  const double n = static_cast<double>(count_);
  for (size_t i = 0; i < mean_.size(); ++i) {
    const double v = x[i];
    const double old_mean = mean_[i];
    mean_[i] = old_mean + (v - old_mean) / n;
    m2_[i] += (v - old_mean) * (v - mean_[i]);
  }
}

void RunningMeanVar::Update(double x) {
  ++count_;
  const double n = static_cast<double>(count_);
  const double old_mean = mean_[0];
  mean_[0] = old_mean + (x - old_mean) / n;
  m2_[0] += (x - old_mean) * (x - mean_[0]);
}

void NormalizeObservation(const RunningMeanVar& stats, absl::Span<const float> raw,
                          absl::Span<float> out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    out[i] = static_cast<float>((raw[i] - stats.Mean(i)) /
                                std::sqrt(stats.Variance(i) + kNormalizerEpsilon));
  }
}

double ScaleReward(double reward, bool done, double gamma, double* u, RunningMeanVar* stats) {
  *u = gamma * (done ? 0.0 : 1.0) * *u + reward;
  stats->Update(*u);
  return reward / std::sqrt(stats->Variance(0) + kNormalizerEpsilon);
}

}  // namespace rlx
