#include "cli/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/file_util.h"

namespace rlx::cli {
namespace {

// Milliseconds from now until deadline, for poll(): >= 0, capped at 1 h.
int PollTimeoutMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 3600 * 1000));
}

// /proc/<pid>/stat's state letter, or '\0' when it cannot be read.
char ProcState(pid_t pid) {
  absl::StatusOr<std::string> stat = ReadFileToString(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return '\0';
  const size_t paren = stat->rfind(')');  // the command name may contain ')'
  if (paren == std::string::npos || paren + 2 >= stat->size()) return '\0';
  return (*stat)[paren + 2];
}

// A sockaddr_un for path; paths too long for sun_path go through an O_PATH
// descriptor of their directory (/proc/self/fd/N/name), held by dir_fd.
struct UnixAddress {
  sockaddr_un addr{};
  socklen_t len = 0;
  int dir_fd = -1;
  ~UnixAddress() {
    if (dir_fd >= 0) ::close(dir_fd);
  }
};

absl::Status MakeUnixAddress(const std::string& path, UnixAddress* out) {
  out->addr.sun_family = AF_UNIX;
  std::string name = path;
  if (name.size() >= sizeof(out->addr.sun_path)) {
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    out->dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (out->dir_fd < 0) {
      return absl::InternalError(absl::StrCat("cannot open ", dir, ": ", std::strerror(errno)));
    }
    name = absl::StrCat("/proc/self/fd/", out->dir_fd, "/", path.substr(slash + 1));
    if (name.size() >= sizeof(out->addr.sun_path)) {
      return absl::InvalidArgumentError(absl::StrCat("socket name too long: ", path));
    }
  }
  std::memcpy(out->addr.sun_path, name.c_str(), name.size() + 1);
  out->len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("Spawn: empty argv");
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (options.append_log ? O_APPEND : O_TRUNC);
  const int log_fd = ::open(options.log.c_str(), flags, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open log ", options.log, ": ", std::strerror(errno)));
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // Everything the child needs is built before fork: after fork only
  // async-signal-safe calls (the parent may have threads).
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string exec_failed = absl::StrCat("exec ", argv[0], " failed: ");
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(err)));
  }
  if (pid == 0) {
    if (options.new_session) ::setsid();
    if (options.parent_death_signal != 0) {
      ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
      if (::getppid() != parent) ::_exit(1);  // the parent died before prctl
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGCHLD, SIGQUIT}) ::signal(sig, SIG_DFL);
    if (options.inherit_fd >= 0) ::fcntl(options.inherit_fd, F_SETFD, 0);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(args[0], args.data());
    const char* reason = std::strerror(errno);
    (void)!::write(2, exec_failed.data(), exec_failed.size());
    (void)!::write(2, reason, std::strlen(reason));
    (void)!::write(2, "\n", 1);
    ::_exit(127);
  }
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  return pid;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return false;  // our child, now reaped
  if (r == 0) return true;     // our child, running
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  const char state = ProcState(pid);
  return state != 'Z' && state != 'X';  // another parent's zombie is gone for us
}

bool RunsBinary(pid_t pid, const std::string& binary) {
  absl::StatusOr<std::string> cmdline = ReadFileToString(absl::StrCat("/proc/", pid, "/cmdline"));
  if (!cmdline.ok()) return false;
  std::vector<absl::string_view> argv = absl::StrSplit(*cmdline, '\0');
  return (argv.size() > 0 && argv[0] == binary) || (argv.size() > 1 && argv[1] == binary);
}

std::vector<pid_t> WaitForExits(const std::vector<pid_t>& pids, absl::Time deadline) {
  struct Watched {
    pid_t pid;
    int pidfd;
  };
  std::vector<Watched> watched;
  std::vector<pid_t> unwatchable;  // no pidfd_open: checked every 20 ms
  for (pid_t pid : pids) {
    if (!ProcessAlive(pid)) continue;
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd >= 0) {
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      watched.push_back({pid, fd});
    } else if (errno != ESRCH) {
      unwatchable.push_back(pid);
    }
  }
  while (!watched.empty() || !unwatchable.empty()) {
    for (auto it = watched.begin(); it != watched.end();) {
      // A pidfd reads ready once the process has exited (zombie included).
      pollfd p{it->pidfd, POLLIN, 0};
      if (::poll(&p, 1, 0) > 0 || !ProcessAlive(it->pid)) {
        ProcessAlive(it->pid);  // reaps it if it is our child
        ::close(it->pidfd);
        it = watched.erase(it);
      } else {
        ++it;
      }
    }
    unwatchable.erase(std::remove_if(unwatchable.begin(), unwatchable.end(),
                                     [](pid_t pid) { return !ProcessAlive(pid); }),
                      unwatchable.end());
    if ((watched.empty() && unwatchable.empty()) || absl::Now() >= deadline) break;
    int timeout = PollTimeoutMs(deadline);
    if (!unwatchable.empty()) timeout = std::min(timeout, 20);
    std::vector<pollfd> fds;
    for (const Watched& w : watched) fds.push_back({w.pidfd, POLLIN, 0});
    if (fds.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(timeout));
    } else {
      ::poll(fds.data(), fds.size(), timeout);
    }
  }
  std::vector<pid_t> left = unwatchable;
  for (const Watched& w : watched) {
    left.push_back(w.pid);
    ::close(w.pidfd);
  }
  return left;
}

std::string DescribeWaitStatus(int wstatus) {
  if (WIFEXITED(wstatus)) return absl::StrCat("exited with status ", WEXITSTATUS(wstatus));
  if (WIFSIGNALED(wstatus)) return absl::StrCat("was killed by signal ", WTERMSIG(wstatus));
  return "stopped";
}

std::string LastLogLine(const std::string& log) {
  absl::StatusOr<std::string> contents = ReadFileToString(log);
  if (!contents.ok()) return "";
  std::vector<absl::string_view> lines = absl::StrSplit(*contents, '\n', absl::SkipWhitespace());
  if (lines.empty()) return "";
  std::string last(lines.back());
  if (last.size() > 300) last = last.substr(0, 300) + "...";
  return last;
}

std::string AbsolutePath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  if (path.empty() || path == ".") return cwd;
  return absl::StrCat(cwd, "/", path);
}

std::string SelfExecutable() {
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  return n > 0 ? std::string(exe, n) : std::string();
}

absl::StatusOr<int> ListenUnixSocket(const std::string& path) {
  UnixAddress address;
  if (absl::Status s = MakeUnixAddress(path, &address); !s.ok()) return s;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  ::unlink(path.c_str());
  const mode_t old_mask = ::umask(0077);  // the socket file: owner only
  const int bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address.addr), address.len);
  const int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0 || ::listen(fd, 16) != 0) {
    const int err = bound != 0 ? bind_errno : errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("cannot listen on ", path, ": ", std::strerror(err)));
  }
  return fd;
}

absl::StatusOr<int> ConnectUnixSocket(const std::string& path) {
  UnixAddress address;
  if (absl::Status s = MakeUnixAddress(path, &address); !s.ok()) return s;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address.addr), address.len) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to ", path, ": ", std::strerror(err)));
  }
  return fd;
}

absl::Status PeerCredentials(int fd, pid_t* pid, uid_t* uid) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return absl::InternalError(absl::StrCat("SO_PEERCRED: ", std::strerror(errno)));
  }
  if (pid != nullptr) *pid = cred.pid;
  if (uid != nullptr) *uid = cred.uid;
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadLine(int fd, std::string* buffer, absl::Time deadline) {
  while (true) {
    if (const size_t nl = buffer->find('\n'); nl != std::string::npos) {
      std::string line = buffer->substr(0, nl);
      buffer->erase(0, nl + 1);
      return line;
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, PollTimeoutMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return absl::DeadlineExceededError("no answer in time");
    char chunk[4096];
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("read: ", std::strerror(errno)));
    if (n == 0) {
      if (buffer->empty()) return absl::NotFoundError("end of file");
      std::string line = std::move(*buffer);
      buffer->clear();
      return line;
    }
    buffer->append(chunk, n);
  }
}

absl::Status WriteAll(int fd, absl::string_view data) {
  bool socket = true;
  while (!data.empty()) {
    ssize_t n = socket ? ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) : -1;
    if (n < 0 && socket && errno == ENOTSOCK) {
      socket = false;
      continue;
    }
    if (!socket) n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("write: ", std::strerror(errno)));
    data.remove_prefix(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PickFreePort(const std::string& host) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 address: ", host));
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  socklen_t len = sizeof(addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok) return absl::InternalError(absl::StrCat("binding ", host, ":0: ", std::strerror(error)));
  return static_cast<int>(ntohs(addr.sin_port));
}

absl::StatusOr<int> HttpGetStatus(const std::string& host, int port, const std::string& path,
                                  absl::Time deadline) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 address: ", host));
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  const std::string where = absl::StrCat("http://", host, ":", port, path);
  auto fail = [&](const std::string& why) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat(where, ": ", why));
  };
  auto wait = [&](short events) {
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, PollTimeoutMs(deadline)) == 1;
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) return fail(std::strerror(errno));
    if (!wait(POLLOUT)) return fail("connect timed out");
    int error = 0;
    socklen_t len = sizeof(error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) return fail(std::strerror(error));
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host, ":", port, "\r\n\r\n");
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait(POLLOUT)) return fail("send timed out");
    } else {
      return fail(std::strerror(errno));
    }
  }
  std::string response;
  while (response.find("\r\n") == std::string::npos && response.size() < 1024) {
    char chunk[256];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      response.append(chunk, static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait(POLLIN)) return fail("no answer in time");
    } else {
      break;  // closed
    }
  }
  ::close(fd);
  // "HTTP/1.1 200 OK". The words point into status_line, which must outlive
  // them (split from a temporary, they would point into freed memory).
  const std::string status_line = response.substr(0, response.find("\r\n"));
  std::vector<absl::string_view> words = absl::StrSplit(status_line, ' ', absl::SkipEmpty());
  int code = 0;
  if (words.size() < 2 || !absl::StartsWith(words[0], "HTTP/") ||
      !absl::SimpleAtoi(words[1], &code)) {
    return absl::UnavailableError(absl::StrCat(where, ": not an HTTP answer"));
  }
  return code;
}

}  // namespace rlx::cli
