// Running statistics for stream-x's observation normalisation and reward
// scaling (docs/algorithms.md, "Observation normalisation" and "Reward
// scaling").
//
// RunningMeanVar: Welford running mean and SAMPLE variance (n - 1) per
// element, in double; the variance reads 1 until two samples have been seen.
// NormalizeObservation: (o - mean) / sqrt(var + 1e-8), to be called after the
// statistics were updated with o.
// ScaleReward: u <- gamma * (1 - done) * u + r (u is per actor stream),
// update the running variance of u (shared), return r / sqrt(var(u) + 1e-8).
// Thread-compatible.
#ifndef RLX_ALGORITHMS_STREAM_X_NORMALIZER_H_
#define RLX_ALGORITHMS_STREAM_X_NORMALIZER_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace rlx {

class RunningMeanVar {
 public:
  explicit RunningMeanVar(int64_t dim = 1) : mean_(dim, 0.0), m2_(dim, 0.0) {}

  void Update(absl::Span<const float> x);
  void Update(double x);  // dim 1
  double Variance(int64_t i) const { return count_ < 2 ? 1.0 : m2_[i] / (count_ - 1); }
  double Mean(int64_t i) const { return mean_[i]; }
  int64_t dim() const { return static_cast<int64_t>(mean_.size()); }
  int64_t count() const { return count_; }

  // Raw state, for snapshots and checkpoints.
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& m2() const { return m2_; }
  void SetState(std::vector<double> mean, std::vector<double> m2, int64_t count) {
    mean_ = std::move(mean);
    m2_ = std::move(m2);
    count_ = count;
  }
  bool operator==(const RunningMeanVar& o) const {
    return count_ == o.count_ && mean_ == o.mean_ && m2_ == o.m2_;
  }

 private:
  std::vector<double> mean_, m2_;
  int64_t count_ = 0;
};

inline constexpr double kNormalizerEpsilon = 1e-8;

// out[i] = (raw[i] - mean_i) / sqrt(var_i + 1e-8); out.size() >= raw.size().
void NormalizeObservation(const RunningMeanVar& stats, absl::Span<const float> raw,
                          absl::Span<float> out);

// Updates *u (per stream) and stats (shared) and returns the scaled reward.
double ScaleReward(double reward, bool done, double gamma, double* u, RunningMeanVar* stats);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_NORMALIZER_H_
