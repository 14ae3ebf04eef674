#include "algorithms/ppo/advantages.h"

#include <algorithm>
#include <cmath>

namespace rlx::ppo {

void ComputeGae(const UnrollView& u, double gamma, double lambda,
                absl::Span<float> advantages, absl::Span<float> returns) {
  const size_t n = u.rewards.size();
  double next_advantage = 0;
  for (size_t i = n; i-- > 0;) {
    const bool terminated = u.terminated[i] != 0;
    const bool done = terminated || u.truncated[i] != 0;
    const double bootstrap = terminated ? 0.0 : gamma * u.next_values[i];
    const double delta = u.rewards[i] + bootstrap - u.values[i];
    const double advantage = delta + (done ? 0.0 : gamma * lambda * next_advantage);
    advantages[i] = static_cast<float>(advantage);
    returns[i] = static_cast<float>(advantage + u.values[i]);
    next_advantage = advantage;
  }
}

void ComputeVTrace(const UnrollView& u, absl::Span<const float> log_rhos,
                   const VTraceOptions& o, absl::Span<float> vs,
                   absl::Span<float> pg_advantages) {
  const size_t n = u.rewards.size();
  double next_vs_minus_v = 0;  // vs_{t+1} - values_{t+1}
  for (size_t i = n; i-- > 0;) {
    const double ratio = std::exp(static_cast<double>(log_rhos[i]));
    const double rho = std::min(o.rho_bar, ratio);
    const double c = o.lambda * std::min(o.c_bar, ratio);
    const bool terminated = u.terminated[i] != 0;
    const bool done = terminated || u.truncated[i] != 0;
    const bool last = i + 1 == n;
    const double discount = terminated ? 0.0 : o.gamma;
    const double delta = rho * (u.rewards[i] + discount * u.next_values[i] - u.values[i]);
    const double continuation = (done || last) ? 0.0 : o.gamma * c * next_vs_minus_v;
    const double vs_minus_v = delta + continuation;
    vs[i] = static_cast<float>(u.values[i] + vs_minus_v);
    // The advantage bootstraps from v_{s+1} (the next state's V-trace target)
    // inside an episode, from the critic's value at an episode end or the end.
    const double next_target =
        (done || last) ? u.next_values[i] : u.next_values[i] + next_vs_minus_v;
    pg_advantages[i] =
        static_cast<float>(rho * (u.rewards[i] + discount * next_target - u.values[i]));
    next_vs_minus_v = vs_minus_v;
  }
}

}  // namespace rlx::ppo
