// Action distributions on top of a network's outputs, and the output
// cotangents the stream-x policy update needs.
//
// The policy gradient of Stream AC(lambda) is the gradient of
//   J = log pi(a|s) + entropy_weight * H(pi(.|s)),  entropy_weight =
//   entropy_coef * sign(delta),
// which the chain rule splits into dJ/d(outputs) (computed here, in double)
// and Network::Backward(cotangent). Categorical heads are logits; Gaussian
// heads are [mean (d values), pre_std (d values)] with std = softplus(pre_std)
// (PyTorch's softplus: x above 20 passes through); log-probability and entropy
// are summed over action dimensions. Stateless; thread-safe.
#ifndef RLX_ALGORITHMS_STREAM_X_POLICY_HEADS_H_
#define RLX_ALGORITHMS_STREAM_X_POLICY_HEADS_H_

#include <cstdint>

#include "absl/types/span.h"
#include "algorithms/stream_x/rng.h"

namespace rlx {

struct PolicyStats {
  double log_prob = 0;
  double entropy = 0;
};

// Index of the first maximum.
int64_t ArgMax(absl::Span<const float> values);

int64_t SampleCategorical(absl::Span<const float> logits, Rng* rng);
// cotangent[k] = (1[k == a] - p_k) - entropy_weight * p_k * (log p_k + H).
PolicyStats CategoricalCotangent(absl::Span<const float> logits, int64_t action,
                                 double entropy_weight, absl::Span<float> cotangent);

double Softplus(double x);
// action[i] = mean[i] + std[i] * N(0, 1) (unclipped).
void SampleGaussian(absl::Span<const float> head, Rng* rng, absl::Span<float> action);
// d/dmean = (a - mu) / std^2;
// d/dpre_std = ((a - mu)^2 / std^3 - 1 / std + entropy_weight / std) * sigmoid(pre_std).
PolicyStats GaussianCotangent(absl::Span<const float> head, absl::Span<const float> action,
                              double entropy_weight, absl::Span<float> cotangent);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_POLICY_HEADS_H_
