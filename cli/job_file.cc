#include "cli/job_file.h"

#include "absl/strings/str_cat.h"
#include "core/file_util.h"
#include "learner/job_spec.h"

namespace rlx::cli {

absl::StatusOr<JobSpec> ParseJobText(const std::string& contents) {
  return ParseJobSpec(contents);
}

absl::StatusOr<JobSpec> ReadJobFile(const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFileToString(path);
  if (!contents.ok()) {
    return absl::NotFoundError(absl::StrCat("cannot read job file ", path));
  }
  absl::StatusOr<JobSpec> spec = ParseJobText(*contents);
  if (!spec.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed job file ", path, ": ", spec.status().message()));
  }
  return spec;
}

absl::Status CheckJobSpec(const JobSpec& spec) {
  JobSpec copy = spec;  // the learner fills the defaults on its own copy
  return ValidateJobSpec(&copy);
}

}  // namespace rlx::cli
