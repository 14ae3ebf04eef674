// Job files on rlctl's side: reading and parsing (text-format or JSON
// JobSpec), and the same validation the learner runs on Submit
// (algorithms/job_spec.h, LibTorch-free), so `rlctl submit` reports mistakes
// (malformed file, unknown env or algorithm, negative counts, no stop rule)
// before talking to a learner ("invalid job: num_actors: must be >= 1, got -2;
// ..."). Stateless.
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

// Reads and parses path. Errors name the file: NOT_FOUND (no such file),
// PERMISSION_DENIED, INVALID_ARGUMENT for a directory ("job file DIR is a
// directory ..."), an empty file, another read error, or a parse error.
absl::StatusOr<JobSpec> ReadJobFile(const std::string& path);

// ValidateJobSpec on a copy of the spec. INVALID_ARGUMENT listing every bad field.
absl::Status CheckJobSpec(const JobSpec& spec);

}  // namespace rlx::cli

#endif  // RLX_CLI_JOB_FILE_H_
