// The stream-x algorithms' part of the job file (algorithms/algorithm_spec.h):
// StreamXConfig's defaults (docs/algorithms.md, "Configuration and
// defaults"), its checks, the memory estimate, and the StreamConfig the
// stream-x code runs with. Torch-free.
#ifndef RLX_ALGORITHMS_STREAM_X_JOB_CONFIG_H_
#define RLX_ALGORITHMS_STREAM_X_JOB_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "job.pb.h"
#include "algorithms/algorithm_spec.h"
#include "algorithms/stream_x/config.h"

namespace rlx::stream_x {

void CompleteJob(JobSpec* spec);
void CheckJob(const JobSpec& spec, const ProblemSpec& problem, std::vector<std::string>* errors);
absl::StatusOr<JobMemoryEstimate> EstimateJob(const JobSpec& spec, const ProblemSpec& problem);

}  // namespace rlx::stream_x

namespace rlx {
// The job's stream-x configuration (spec valid, algorithm a stream-x one).
absl::StatusOr<StreamConfig> JobStreamConfig(const JobSpec& spec);
}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_JOB_CONFIG_H_
