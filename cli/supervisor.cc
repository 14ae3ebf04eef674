#include "cli/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/monitor.h"
#include "core/file_util.h"
#include "core/status_macros.h"

namespace rlx::cli {
namespace {

constexpr char kHost[] = "127.0.0.1";
// How long a process may take to die after SIGKILL before it is given up on.
constexpr absl::Duration kKillWait = absl::Seconds(5);
// How long a connection may take to send its request line.
constexpr absl::Duration kRequestTimeout = absl::Seconds(5);
// Grace for stopping what did start when the start-up fails.
constexpr absl::Duration kFailedStartGrace = absl::Seconds(5);

enum class StopReason { kNone, kRestart, kDown };

struct Child {
  explicit Child(const UpOptions& o)
      : backoff(o.restart_backoff, o.max_restart_backoff, o.stable_run) {}

  ProcessRecord record;
  // Stop order: -1 Prometheus, 0 actors + evaluator, 1 learner, 2 replay + preference.
  int group = 0;
  bool has_port = true;            // binds a gRPC port (the actor does not)
  // An rlx server: started with --port, --metrics_port and --port_file, and
  // serving once its port file appears. Otherwise (Prometheus) flags are the
  // whole command line, the ports are chosen beforehand, and it serves once
  // GET ready_path on its port answers 200.
  bool rlx_server = true;
  std::string ready_path;
  std::vector<std::string> flags;  // without --port, --metrics_port, --port_file
  std::string port_file;
  bool ever_started = false;
  absl::Time started;              // of the current process
  absl::Time serve_deadline;       // while "starting"
  bool serve_timed_out = false;    // SIGKILLed for not serving in time
  absl::Time restart_at;           // while "backoff"
  RestartBackoff backoff;
  StopReason stop = StopReason::kNone;
  absl::Time kill_at;              // while stopping: SIGKILL (or give up) at
  bool killed = false;             // SIGKILL sent
  std::string failure;             // during start-up: how it ended
  std::vector<int> restart_waiters;  // `rlctl restart` connections
};

struct Connection {
  int fd;
  std::string buffer;
  absl::Time deadline;
};

// What a child does once it serves: "write PORT_FILE", or answer its ready path.
std::string ServingSign(const Child& c) {
  if (c.rlx_server) return absl::StrCat("write ", c.port_file);
  return absl::StrCat("answer GET http://", kHost, ":", c.record.port, c.ready_path, " with 200");
}

std::string WaitStatusToken(int wstatus) {
  if (WIFEXITED(wstatus)) return absl::StrCat("exit:", WEXITSTATUS(wstatus));
  if (WIFSIGNALED(wstatus)) return absl::StrCat("signal:", WTERMSIG(wstatus));
  return "-";
}

class Supervisor {
 public:
  explicit Supervisor(const SuperviseOptions& options)
      : o_(options.up), ready_fd_(options.ready_fd), stop_grace_(options.stop_grace) {}
  ~Supervisor() {
    for (int fd : {signal_fd_, listen_fd_, inotify_fd_, ready_fd_}) {
      if (fd >= 0) ::close(fd);
    }
    for (const Connection& c : connections_) ::close(c.fd);
  }
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  int Run();

 private:
  absl::Status Setup();
  void AddChildren();
  absl::Status StartGroup(const std::vector<Child*>& group);
  absl::Status StartAll();
  absl::Status PrepareMonitor(Child& prometheus);
  void StopAll(absl::Duration grace);
  void Finish();

  // Waits for and handles events (signals, requests, port files, deadlines)
  // until deadline or the first batch of events.
  void Poll(absl::Time deadline);
  absl::Time NextDeadline() const;
  void DrainSignals();
  void ReapChildren();
  void OnExit(Child& c, int wstatus);
  void AcceptConnections();
  void ReadConnections(const std::vector<pollfd>& ready);
  void HandleRequest(int fd, const std::string& line);
  void CheckServing(Child& c);
  void HandleDeadlines();

  absl::Status SpawnChild(Child& c);
  void SendStop(Child& c, StopReason reason, absl::Duration grace);
  void Record();
  void Log(absl::string_view line);
  void Progress(absl::string_view line);  // to `down` clients and the log
  static void Reply(int fd, absl::string_view line);
  static std::string ErrorLine(const absl::Status& status);
  Child* Find(const std::string& name);
  bool AnyStarting() const;

  const UpOptions o_;
  int ready_fd_;
  const absl::Duration stop_grace_;
  int signal_fd_ = -1, listen_fd_ = -1, inotify_fd_ = -1;
  std::string socket_path_;
  std::vector<std::unique_ptr<Child>> children_;  // in start order
  std::vector<Connection> connections_;           // waiting for their request line
  std::vector<int> down_clients_;
  bool ready_ = false;         // start-up done: crashes restart
  bool stopping_ = false;      // StopAll runs: nothing restarts
  bool down_requested_ = false;
  absl::Duration down_grace_;
  bool finished_ = false;      // state files removed: no more Record()
  std::string learner_address_, replay_address_, preference_address_, monitor_url_;
};

void Supervisor::Log(absl::string_view line) {
  std::cerr << absl::FormatTime("%Y-%m-%d %H:%M:%E3S ", absl::Now(), absl::LocalTimeZone())
            << line << std::endl;
}

void Supervisor::Progress(absl::string_view line) {
  Log(line);
  for (int fd : down_clients_) Reply(fd, line);
}

void Supervisor::Reply(int fd, absl::string_view line) {
  // Best effort: a client that went away or does not read loses the line.
  const std::string data = absl::StrCat(line, "\n");
  (void)!::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

std::string Supervisor::ErrorLine(const absl::Status& status) {
  std::string message(status.message());
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  return absl::StrCat("error ", static_cast<int>(status.code()), " ", message);
}

Child* Supervisor::Find(const std::string& name) {
  for (auto& c : children_) {
    if (c->record.name == name) return c.get();
  }
  return nullptr;
}

bool Supervisor::AnyStarting() const {
  for (const auto& c : children_) {
    if (c->record.pid > 0 && c->record.state == "starting") return true;
  }
  return false;
}

// A starting child whose readiness no port file announces: look often.
bool AnyStartingWithoutPortFile(const std::vector<std::unique_ptr<Child>>& children) {
  for (const auto& c : children) {
    if (c->record.pid > 0 && c->record.state == "starting" && !c->rlx_server) return true;
  }
  return false;
}

absl::Status Supervisor::Setup() {
  if (ready_fd_ >= 0) ::fcntl(ready_fd_, F_SETFD, FD_CLOEXEC);  // not for the children
  for (const std::string& dir :
       {LogDir(o_.state_dir), RunDir(o_.state_dir), o_.checkpoint_dir, o_.out_dir}) {
    RETURN_IF_ERROR(MakeDirs(dir));
  }
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT}) sigaddset(&set, sig);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  signal_fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd_ < 0) return absl::InternalError(absl::StrCat("signalfd: ", std::strerror(errno)));
  socket_path_ = ControlSocketPath(o_.state_dir);
  ASSIGN_OR_RETURN(listen_fd_, ListenUnixSocket(socket_path_));
  // Port files are written atomically (rename): their arrival wakes the loop.
  inotify_fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ >= 0 &&
      ::inotify_add_watch(inotify_fd_, RunDir(o_.state_dir).c_str(),
                          IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
    ::close(inotify_fd_);
    inotify_fd_ = -1;
  }
  return absl::OkStatus();
}

void Supervisor::AddChildren() {
  auto add = [&](const std::string& name, const std::string& binary, int group, bool has_port,
                 std::vector<std::string> flags) {
    auto c = std::make_unique<Child>(o_);
    c->record.name = name;
    c->record.binary = absl::StrCat(o_.bin_dir, "/", binary);
    c->record.log = absl::StrCat(LogDir(o_.state_dir), "/", name, ".log");
    c->record.state = "starting";
    c->port_file = absl::StrCat(RunDir(o_.state_dir), "/", name, ".port");
    c->group = group;
    c->has_port = has_port;
    c->flags = std::move(flags);
    children_.push_back(std::move(c));
  };
  add("replay", "replay_server", 2, true,
      {absl::StrCat("--host=", kHost), "--checkpoint_dir=" + o_.checkpoint_dir + "/replay"});
  // The learner's and the others' addresses are known once replay and learner
  // serve; their flags are completed in StartAll.
  // SPO jobs' preference queries (proto/preference.proto); needs no one.
  add("preference", "preference_server", 2, true, {absl::StrCat("--host=", kHost)});
  add("learner", "learner", 1, true,
      {absl::StrCat("--host=", kHost), "--checkpoint_dir=" + o_.checkpoint_dir});
  for (int i = 0; i < o_.actors; ++i) {
    const std::string name = absl::StrCat("actor-", i);
    // One machine: the learner is the bottleneck, so actors yield the cores
    // they share with it.
    add(name, "actor", 0, false, {"--name=" + name, "--nice=5"});
  }
  add("evaluator", "evaluator", 0, true,
      {absl::StrCat("--host=", kHost), "--out_dir=" + o_.out_dir, "--name=evaluator"});
  if (o_.monitor) {
    // Started last (StartAll), when every metrics port is known; stopped first.
    add(kPrometheusProcess, "", -1, true, {});
    Child& p = *children_.back();
    p.record.binary = o_.prometheus_binary;
    p.rlx_server = false;
    p.ready_path = "/-/ready";
    p.port_file.clear();
  }
}

absl::Status Supervisor::SpawnChild(Child& c) {
  const bool restart = c.ever_started;
  std::vector<std::string> argv = {c.record.binary};
  argv.insert(argv.end(), c.flags.begin(), c.flags.end());
  // First start: free ports, read back from the port file. Restarts: the same
  // ports, so that the other processes find it again.
  if (c.rlx_server) {
    if (c.has_port) argv.push_back(absl::StrCat("--port=", restart ? c.record.port : 0));
    int metrics_port = o_.metrics ? -1 : 0;
    if (restart && c.record.metrics_port > 0) metrics_port = c.record.metrics_port;
    argv.push_back(absl::StrCat("--metrics_port=", metrics_port));
    argv.push_back("--port_file=" + c.port_file);
    std::remove(c.port_file.c_str());
  }
  if (restart) {
    std::ofstream(c.record.log, std::ios::app)
        << "==== rlctl supervise: restart " << c.record.restarts << " of " << c.record.name
        << " (the previous process " << DescribeLastExit(c.record.last_exit) << ") ====\n";
  }
  SpawnOptions spawn;
  spawn.log = c.record.log;
  spawn.append_log = restart;
  spawn.parent_death_signal = SIGTERM;
  ASSIGN_OR_RETURN(c.record.pid, Spawn(argv, spawn));
  c.ever_started = true;
  c.record.state = "starting";
  c.started = absl::Now();
  c.serve_deadline = c.started + o_.start_timeout;
  c.serve_timed_out = false;
  c.stop = StopReason::kNone;
  c.killed = false;
  Log(restart ? absl::StrCat("started ", c.record.name, " pid ", c.record.pid, " (restart ",
                             c.record.restarts, ", port ", c.record.port, ")")
              : absl::StrCat("started ", c.record.name, " pid ", c.record.pid));
  Record();
  return absl::OkStatus();
}

void Supervisor::SendStop(Child& c, StopReason reason, absl::Duration grace) {
  c.stop = reason;
  if (c.record.pid <= 0) return;
  ::kill(c.record.pid, SIGTERM);
  c.kill_at = absl::Now() + grace;
  c.killed = false;
  c.record.state = "stopping";
}

void Supervisor::Record() {
  if (finished_) return;
  Topology t;
  t.supervisor_pid = ::getpid();
  t.control_socket = socket_path_;
  t.learner_address = learner_address_;
  t.replay_address = replay_address_;
  t.out_dir = o_.out_dir;
  t.checkpoint_dir = o_.checkpoint_dir;
  t.monitor_url = monitor_url_;
  for (const auto& c : children_) {
    if (c->ever_started) t.processes.push_back(c->record);
  }
  if (absl::Status s = WriteTopology(TopologyPath(o_.state_dir), t); !s.ok()) {
    Log(absl::StrCat("cannot write the topology: ", s.message()));
  }
}

void Supervisor::CheckServing(Child& c) {
  if (c.record.pid <= 0 || c.record.state != "starting") return;
  int port = 0, metrics_port = 0;
  if (c.rlx_server) {
    absl::StatusOr<std::string> contents = ReadFileToString(c.port_file);
    if (!contents.ok()) return;
    std::vector<std::string> lines = absl::StrSplit(*contents, '\n', absl::SkipEmpty());
    if (lines.empty() || !absl::SimpleAtoi(lines[0], &port)) return;
    if (lines.size() >= 2) (void)absl::SimpleAtoi(lines[1], &metrics_port);
  } else {
    // Its ports were chosen before it started; it serves once it is ready.
    absl::StatusOr<int> code =
        HttpGetStatus(kHost, c.record.port, c.ready_path, absl::Now() + absl::Milliseconds(500));
    if (!code.ok() || *code != 200) return;
    port = c.record.port;
    metrics_port = c.record.metrics_port;
  }
  if (c.record.restarts > 0 && c.has_port && port != c.record.port) {
    Log(absl::StrCat(c.record.name, " serves on port ", port, ", not ", c.record.port));
  }
  c.record.port = port;
  c.record.metrics_port = metrics_port;
  c.record.state = "running";
  if (c.record.name == "replay") replay_address_ = absl::StrCat(kHost, ":", port);
  if (c.record.name == "preference") preference_address_ = absl::StrCat(kHost, ":", port);
  if (c.record.name == "learner") learner_address_ = absl::StrCat(kHost, ":", port);
  Log(absl::StrCat(c.record.name, " (pid ", c.record.pid, ") serves",
                   c.has_port ? absl::StrCat(" on port ", port) : ""));
  Record();  // before the answer: who asked reads the new state
  for (int fd : c.restart_waiters) {
    Reply(fd, absl::StrCat("ok restarted ", c.record.name, ": pid ", c.record.pid,
                           c.has_port ? absl::StrCat(", port ", port) : "", ", restarts ",
                           c.record.restarts));
    ::close(fd);
  }
  c.restart_waiters.clear();
}

void Supervisor::OnExit(Child& c, int wstatus) {
  const pid_t pid = c.record.pid;
  const absl::Duration ran = absl::Now() - c.started;
  const std::string how = DescribeWaitStatus(wstatus);
  c.record.pid = -1;
  c.record.last_exit = c.serve_timed_out ? "timeout" : WaitStatusToken(wstatus);
  Log(absl::StrCat(c.record.name, " (pid ", pid, ") ", how, " after ",
                   absl::FormatDuration(absl::Trunc(ran, absl::Milliseconds(1)))));
  auto fail_waiters = [&](const std::string& line) {
    for (int fd : c.restart_waiters) {
      Reply(fd, line);
      ::close(fd);
    }
    c.restart_waiters.clear();
  };

  if (c.stop == StopReason::kDown) {
    c.record.state = "stopped";
    if (c.killed) {
      Progress(absl::StrCat("killed ", c.record.name, " (pid ", pid, ", restarts ",
                            c.record.restarts, ") after the grace period; see ", c.record.log));
    } else {
      Progress(absl::StrCat("stopped ", c.record.name, " (pid ", pid, ", restarts ",
                            c.record.restarts, ")"));
    }
    Record();
    return;
  }
  if (!ready_) {  // start-up: StartGroup reports it
    c.record.state = "exited";
    c.failure = how;
    Record();
    return;
  }
  if (c.stop == StopReason::kRestart) {  // asked for: start again at once
    ++c.record.restarts;
    if (absl::Status s = SpawnChild(c); !s.ok()) {
      Log(absl::StrCat("cannot restart ", c.record.name, ": ", s.message()));
      c.record.state = "backoff";
      c.restart_at = absl::Now() + c.backoff.Next(absl::ZeroDuration());
      Record();
      fail_waiters(ErrorLine(s));
    }
    return;
  }
  const bool serving_before = c.record.state == "running";
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
    c.record.state = "exited";
    Log(absl::StrCat(c.record.name, " exited with status 0 (it was told to stop): not "
                     "restarted; `rlctl restart ", c.record.name, "` starts it again"));
    Record();
    fail_waiters(ErrorLine(absl::AbortedError(
        absl::StrCat(c.record.name, " exited with status 0 before serving; see ", c.record.log))));
    return;
  }
  const absl::Duration delay = c.backoff.Next(ran);
  c.record.state = "backoff";
  c.restart_at = absl::Now() + delay;
  Log(absl::StrCat("restarting ", c.record.name, " in ", absl::FormatDuration(delay)));
  Record();
  if (!serving_before) {
    const std::string last = LastLogLine(c.record.log);
    fail_waiters(ErrorLine(absl::UnavailableError(absl::StrCat(
        c.record.name, " ", c.serve_timed_out ? "did not serve in time" : how,
        " before serving; see ", c.record.log, last.empty() ? "" : ": " + last,
        " (restarting in ", absl::FormatDuration(delay), ")"))));
  }
}

void Supervisor::ReapChildren() {
  while (true) {
    int wstatus = 0;
    const pid_t pid = ::waitpid(-1, &wstatus, WNOHANG);
    if (pid <= 0) return;
    for (auto& c : children_) {
      if (c->record.pid == pid) {
        OnExit(*c, wstatus);
        break;
      }
    }
  }
}

void Supervisor::DrainSignals() {
  signalfd_siginfo info;
  while (::read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
    if (info.ssi_signo == SIGCHLD) {
      ReapChildren();
    } else if (!down_requested_) {  // SIGTERM / SIGINT
      Log(absl::StrCat("signal ", info.ssi_signo, ": stopping the topology"));
      down_requested_ = true;
      down_grace_ = stop_grace_;
    }
  }
  ReapChildren();  // SIGCHLDs coalesce: reap whatever has exited
}

void Supervisor::AcceptConnections() {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    uid_t uid = 0;
    if (!PeerCredentials(fd, nullptr, &uid).ok() || (uid != ::geteuid() && uid != 0)) {
      ::close(fd);
      continue;
    }
    connections_.push_back({fd, "", absl::Now() + kRequestTimeout});
  }
}

void Supervisor::ReadConnections(const std::vector<pollfd>& ready) {
  for (const pollfd& p : ready) {
    if (p.revents == 0) continue;
    auto it = std::find_if(connections_.begin(), connections_.end(),
                           [&](const Connection& c) { return c.fd == p.fd; });
    if (it == connections_.end()) continue;
    char chunk[512];
    const ssize_t n = ::read(it->fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0 || it->buffer.size() > 4096) {
      ::close(it->fd);
      connections_.erase(it);
      continue;
    }
    it->buffer.append(chunk, n);
    const size_t nl = it->buffer.find('\n');
    if (nl == std::string::npos) continue;
    const int fd = it->fd;
    const std::string line = it->buffer.substr(0, nl);
    connections_.erase(it);
    HandleRequest(fd, line);  // takes fd over
  }
}

void Supervisor::HandleRequest(int fd, const std::string& line) {
  std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
  int64_t grace_ms = 0;
  if (words.size() == 1 && words[0] == "ping") {
    Reply(fd, "ok");
    ::close(fd);
  } else if (words.size() == 2 && words[0] == "down" && absl::SimpleAtoi(words[1], &grace_ms)) {
    if (!down_requested_) {
      Log(absl::StrCat("`rlctl down`: stopping the topology (grace ", grace_ms, " ms)"));
      down_requested_ = true;
      down_grace_ = absl::Milliseconds(grace_ms);
    }
    down_clients_.push_back(fd);
  } else if (words.size() == 3 && words[0] == "restart" && absl::SimpleAtoi(words[2], &grace_ms)) {
    Child* c = Find(words[1]);
    absl::Status refused;
    if (c == nullptr) {
      refused = absl::NotFoundError(absl::StrCat("no process named '", words[1], "'"));
    } else if (down_requested_ || stopping_) {
      refused = absl::FailedPreconditionError("the topology is stopping");
    } else if (!ready_) {
      refused = absl::UnavailableError("the topology is still starting");
    }
    if (!refused.ok()) {
      Reply(fd, ErrorLine(refused));
      ::close(fd);
      return;
    }
    c->restart_waiters.push_back(fd);
    if (c->stop == StopReason::kRestart) return;  // a restart is under way: wait for it
    Log(absl::StrCat("`rlctl restart ", c->record.name, "` (", c->record.state, ")"));
    if (c->record.pid > 0) {
      Reply(fd, absl::StrCat("stopping ", c->record.name, " (pid ", c->record.pid, ")"));
      SendStop(*c, StopReason::kRestart, absl::Milliseconds(grace_ms));
      Record();
    } else {  // backoff or exited: start it now
      ++c->record.restarts;
      if (absl::Status s = SpawnChild(*c); !s.ok()) {
        for (int w : c->restart_waiters) {
          Reply(w, ErrorLine(s));
          ::close(w);
        }
        c->restart_waiters.clear();
      }
    }
  } else {
    Reply(fd, ErrorLine(absl::InvalidArgumentError(absl::StrCat("unknown request '", line, "'"))));
    ::close(fd);
  }
}

void Supervisor::HandleDeadlines() {
  const absl::Time now = absl::Now();
  for (auto& cp : children_) {
    Child& c = *cp;
    if (c.stop != StopReason::kNone && c.record.pid > 0 && now >= c.kill_at) {
      if (!c.killed) {
        Log(absl::StrCat(c.record.name, " (pid ", c.record.pid,
                         ") did not stop within the grace period: SIGKILL"));
        ::kill(c.record.pid, SIGKILL);
        c.killed = true;
        c.kill_at = now + kKillWait;
      } else {
        Progress(absl::StrCat("could not stop ", c.record.name, " (pid ", c.record.pid,
                              "); see ", c.record.log));
        c.record.pid = -1;
        c.record.state = "stopped";
        Record();
      }
      continue;
    }
    if (!ready_ || stopping_ || down_requested_) continue;
    if (c.record.state == "starting" && c.record.pid > 0 && c.stop == StopReason::kNone &&
        now >= c.serve_deadline) {
      Log(absl::StrCat(c.record.name, " (pid ", c.record.pid, ") did not ", ServingSign(c),
                       " within ", absl::FormatDuration(o_.start_timeout), ": SIGKILL"));
      c.serve_timed_out = true;
      ::kill(c.record.pid, SIGKILL);  // its exit is a crash: restarted with backoff
      c.serve_deadline = absl::InfiniteFuture();
    } else if (c.record.state == "backoff" && now >= c.restart_at) {
      ++c.record.restarts;
      if (absl::Status s = SpawnChild(c); !s.ok()) {
        Log(absl::StrCat("cannot restart ", c.record.name, ": ", s.message()));
        c.restart_at = now + c.backoff.Next(absl::ZeroDuration());
      }
    }
  }
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (now >= it->deadline) {
      ::close(it->fd);
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

absl::Time Supervisor::NextDeadline() const {
  absl::Time next = absl::InfiniteFuture();
  for (const auto& c : children_) {
    if (c->stop != StopReason::kNone && c->record.pid > 0) next = std::min(next, c->kill_at);
    if (!ready_ || stopping_ || down_requested_) continue;
    if (c->record.state == "starting" && c->record.pid > 0) next = std::min(next, c->serve_deadline);
    if (c->record.state == "backoff") next = std::min(next, c->restart_at);
  }
  for (const Connection& c : connections_) next = std::min(next, c.deadline);
  return next;
}

void Supervisor::Poll(absl::Time deadline) {
  absl::Time until = std::min(deadline, NextDeadline());
  // A port file should wake us through inotify; look anyway now and then.
  if (AnyStartingWithoutPortFile(children_)) {
    until = std::min(until, absl::Now() + absl::Milliseconds(200));
  } else if (AnyStarting()) {
    until = std::min(until, absl::Now() + (inotify_fd_ >= 0 ? absl::Seconds(1)
                                                            : absl::Milliseconds(50)));
  }
  std::vector<pollfd> fds = {{signal_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
  if (inotify_fd_ >= 0) fds.push_back({inotify_fd_, POLLIN, 0});
  const size_t first_connection = fds.size();
  for (const Connection& c : connections_) fds.push_back({c.fd, POLLIN, 0});
  int timeout_ms = -1;
  if (until != absl::InfiniteFuture()) {
    timeout_ms = static_cast<int>(std::max<int64_t>(
        0, absl::ToInt64Milliseconds(absl::Ceil(until - absl::Now(), absl::Milliseconds(1)))));
  }
  if (::poll(fds.data(), fds.size(), timeout_ms) > 0) {
    if (fds[0].revents != 0) DrainSignals();
    if (fds[1].revents != 0) AcceptConnections();
    if (inotify_fd_ >= 0 && fds[2].revents != 0) {
      char events[4096];
      while (::read(inotify_fd_, events, sizeof(events)) > 0) {
      }
    }
    ReadConnections(std::vector<pollfd>(fds.begin() + first_connection, fds.end()));
  }
  for (auto& c : children_) CheckServing(*c);
  HandleDeadlines();
}

absl::Status Supervisor::StartGroup(const std::vector<Child*>& group) {
  for (Child* c : group) RETURN_IF_ERROR(SpawnChild(*c));
  const absl::Time deadline = absl::Now() + o_.start_timeout;
  while (true) {
    // Any process started so far (this group or an earlier one) that ended
    // fails the start.
    for (const auto& c : children_) {
      if (c->ever_started && c->record.state == "exited") {
        const std::string last = LastLogLine(c->record.log);
        const bool in_group = std::find(group.begin(), group.end(), c.get()) != group.end();
        return absl::FailedPreconditionError(absl::StrCat(
            c->record.name, " ", c->failure,
            in_group ? " before serving" : " while the others were starting", "; see ",
            c->record.log, last.empty() ? "" : absl::StrCat(": ", last)));
      }
    }
    bool waiting = false;
    for (Child* c : group) {
      CheckServing(*c);
      waiting = waiting || c->record.state == "starting";
    }
    if (!waiting) return absl::OkStatus();
    if (down_requested_) return absl::CancelledError("stopped by `rlctl down` while starting");
    if (absl::Now() > deadline) {
      for (Child* c : group) {
        if (c->record.state != "starting") continue;
        return absl::DeadlineExceededError(
            absl::StrCat(c->record.name, " did not ", ServingSign(*c), " within ",
                         absl::FormatDuration(o_.start_timeout), "; see ", c->record.log));
      }
    }
    Poll(deadline);
  }
}

absl::Status Supervisor::StartAll() {
  RETURN_IF_ERROR(StartGroup({Find("replay"), Find("preference")}));
  Find("learner")->flags.push_back("--replay=" + replay_address_);
  Find("learner")->flags.push_back("--preference=" + preference_address_);
  RETURN_IF_ERROR(StartGroup({Find("learner")}));
  std::vector<Child*> edge;
  for (auto& c : children_) {
    if (c->group != 0) continue;
    c->flags.push_back("--learner=" + learner_address_);
    if (c->record.name != "evaluator") c->flags.push_back("--replay=" + replay_address_);
    edge.push_back(c.get());
  }
  RETURN_IF_ERROR(StartGroup(edge));
  if (Child* prometheus = Find(kPrometheusProcess); prometheus != nullptr) {
    RETURN_IF_ERROR(PrepareMonitor(*prometheus));
    RETURN_IF_ERROR(StartGroup({prometheus}));
  }
  return absl::OkStatus();
}

// Prometheus's port, its scrape config (every process's metrics port, which
// restarts keep) and a copy of the alert rules, in <state_dir>/monitor.
absl::Status Supervisor::PrepareMonitor(Child& prometheus) {
  RETURN_IF_ERROR(MakeDirs(PrometheusDataDir(o_.state_dir)));
  ASSIGN_OR_RETURN(const std::string rules, ReadFileToString(o_.alert_rules));
  RETURN_IF_ERROR(WriteStringAtomically(MonitorRulesPath(o_.state_dir), rules));
  ASSIGN_OR_RETURN(const int port, PickFreePort(kHost));
  std::vector<ScrapeTarget> targets = {{kPrometheusProcess, port}};
  for (const auto& c : children_) {
    if (c.get() == &prometheus || c->record.metrics_port <= 0) continue;
    targets.push_back({c->record.name, c->record.metrics_port});
  }
  const std::string config = PrometheusConfig(
      targets, o_.scrape_interval, "alerts.yml",
      absl::StrCat("Written by `rlctl up --monitor` (rlctl supervise) for the topology in\n",
                   o_.state_dir, "; alerts.yml is a copy of ", o_.alert_rules, "."));
  RETURN_IF_ERROR(WriteStringAtomically(PrometheusConfigPath(o_.state_dir), config));
  prometheus.record.port = port;
  prometheus.record.metrics_port = port;  // it serves its own /metrics there
  prometheus.flags = {"--config.file=" + PrometheusConfigPath(o_.state_dir),
                      "--storage.tsdb.path=" + PrometheusDataDir(o_.state_dir),
                      absl::StrCat("--web.listen-address=", kHost, ":", port)};
  monitor_url_ = absl::StrCat("http://", kHost, ":", port);
  Log(absl::StrCat("monitor: Prometheus on ", monitor_url_, ", config ",
                   PrometheusConfigPath(o_.state_dir), ", ", targets.size(), " targets"));
  return absl::OkStatus();
}

void Supervisor::StopAll(absl::Duration grace) {
  stopping_ = true;
  for (int group : {-1, 0, 1, 2}) {
    std::vector<Child*> members;
    for (auto& c : children_) {
      if (c->group != group || !c->ever_started) continue;
      for (int fd : c->restart_waiters) {
        Reply(fd, ErrorLine(absl::FailedPreconditionError("the topology is stopping")));
        ::close(fd);
      }
      c->restart_waiters.clear();
      if (c->record.pid > 0) {
        SendStop(*c, StopReason::kDown, grace);
        members.push_back(c.get());
      } else if (c->record.state != "stopped") {
        Progress(absl::StrCat(c->record.name, " was not running (", c->record.state,
                              ", restarts ", c->record.restarts, ")"));
        c->record.state = "stopped";
      }
    }
    Record();
    while (std::any_of(members.begin(), members.end(),
                       [](const Child* c) { return c->record.pid > 0; })) {
      Poll(absl::InfiniteFuture());  // wakes on SIGCHLD and at each kill_at
    }
  }
}

void Supervisor::Finish() {
  std::remove(TopologyPath(o_.state_dir).c_str());
  for (const auto& c : children_) {
    if (!c->port_file.empty()) std::remove(c->port_file.c_str());
  }
  ::unlink(socket_path_.c_str());
  finished_ = true;
}

int Supervisor::Run() {
  auto report_ready = [&](const std::string& line) {
    if (ready_fd_ < 0) return;
    (void)WriteAll(ready_fd_, line + "\n");
    ::close(ready_fd_);
    ready_fd_ = -1;
  };
  if (absl::Status s = Setup(); !s.ok()) {
    Log(absl::StrCat("cannot start: ", s.message()));
    report_ready(ErrorLine(s));
    return 1;
  }
  Log(absl::StrCat("supervisor pid ", ::getpid(), " for ", o_.state_dir, " (", o_.actors,
                   " actors; restart backoff ", absl::FormatDuration(o_.restart_backoff), " to ",
                   absl::FormatDuration(o_.max_restart_backoff), ", reset after ",
                   absl::FormatDuration(o_.stable_run), ")"));
  AddChildren();
  Record();
  if (absl::Status s = StartAll(); !s.ok()) {
    Log(absl::StrCat("start failed: ", s.message()));
    StopAll(down_requested_ ? down_grace_ : kFailedStartGrace);
    Finish();
    report_ready(ErrorLine(s));
    for (int fd : down_clients_) Reply(fd, "ok");
    return down_requested_ ? 0 : 1;
  }
  ready_ = true;
  Log(absl::StrCat("every process serves; learner ", learner_address_));
  report_ready("ok");
  while (!down_requested_) Poll(absl::InfiniteFuture());
  StopAll(down_grace_);
  Finish();
  Log("stopped; exiting");
  for (int fd : down_clients_) Reply(fd, "ok");
  return 0;
}

}  // namespace

int RunSupervisor(const SuperviseOptions& options) {
  Supervisor supervisor(options);
  return supervisor.Run();
}

}  // namespace rlx::cli
