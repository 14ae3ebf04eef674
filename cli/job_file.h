// Job files on rlctl's side: reading, parsing (text-format or JSON JobSpec)
// and the checks that need no LibTorch, so `rlctl submit` reports the common
// mistakes (malformed file, unknown env or algorithm, negative counts, no stop
// rule) before talking to a learner. The learner's ValidateJobSpec
// (learner/job_spec.h) stays the authority: it repeats these checks, fills in
// the defaults and checks the algorithm's hyperparameters. Messages use its
// format ("invalid job: num_actors: must be >= 1, got -2; ..."). Stateless.
#ifndef RLX_CLI_JOB_FILE_H_
#define RLX_CLI_JOB_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "job.pb.h"

namespace rlx::cli {

// Text format, or JSON when the content starts with '{'. INVALID_ARGUMENT with
// the parser's line:column messages.
absl::StatusOr<JobSpec> ParseJobText(const std::string& contents);

// Reads and parses path (NOT_FOUND / INVALID_ARGUMENT naming the file).
absl::StatusOr<JobSpec> ReadJobFile(const std::string& path);

// The LibTorch-free subset of ValidateJobSpec, on the spec as written (unset
// fields mean "default"). INVALID_ARGUMENT listing every bad field.
absl::Status CheckJobSpec(const JobSpec& spec);

}  // namespace rlx::cli

#endif  // RLX_CLI_JOB_FILE_H_
