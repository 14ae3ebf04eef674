// The running side of every algorithm, by JobSpec.algorithm: factories of
// its learner, actor worker and greedy policy (algorithms/algorithm.h). The
// job-file side (defaults, checks) is algorithms/algorithm_spec.h. Library
// rlx::algorithm_registry links every algorithm; processes link it and
// dispatch on the job's algorithm name, never on its type.
#ifndef RLX_ALGORITHMS_REGISTRY_H_
#define RLX_ALGORITHMS_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "algorithms/algorithm.h"
#include "job.pb.h"
#include "replay.pb.h"

namespace rlx {

struct WorkerOptions {
  std::string job_name;
  std::vector<int64_t> stream_ids;  // one env per stream
};

// What a learner may ask of the job running it (both thread-safe).
struct LearnerContext {
  // True once the job is ending (cancelled, shutting down): a learner
  // waiting on something outside (a preference service) gives up.
  std::function<bool()> stopping = [] { return false; };
  // A problem the job should show in its status while it lasts (e.g. "the
  // preference service is unavailable"); empty clears it.
  std::function<void(const std::string&)> report_problem = [](const std::string&) {};
  // The learner's PreferenceService, for jobs that name none.
  std::string preference_address = "127.0.0.1:50054";
};

struct AlgorithmRuntime {
  const char* name;
  // spec: valid (ValidateJobSpec) and of this algorithm.
  absl::StatusOr<std::unique_ptr<JobLearner>> (*make_learner)(const JobSpec& spec,
                                                              const LearnerContext& context);
  absl::StatusOr<std::unique_ptr<ActorWorker>> (*make_worker)(const JobSpec& spec,
                                                             const WorkerOptions& options);
  // Seeded from the job's evaluation seeds (algorithms/seeds.h).
  absl::StatusOr<std::unique_ptr<GreedyPolicy>> (*make_greedy_policy)(const JobSpec& spec);
  // May add to the job's queue table before the learner creates it (e.g. a
  // gate); null: a plain FIFO queue.
  void (*configure_table)(const JobSpec& spec, TableConfig* table) = nullptr;
};

// NOT_FOUND naming the known algorithms when `name` is none of them.
absl::StatusOr<const AlgorithmRuntime*> FindAlgorithm(const std::string& name);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_REGISTRY_H_
