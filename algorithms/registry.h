// The running side of every algorithm, by JobSpec.algorithm: factories of
// its learner, actor worker and greedy policy (algorithms/algorithm.h). The
// job-file side (defaults, checks) is algorithms/algorithm_spec.h. Library
// rlx::algorithm_registry links every algorithm; processes link it and
// dispatch on the job's algorithm name, never on its type.
#ifndef RLX_ALGORITHMS_REGISTRY_H_
#define RLX_ALGORITHMS_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "algorithms/algorithm.h"
#include "job.pb.h"

namespace rlx {

struct WorkerOptions {
  std::string job_name;
  std::vector<int64_t> stream_ids;  // one env per stream
};

struct AlgorithmRuntime {
  const char* name;
  // spec: valid (ValidateJobSpec) and of this algorithm.
  absl::StatusOr<std::unique_ptr<JobLearner>> (*make_learner)(const JobSpec& spec);
  absl::StatusOr<std::unique_ptr<ActorWorker>> (*make_worker)(const JobSpec& spec,
                                                             const WorkerOptions& options);
  // Seeded from the job's evaluation seeds (algorithms/seeds.h).
  absl::StatusOr<std::unique_ptr<GreedyPolicy>> (*make_greedy_policy)(const JobSpec& spec);
};

// NOT_FOUND naming the known algorithms when `name` is none of them.
absl::StatusOr<const AlgorithmRuntime*> FindAlgorithm(const std::string& name);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_REGISTRY_H_
