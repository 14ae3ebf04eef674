#include "cli/job_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "algorithms/job_spec.h"

namespace rlx::cli {

absl::StatusOr<JobSpec> ParseJobText(const std::string& contents) {
  return ParseJobSpec(contents);
}

namespace {

// The whole file, or an error naming it and the reason (a directory reads as
// empty through a stream, so it is checked first).
absl::StatusOr<std::string> ReadJobContents(const std::string& path) {
  auto cannot_read = [&](int err) {
    const std::string message = absl::StrCat("cannot read job file ", path, ": ", std::strerror(err));
    if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(message);
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
    return absl::InvalidArgumentError(message);
  };
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return cannot_read(errno);
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job file ", path, " is a directory (give a text-format or JSON JobSpec file, e.g. ",
        "jobs/cartpole_stream_ac.textproto)"));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cannot_read(errno);
  std::string contents;
  char chunk[65536];
  while (true) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return cannot_read(err);
    }
    if (n == 0) break;
    contents.append(chunk, n);
  }
  ::close(fd);
  if (absl::StripAsciiWhitespace(contents).empty()) {
    return absl::InvalidArgumentError(absl::StrCat("job file ", path, " is empty"));
  }
  return contents;
}

}  // namespace

absl::StatusOr<JobSpec> ReadJobFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string contents, ReadJobContents(path));
  absl::StatusOr<JobSpec> spec = ParseJobText(contents);
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
