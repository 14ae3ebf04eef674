// Greedy evaluation of one policy snapshot: the evaluator's inner loop, kept
// free of gRPC so it can be tested and reused.
//
// EvaluateSnapshot runs `episodes` greedy episodes of the job's environment
// with a fresh StreamActor synced to the snapshot, its observation statistics
// frozen (set_update_statistics(false)), so evaluation never drifts from the
// learner's normaliser. Episode e of evaluation number `eval_index` (0-based)
// resets its env with EvalEpisodeSeed(base, eval_index, e); the seeds are the
// in-process trainer's (algorithms/stream_x/stream_trainer.cc), so a job whose
// eval.seed is 0 is evaluated on exactly the episodes stream_train would use
// at the same learner step. Blocking, single-threaded; `stop` (may be null)
// is polled between episodes and makes it return CANCELLED.
#ifndef RLX_EVALUATOR_GREEDY_EVALUATION_H_
#define RLX_EVALUATOR_GREEDY_EVALUATION_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "job.pb.h"
#include "algorithms/stream_x/learner.h"

namespace rlx {

struct EvaluationResult {
  std::vector<double> returns;  // raw (unscaled) episode returns
  double mean_return = 0;
  double min_return = 0;
  double max_return = 0;
  int64_t env_steps = 0;
};

// The base of a job's evaluation seeds: eval.seed, or the job's seed when
// eval.seed is 0.
uint64_t EvalSeedBase(const JobSpec& spec);
uint64_t EvalEpisodeSeed(uint64_t base, int64_t eval_index, int episode);

// spec must be valid (algorithms/job_spec.h ValidateJobSpec); episodes >= 1.
absl::StatusOr<EvaluationResult> EvaluateSnapshot(const JobSpec& spec,
                                                  const PolicySnapshot& snapshot,
                                                  int64_t eval_index, int episodes,
                                                  const std::atomic<bool>* stop = nullptr);

}  // namespace rlx

#endif  // RLX_EVALUATOR_GREEDY_EVALUATION_H_
