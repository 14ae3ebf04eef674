// Exponential backoff with jitter for reconnect loops (actors, learner and
// evaluator reconnecting to a server that went away). Not thread-safe: one per
// loop.
#ifndef RLX_CORE_BACKOFF_H_
#define RLX_CORE_BACKOFF_H_

#include <algorithm>
#include <random>

#include "absl/time/time.h"

namespace rlx {

class Backoff {
 public:
  explicit Backoff(absl::Duration initial = absl::Milliseconds(50),
                   absl::Duration max = absl::Seconds(2), double multiplier = 2.0)
      : initial_(initial), max_(max), multiplier_(multiplier), next_(initial),
        rng_(std::random_device{}()) {}

  // The delay to wait before the next attempt (with +-20% jitter); grows each call.
  absl::Duration NextDelay() {
    const absl::Duration d = next_;
    next_ = std::min(max_, next_ * multiplier_);
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    return d * jitter(rng_);
  }
  void Reset() { next_ = initial_; }

 private:
  absl::Duration initial_, max_;
  double multiplier_;
  absl::Duration next_;
  std::mt19937 rng_;
};

}  // namespace rlx

#endif  // RLX_CORE_BACKOFF_H_
