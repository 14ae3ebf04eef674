// Per-env observation and reward normalisation for PPO on continuous
// control, as CleanRL's ppo_continuous_action.py does with Gymnasium's
// NormalizeObservation / NormalizeReward wrappers (docs/algorithms.md,
// "PPO"): running mean and variance (count starting at 1e-4), normalised
// values clipped to +-clip. One instance per env stream; not thread-safe.
#ifndef RLX_ALGORITHMS_PPO_NORMALIZATION_H_
#define RLX_ALGORITHMS_PPO_NORMALIZATION_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace rlx::ppo {

class RunningStats {
 public:
  explicit RunningStats(int64_t dim = 1) : mean_(dim, 0.0), var_(dim, 1.0) {}
  void Update(absl::Span<const float> x);
  double mean(int64_t i) const { return mean_[i]; }
  double var(int64_t i) const { return var_[i]; }
  int64_t dim() const { return static_cast<int64_t>(mean_.size()); }
  double count() const { return count_; }

  // As floats: mean (dim), var (dim), count; and back (size must be 2 dim + 1).
  std::vector<float> Pack() const;
  void Unpack(absl::Span<const float> packed);
  // Combines the statistics of several streams (Chan et al.'s parallel
  // variance), as if one had seen all their samples.
  static RunningStats Merge(const std::vector<RunningStats>& parts);

 private:
  std::vector<double> mean_, var_;
  double count_ = 1e-4;
};

// Updates the statistics with each raw observation, then writes it
// normalised: clip((x - mean) / sqrt(var + 1e-8), -clip, clip).
class ObservationNormalizer {
 public:
  ObservationNormalizer(int64_t dim, double clip) : stats_(dim), clip_(clip) {}
  void Normalize(absl::Span<const float> raw, float* out, bool update = true);
  const RunningStats& stats() const { return stats_; }
  void set_stats(const RunningStats& stats) { stats_ = stats; }

 private:
  RunningStats stats_;
  double clip_;
};

// Scales rewards by the running std of the discounted return (reset at each
// episode end), clipped to +-clip.
class RewardScaler {
 public:
  RewardScaler(double gamma, double clip) : gamma_(gamma), clip_(clip) {}
  float Scale(double reward, bool episode_ended);

 private:
  RunningStats stats_;
  double gamma_, clip_;
  double discounted_return_ = 0;
};

// The time feature appended to a model's input (SPO's actors, evaluator
// and in-process trainer): scale * (-0.5 + elapsed / time_limit), t the
// steps taken in the episode; 0 without a time limit.
float TimeFeature(int elapsed, int time_limit, double scale = 1.0);

}  // namespace rlx::ppo

#endif  // RLX_ALGORITHMS_PPO_NORMALIZATION_H_
