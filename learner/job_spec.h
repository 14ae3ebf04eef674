// The one place where a JobSpec (proto/job.proto) is validated, completed with
// defaults, and turned into what the stream-x code needs. Used by the learner
// on Submit, by rlctl before sending (early errors), and by actors and the
// evaluator to build the same problem and configuration. Free of LibTorch
// (library rlx::job_spec), so rlctl links it. Stateless.
#ifndef RLX_LEARNER_JOB_SPEC_H_
#define RLX_LEARNER_JOB_SPEC_H_

#include "absl/status/statusor.h"
#include "job.pb.h"
#include "envs/env.h"
#include "learner/algorithms/config.h"

namespace rlx {

// Fills unset fields with defaults, then checks every field. On error returns
// INVALID_ARGUMENT whose message lists every bad field by name
// ("num_actors: must be >= 1, got -2; env: unknown environment 'Foo-v0' ...").
absl::Status ValidateJobSpec(JobSpec* spec);

// Parses a job file: text format, or JSON when the content starts with '{'.
absl::StatusOr<JobSpec> ParseJobSpec(const std::string& contents);

// What the stream-x code needs to know about an environment.
absl::StatusOr<ProblemSpec> ProblemFromEnvSpec(const EnvSpec& spec);

// The environment's problem description and the job's stream-x configuration
// (spec must be valid).
absl::StatusOr<ProblemSpec> JobProblem(const JobSpec& spec);
absl::StatusOr<StreamConfig> JobStreamConfig(const JobSpec& spec);

}  // namespace rlx

#endif  // RLX_LEARNER_JOB_SPEC_H_
