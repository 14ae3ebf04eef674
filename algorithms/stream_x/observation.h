// The observation pipeline shared by stream-x learners and actors: running
// normalisation followed by the time feature (docs/algorithms.md,
// "Observation normalisation" and "Time feature").
//
// Time feature: -0.5 + t / time_limit, t = steps taken in the episode (0 for
// the observation returned by reset, time_limit for one that is truncated).
// The reference code's wrapper lags one step behind (it shows -0.5 for both
// the first and second observation); this form makes truncation observable
// exactly. Stateless; thread-safe.
#ifndef RLX_ALGORITHMS_STREAM_X_OBSERVATION_H_
#define RLX_ALGORITHMS_STREAM_X_OBSERVATION_H_

#include <cstdint>

#include "absl/types/span.h"
#include "algorithms/stream_x/config.h"
#include "algorithms/stream_x/normalizer.h"

namespace rlx {

// out.size() == NetworkInputDim(problem, config). stats must already include raw.
inline void PreprocessObservation(const ProblemSpec& problem, const StreamConfig& config,
                                  const RunningMeanVar& stats, absl::Span<const float> raw,
                                  int64_t episode_step, absl::Span<float> out) {
  if (config.normalize_observations) {
    NormalizeObservation(stats, raw, out);
  } else {
    for (size_t i = 0; i < raw.size(); ++i) out[i] = raw[i];
  }
  if (config.time_feature) {
    out[problem.observation_dim] = static_cast<float>(
        -0.5 + static_cast<double>(episode_step) / static_cast<double>(problem.time_limit));
  }
}

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_OBSERVATION_H_
