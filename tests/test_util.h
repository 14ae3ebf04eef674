// Helpers for tests that start real processes and talk to them over loopback.
// Subprocess owns a child process; its destructor kills (SIGKILL) and reaps it
// so no test leaves processes behind.
#ifndef RLX_TESTS_TEST_UTIL_H_
#define RLX_TESTS_TEST_UTIL_H_

#include <sys/types.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rlx {

// Plain HTTP/1.0 GET; returns the body of a 200 response.
absl::StatusOr<std::string> HttpGet(const std::string& host, int port, const std::string& path);

// Percent-encodes everything but [A-Za-z0-9-_.~] (a URL query value).
std::string UrlEncode(absl::string_view s);

// The pids an `rlctl up` supervisor logged in its log file: every process
// it started ("started NAME pid P" lines, restarts included) and, with
// with_supervisor, the supervisor itself ("supervisor pid P"). Empty when
// the log cannot be read.
std::set<pid_t> SupervisorStartedPids(const std::string& supervisor_log,
                                      bool with_supervisor = true);

// A fresh directory under /tmp.
std::string MakeTempDir(const std::string& prefix = "rlx_test");

// Polls pred every 20 ms until it returns true or timeout passes.
bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout);

// Path of a built binary: $RLX_BIN_DIR/name, or name next to the test binary's
// build tree (CMake passes RLX_BIN_DIR through the test environment), else
// the directory of the running test binary.
std::string BinaryPath(const std::string& name);

class Subprocess {
 public:
  // Starts argv[0] with the given arguments; stdout and stderr go to log_path
  // (or are inherited when empty).
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const std::string& log_path = "");
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits for exit; returns the exit code (128+signal if killed), or nullopt on timeout.
  std::optional<int> Wait(absl::Duration timeout);
  bool Running();

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// Reads "key=value" from a file the process wrote (e.g. --port_file output):
// waits until the file exists and is non-empty.
absl::StatusOr<std::string> WaitForFileContents(const std::string& path, absl::Duration timeout);

// A server binary started with --port_file=<dir>/<tag>.port, logging to
// <dir>/<tag>.log, and the gRPC / metrics ports it wrote to that file.
struct ServingProcess {
  std::string tag;
  Subprocess process;
  int port = 0;
  int metrics_port = 0;
};

// Starts BinaryPath(binary) with --port_file and `extra` flags and waits (up
// to timeout) for the port file: its first line is the gRPC port, its second
// the metrics port.
absl::StatusOr<ServingProcess> StartWithPortFile(const std::string& dir,
                                                 const std::string& binary,
                                                 const std::string& tag,
                                                 const std::vector<std::string>& extra,
                                                 absl::Duration timeout = absl::Seconds(60));

}  // namespace rlx

#endif  // RLX_TESTS_TEST_UTIL_H_
