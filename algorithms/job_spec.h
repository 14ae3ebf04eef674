// The one place where a JobSpec (proto/job.proto) is validated and completed
// with defaults: the generic fields here, each algorithm's config by its
// entry in algorithms/algorithm_spec.h. Used by the learner on Submit, by
// rlctl before sending (early errors), and by actors and the evaluator to
// build the same problem and configuration. Free of LibTorch (library
// rlx::job_spec), so rlctl links it. Stateless.
#ifndef RLX_ALGORITHMS_JOB_SPEC_H_
#define RLX_ALGORITHMS_JOB_SPEC_H_

#include "absl/status/statusor.h"
#include "job.pb.h"
#include "envs/env.h"
#include "algorithms/algorithm_spec.h"
#include "algorithms/stream_x/config.h"

namespace rlx {

// The bounds ValidateJobSpec enforces on what a job may ask for (documented
// in docs/limits.md, "Jobs"). The memory figures are estimates from the
// network sizes: 4 bytes per parameter, times the copies the learner keeps
// (kLearnerCopies, plus one trace set per actor stream) and the copies an
// actor keeps per env (kActorCopiesPerEnv).
struct JobLimits {
  static constexpr int kMaxNameBytes = 128;
  static constexpr int kMaxNumActors = 1024;
  static constexpr int kMaxEnvsPerActor = 1024;
  static constexpr int64_t kMaxStreams = 16384;  // num_actors * envs_per_actor
  static constexpr int kMaxHiddenLayers = 8;
  static constexpr int64_t kMaxHiddenWidth = 16384;
  static constexpr int64_t kMaxNetworkParameters = int64_t{16} << 20;  // per network
  static constexpr int64_t kLearnerCopies = 8;
  static constexpr int64_t kActorCopiesPerEnv = 4;
  static constexpr int64_t kMaxLearnerBytes = int64_t{8} << 30;
  static constexpr int64_t kMaxActorBytes = int64_t{4} << 30;
  static constexpr int64_t kMaxTableSize = int64_t{10} << 20;  // items
  static constexpr int kMaxEvalEpisodes = 1000;
  static constexpr double kMaxWallSeconds = 366.0 * 24 * 3600;
};

// Estimated memory of the job's learner and of each of its actors (spec
// valid, defaults filled), by the algorithm's estimate.
absl::StatusOr<JobMemoryEstimate> EstimateJobMemory(const JobSpec& spec);

// A user-supplied string for an error message: at most 64 bytes of it, with
// its full length when cut.
std::string Shorten(const std::string& text);

// Fills unset fields with defaults, then checks every field. On error returns
// INVALID_ARGUMENT whose message lists every bad field by name
// ("num_actors: must be >= 1, got -2; env: unknown environment 'Foo-v0' ...").
absl::Status ValidateJobSpec(JobSpec* spec);

// Parses a job file: text format, or JSON when the content starts with '{'.
absl::StatusOr<JobSpec> ParseJobSpec(const std::string& contents);

// What the algorithms need to know about an environment.
absl::StatusOr<ProblemSpec> ProblemFromEnvSpec(const EnvSpec& spec);

// The job's environment's problem description.
absl::StatusOr<ProblemSpec> JobProblem(const JobSpec& spec);
// A multi-agent env's per-agent problem (observation width, graph layout,
// force box, step limit).
ProblemSpec ProblemFromMultiAgentSpec(const MultiAgentSpec& spec);
// Agents per env of the job's env: its stream count per env (1 for
// single-agent envs).
int JobAgentsPerEnv(const JobSpec& spec);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_JOB_SPEC_H_
