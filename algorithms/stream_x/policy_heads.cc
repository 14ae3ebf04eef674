#include "algorithms/stream_x/policy_heads.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace rlx {
namespace {

constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // 0.5 * log(2 pi)

// Log-softmax in double, stable.
void LogSoftmax(absl::Span<const float> logits, std::vector<double>* log_p) {
  double max = logits[0];
  for (float v : logits) max = std::max<double>(max, v);
  double sum = 0;
  for (float v : logits) sum += std::exp(v - max);
  const double log_z = max + std::log(sum);
  log_p->resize(logits.size());
  for (size_t k = 0; k < logits.size(); ++k) (*log_p)[k] = logits[k] - log_z;
}

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

int64_t ArgMax(absl::Span<const float> values) {
  int64_t best = 0;
  for (size_t k = 1; k < values.size(); ++k) {
    if (values[k] > values[best]) best = static_cast<int64_t>(k);
  }
  return best;
}

int64_t SampleCategorical(absl::Span<const float> logits, Rng* rng) {
  std::vector<double> log_p;
  LogSoftmax(logits, &log_p);
  const double u = rng->Uniform01();
  double cumulative = 0;
  for (size_t k = 0; k < log_p.size(); ++k) {
    cumulative += std::exp(log_p[k]);
    if (u < cumulative) return static_cast<int64_t>(k);
  }
  return static_cast<int64_t>(log_p.size()) - 1;
}

PolicyStats CategoricalCotangent(absl::Span<const float> logits, int64_t action,
                                 double entropy_weight, absl::Span<float> cotangent) {
  std::vector<double> log_p;
  LogSoftmax(logits, &log_p);
  PolicyStats stats;
  stats.log_prob = log_p[action];
  for (double lp : log_p) stats.entropy -= std::exp(lp) * lp;
  for (size_t k = 0; k < log_p.size(); ++k) {
    const double p = std::exp(log_p[k]);
    const double d_log_prob = (static_cast<int64_t>(k) == action ? 1.0 : 0.0) - p;
    const double d_entropy = -p * (log_p[k] + stats.entropy);
    cotangent[k] = static_cast<float>(d_log_prob + entropy_weight * d_entropy);
  }
  return stats;
}

double Softplus(double x) { return x > 20.0 ? x : std::log1p(std::exp(x)); }

void SampleGaussian(absl::Span<const float> head, Rng* rng, absl::Span<float> action) {
  const size_t d = head.size() / 2;
  for (size_t i = 0; i < d; ++i) {
    action[i] = static_cast<float>(head[i] + Softplus(head[d + i]) * rng->Normal());
  }
}

PolicyStats GaussianCotangent(absl::Span<const float> head, absl::Span<const float> action,
                              double entropy_weight, absl::Span<float> cotangent) {
  const size_t d = head.size() / 2;
  PolicyStats stats;
  for (size_t i = 0; i < d; ++i) {
    const double mu = head[i], pre = head[d + i];
    const double std = Softplus(pre);
    const double diff = action[i] - mu;
    stats.log_prob += -diff * diff / (2 * std * std) - std::log(std) - kLogSqrt2Pi;
    stats.entropy += 0.5 + kLogSqrt2Pi + std::log(std);
    cotangent[i] = static_cast<float>(diff / (std * std));
    const double d_std = diff * diff / (std * std * std) - 1.0 / std + entropy_weight / std;
    // softplus'(x) = sigmoid(x); PyTorch's threshold makes it 1 above 20.
    cotangent[d + i] = static_cast<float>(d_std * (pre > 20.0 ? 1.0 : Sigmoid(pre)));
  }
  return stats;
}

}  // namespace rlx
