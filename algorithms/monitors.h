// Exploration / exploitation monitors for the dashboard (docs/algorithms.md,
// "Monitors and samplers"):
// the dormant-unit ratio of a network (DrM) and the diversity of the actions
// the actors take (B-STaR). Plain C++ over a network's flat parameters, no
// LibTorch: cheap enough to run every few thousand learner steps.
// Stateless functions / single-owner accumulators; not thread-safe.
#ifndef RLX_ALGORITHMS_MONITORS_H_
#define RLX_ALGORITHMS_MONITORS_H_

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "absl/types/span.h"
#include "models/network.h"

namespace rlx {

// Fraction of hidden units (over all hidden layers) whose mean absolute
// activation over `inputs`, divided by the mean of that over the layer's
// units, is at most tau. Activations are the network's
// (Network::HiddenActivations). Returns 0 for no inputs or no hidden layers.
double DormantRatio(const Network& network, const std::vector<std::vector<float>>& inputs,
                    double tau = 0.025);

// Recent actions: for discrete actions the entropy (nats) of their empirical
// distribution and the number of distinct actions; for continuous ones the
// mean per-dimension standard deviation (reported as the "entropy" slot).
class ActionDiversity {
 public:
  explicit ActionDiversity(size_t window = 1000) : window_(window) {}
  void Add(absl::Span<const float> action, bool discrete);
  double entropy() const;
  int distinct() const;

 private:
  size_t window_;
  bool discrete_ = true;
  std::deque<std::vector<float>> recent_;
  std::map<int64_t, int> counts_;
};

}  // namespace rlx

#endif  // RLX_ALGORITHMS_MONITORS_H_
