// Durable file writes for checkpoints: write to "<path>.tmp", fsync, rename
// over <path>, fsync the directory. A reader sees either the old file or the
// new one, never a torn write, even after kill -9 or power loss.
#ifndef RLX_CORE_FILE_UTIL_H_
#define RLX_CORE_FILE_UTIL_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace google::protobuf::io {
class ZeroCopyOutputStream;
}

namespace rlx {

// Calls write(stream) with a buffered stream onto a temp file, then fsyncs and
// renames it to path. write's error aborts and removes the temp file.
absl::Status WriteFileAtomically(
    const std::string& path,
    const std::function<absl::Status(google::protobuf::io::ZeroCopyOutputStream*)>& write);
absl::Status WriteStringAtomically(const std::string& path, absl::string_view contents);

absl::StatusOr<std::string> ReadFileToString(const std::string& path);
bool FileExists(const std::string& path);
// mkdir -p.
absl::Status MakeDirs(const std::string& path);
// path itself when absolute, else the working directory joined with it (no
// symlinks resolved; the file need not exist).
std::string AbsolutePath(const std::string& path);

}  // namespace rlx

#endif  // RLX_CORE_FILE_UTIL_H_
