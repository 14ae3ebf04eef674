// Advantage and value targets for batch policy-gradient learners, over one
// unroll of T consecutive steps of one env stream (docs/algorithms.md,
// "PPO" and "V-trace"):
//   - GAE(lambda) (Schulman et al. 2016), for synchronous PPO;
//   - V-trace (Espeholt et al. 2018, IMPALA), for APPO: actors act with an
//     older policy mu than the learner's pi, and truncated importance weights
//     correct for it.
//
// Episode ends inside an unroll: terminated[t] means s_{t+1} is terminal (no
// bootstrap); truncated[t] means the episode was cut by a time limit, and
// next_values[t] is then the value of its final observation (the one before
// the reset), so truncation bootstraps. Either one cuts the recursion at t.
//
// next_values[t] is V(s_{t+1}) as the caller knows it: values[t + 1] inside an
// episode, the final observation's value at a truncation, anything at a
// termination (ignored), and the bootstrap value V(s_T) for the last step.
//
// Pure functions on spans; all spans of one call have length T. Thread-safe.
#ifndef RLX_ALGORITHMS_PPO_ADVANTAGES_H_
#define RLX_ALGORITHMS_PPO_ADVANTAGES_H_

#include <cstdint>

#include "absl/types/span.h"

namespace rlx::ppo {

struct UnrollView {
  absl::Span<const float> rewards;
  absl::Span<const float> values;       // V(s_t) under the learner's value function
  absl::Span<const float> next_values;  // see the header comment
  absl::Span<const uint8_t> terminated;
  absl::Span<const uint8_t> truncated;
};

// GAE: delta_t = r_t + gamma (1 - terminated_t) next_values_t - values_t;
// A_t = delta_t + gamma lambda (1 - done_t) A_{t+1}, A_T = 0;
// returns_t = A_t + values_t.
void ComputeGae(const UnrollView& unroll, double gamma, double lambda,
                absl::Span<float> advantages, absl::Span<float> returns);

struct VTraceOptions {
  double gamma = 0.99;
  double lambda = 1.0;     // scales the trace coefficients c_t
  double rho_bar = 1.0;    // clip of the importance weights in delta and the advantage
  double c_bar = 1.0;      // clip of the trace coefficients
};

// V-trace with log_rhos_t = log pi(a_t|s_t) - log mu(a_t|s_t):
//   rho_t = min(rho_bar, e^log_rho), c_t = lambda min(c_bar, e^log_rho),
//   delta_t = rho_t (r_t + gamma (1 - terminated_t) next_values_t - values_t),
//   vs_t = values_t + delta_t + gamma (1 - done_t) c_t (vs_{t+1} - values_{t+1}),
//   pg_advantages_t = rho_t (r_t + gamma (1 - terminated_t) nv_t - values_t)
// where nv_t = vs_{t+1} inside an episode and next_values_t at an episode end
// or the unroll's last step.
void ComputeVTrace(const UnrollView& unroll, absl::Span<const float> log_rhos,
                   const VTraceOptions& options, absl::Span<float> vs,
                   absl::Span<float> pg_advantages);

}  // namespace rlx::ppo

#endif  // RLX_ALGORITHMS_PPO_ADVANTAGES_H_
