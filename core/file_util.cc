#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <google/protobuf/io/zero_copy_stream_impl.h>

#include "absl/strings/str_cat.h"

namespace rlx {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

absl::Status WriteFileAtomically(
    const std::string& path,
    const std::function<absl::Status(google::protobuf::io::ZeroCopyOutputStream*)>& write) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  absl::Status status;
  {
    google::protobuf::io::FileOutputStream out(fd, /*block_size=*/1 << 20);
    status = write(&out);
    if (status.ok() && !out.Flush()) status = ErrnoError("cannot write", tmp);
  }
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("cannot fsync", tmp);
  if (::close(fd) != 0 && status.ok()) status = ErrnoError("cannot close", tmp);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("cannot rename onto", path);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  const int dfd = ::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

absl::Status WriteStringAtomically(const std::string& path, absl::string_view contents) {
  return WriteFileAtomically(path, [&](google::protobuf::io::ZeroCopyOutputStream* out) {
    void* data;
    int size;
    size_t pos = 0;
    while (pos < contents.size()) {
      if (!out->Next(&data, &size)) return absl::InternalError("write failed");
      const size_t n = std::min<size_t>(size, contents.size() - pos);
      std::memcpy(data, contents.data() + pos, n);
      pos += n;
      if (n < static_cast<size_t>(size)) out->BackUp(size - static_cast<int>(n));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string AbsolutePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  std::string relative = path;
  while (relative.size() >= 2 && relative[0] == '.' && relative[1] == '/') relative.erase(0, 2);
  return absl::StrCat(cwd, "/", relative);
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

absl::Status MakeDirs(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoError("cannot create directory", partial);
    }
  }
  return absl::OkStatus();
}

}  // namespace rlx
