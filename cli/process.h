// Process plumbing shared by `rlctl up` / `down` / `restart` / `status`
// (cli/local_cluster.h) and the supervisor (cli/supervisor.h): spawning a
// child with its output in a log, liveness checks that treat zombies as gone,
// waiting for processes that are not our children without polling (pidfd),
// and the supervisor's control socket (AF_UNIX stream, one request line per
// connection, answered by lines).
//
// Linux only (/proc, prctl, pidfd_open). Thread-compatible: no shared state.
#ifndef RLX_CLI_PROCESS_H_
#define RLX_CLI_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rlx::cli {

struct SpawnOptions {
  std::string log;              // stdout and stderr; stdin is /dev/null
  bool append_log = false;      // false: truncate
  bool new_session = true;      // setsid: no controlling terminal, no Ctrl-C
  int parent_death_signal = 0;  // PR_SET_PDEATHSIG: sent when the parent dies (0: none)
  int inherit_fd = -1;          // this fd stays open across exec (CLOEXEC cleared)
};

// fork + exec argv[0] (an absolute path). The child starts with an empty
// signal mask and default dispositions (the parent may block or ignore
// signals). INTERNAL when the log cannot be opened or fork fails; a failing
// exec shows up as exit status 127 with the reason in the log.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

// Whether pid runs: a zombie counts as gone, and our own exited children are
// reaped.
bool ProcessAlive(pid_t pid);

// Whether pid still runs `binary`: its argv[0], or argv[1] under an
// interpreter (a script). False for a reused pid.
bool RunsBinary(pid_t pid, const std::string& binary);

// Waits until each of pids has exited (or is a zombie) or deadline passes,
// without polling where the kernel has pidfd_open. Reaps those that are our
// children. Returns the pids still running.
std::vector<pid_t> WaitForExits(const std::vector<pid_t>& pids, absl::Time deadline);

// "exited with status 3" / "was killed by signal 9" for a waitpid status.
std::string DescribeWaitStatus(int wstatus);

// The last non-empty line of a log (at most ~300 characters), "" if none.
std::string LastLogLine(const std::string& log);

// path made absolute against the working directory.
std::string AbsolutePath(const std::string& path);
// The running executable (/proc/self/exe).
std::string SelfExecutable();

// A listening AF_UNIX stream socket at path (a stale file there is removed;
// mode 0600), non-blocking and close-on-exec. Paths longer than sun_path are
// reached through /proc/self/fd.
absl::StatusOr<int> ListenUnixSocket(const std::string& path);
// A connected, close-on-exec socket; UNAVAILABLE when nobody listens.
absl::StatusOr<int> ConnectUnixSocket(const std::string& path);
// The pid and uid of the peer of a connected AF_UNIX socket.
absl::Status PeerCredentials(int fd, pid_t* pid, uid_t* uid);

// Reads one line (without the '\n') from fd, keeping what follows it in
// *buffer for the next call. NOT_FOUND at end of file, DEADLINE_EXCEEDED when
// no full line arrives before deadline.
absl::StatusOr<std::string> ReadLine(int fd, std::string* buffer, absl::Time deadline);
// Writes all of data (MSG_NOSIGNAL on sockets, plain write otherwise).
absl::Status WriteAll(int fd, absl::string_view data);

// A TCP port that was free on host (an IPv4 address) a moment ago: bound to
// port 0 and released. For a child that cannot report the port it bound (the
// Prometheus server of `up --monitor`).
absl::StatusOr<int> PickFreePort(const std::string& host);

// The status code of an HTTP/1.0 GET of http://host:port/path (host an IPv4
// address), or UNAVAILABLE when nothing answers before deadline. Reads only
// the status line.
absl::StatusOr<int> HttpGetStatus(const std::string& host, int port, const std::string& path,
                                  absl::Time deadline);

}  // namespace rlx::cli

#endif  // RLX_CLI_PROCESS_H_
