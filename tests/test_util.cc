#include "tests/test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/file_util.h"

namespace rlx {

absl::StatusOr<std::string> HttpGet(const std::string& host, int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("connect ", host, ":", port, " failed"));
  }
  const std::string req = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host, "\r\n\r\n");
  ::send(fd, req.data(), req.size(), 0);
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) resp.append(buf, n);
  ::close(fd);
  const size_t body = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || body == std::string::npos) {
    return absl::InternalError("malformed HTTP response");
  }
  if (resp.find(" 200") > resp.find("\r\n")) {
    return absl::InternalError(absl::StrCat("HTTP error: ", resp.substr(0, resp.find("\r\n"))));
  }
  return resp.substr(body + 4);
}

std::string UrlEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

std::set<pid_t> SupervisorStartedPids(const std::string& supervisor_log, bool with_supervisor) {
  std::set<pid_t> pids;
  absl::StatusOr<std::string> log = ReadFileToString(supervisor_log);
  if (!log.ok()) return pids;
  std::vector<absl::string_view> markers = {" started "};
  if (with_supervisor) markers.push_back(" supervisor pid ");
  for (absl::string_view line : absl::StrSplit(*log, '\n')) {
    for (absl::string_view marker : markers) {
      const size_t at = line.find(marker);
      if (at == absl::string_view::npos) continue;
      std::vector<absl::string_view> words = absl::StrSplit(line.substr(at), ' ', absl::SkipEmpty());
      for (size_t i = 0; i + 1 < words.size(); ++i) {
        int pid = 0;
        if (words[i] == "pid" && absl::SimpleAtoi(words[i + 1], &pid)) pids.insert(pid);
      }
    }
  }
  return pids;
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = absl::StrCat("/tmp/", prefix, "_XXXXXX");
  char* dir = mkdtemp(tmpl.data());
  return dir ? std::string(dir) : std::string();
}

bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

std::string BinaryPath(const std::string& name) {
  const char* dir = std::getenv("RLX_BIN_DIR");
  if (dir != nullptr) return absl::StrCat(dir, "/", name);
  // Tests and binaries share build/bin.
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    std::string path(exe, n);
    return absl::StrCat(path.substr(0, path.rfind('/')), "/", name);
  }
  return name;
}

absl::StatusOr<Subprocess> Subprocess::Start(const std::vector<std::string>& argv,
                                             const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    // Child: a fresh signal mask (the parent may block SIGTERM).
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!log_path.empty()) {
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
    }
    ::execv(args[0], args.data());
    std::fprintf(stderr, "exec %s failed: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  return Subprocess(pid);
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(other.pid_), exit_code_(other.exit_code_) {
  other.pid_ = -1;
}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = other.pid_;
    exit_code_ = other.exit_code_;
    other.pid_ = -1;
  }
  return *this;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void Subprocess::Signal(int sig) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, sig);
}

std::optional<int> Subprocess::Wait(absl::Duration timeout) {
  if (exit_code_) return exit_code_;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (absl::Now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool Subprocess::Running() { return !Wait(absl::ZeroDuration()).has_value(); }

absl::StatusOr<std::string> WaitForFileContents(const std::string& path, absl::Duration timeout) {
  std::string contents;
  const bool ok = WaitFor(
      [&] {
        auto r = ReadFileToString(path);
        if (!r.ok() || r->empty()) return false;
        contents = *r;
        return true;
      },
      timeout);
  if (!ok) return absl::DeadlineExceededError(absl::StrCat("no contents in ", path));
  return contents;
}

absl::StatusOr<ServingProcess> StartWithPortFile(const std::string& dir,
                                                 const std::string& binary,
                                                 const std::string& tag,
                                                 const std::vector<std::string>& extra,
                                                 absl::Duration timeout) {
  const std::string pf = absl::StrCat(dir, "/", tag, ".port");
  ::unlink(pf.c_str());
  std::vector<std::string> argv = {BinaryPath(binary), "--port_file=" + pf};
  // The servers default to the fixed cluster ports; tests run side by side,
  // so they pick free ports unless a test asks for one.
  const bool server = binary == "replay_server" || binary == "learner" || binary == "evaluator";
  const bool has_port = std::any_of(extra.begin(), extra.end(), [](const std::string& flag) {
    return absl::StartsWith(flag, "--port=");
  });
  if (server && !has_port) argv.push_back("--port=0");
  argv.insert(argv.end(), extra.begin(), extra.end());
  absl::StatusOr<Subprocess> p = Subprocess::Start(argv, absl::StrCat(dir, "/", tag, ".log"));
  if (!p.ok()) return p.status();
  absl::StatusOr<std::string> contents = WaitForFileContents(pf, timeout);
  if (!contents.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat(tag, " did not start; see ", dir, "/", tag, ".log"));
  }
  std::vector<std::string> lines = absl::StrSplit(*contents, '\n', absl::SkipEmpty());
  ServingProcess proc{tag, std::move(*p)};
  if (!lines.empty()) (void)absl::SimpleAtoi(lines[0], &proc.port);
  if (lines.size() > 1) (void)absl::SimpleAtoi(lines[1], &proc.metrics_port);
  return proc;
}

}  // namespace rlx
