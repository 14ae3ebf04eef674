#include "cli/local_cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/monitor.h"
#include "core/file_util.h"
#include "core/status_macros.h"

namespace rlx::cli {
namespace {

// Closes an fd at scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

// Sends one request to the topology's supervisor and relays its answer:
// progress lines go to progress, "ok ..." ends with OK, "error CODE reason"
// with that status. UNAVAILABLE when the supervisor cannot be reached or
// goes away before answering.
absl::Status AskSupervisor(const Topology& t, const std::string& request, absl::Time deadline,
                           std::ostream* progress, std::string* ok_line = nullptr) {
  if (t.supervisor_pid <= 0 || t.control_socket.empty()) {
    return absl::UnavailableError("no supervisor recorded");
  }
  ASSIGN_OR_RETURN(const int fd, ConnectUnixSocket(t.control_socket));
  FdCloser closer(fd);
  pid_t peer = -1;
  RETURN_IF_ERROR(PeerCredentials(fd, &peer, nullptr));
  if (peer != t.supervisor_pid) {
    return absl::UnavailableError(absl::StrCat("the control socket ", t.control_socket,
                                               " belongs to pid ", peer, ", not the supervisor ",
                                               t.supervisor_pid));
  }
  RETURN_IF_ERROR(WriteAll(fd, request + "\n"));
  std::string buffer;
  while (true) {
    absl::StatusOr<std::string> line = ReadLine(fd, &buffer, deadline);
    if (absl::IsNotFound(line.status())) {
      return absl::UnavailableError(
          absl::StrCat("the supervisor (pid ", t.supervisor_pid, ") went away without answering"));
    }
    if (!line.ok()) {
      return absl::Status(line.status().code(),
                          absl::StrCat("waiting for the supervisor (pid ", t.supervisor_pid,
                                       "): ", line.status().message()));
    }
    if (absl::StartsWith(*line, "ok")) {
      if (ok_line != nullptr) *ok_line = std::string(absl::StripPrefix(*line, "ok "));
      return absl::OkStatus();
    }
    if (absl::StartsWith(*line, "error ")) {
      // "error CODE reason"
      std::pair<std::string, std::string> rest =
          absl::StrSplit(absl::StripPrefix(*line, "error "), absl::MaxSplits(' ', 1));
      int code = 0;
      if (!absl::SimpleAtoi(rest.first, &code) || code <= 0 || code > 16) {
        return absl::InternalError(*line);
      }
      return absl::Status(static_cast<absl::StatusCode>(code), rest.second);
    }
    if (progress != nullptr) *progress << *line << "\n";
  }
}

// Stops processes directly (no supervisor): SIGTERM a group, wait up to
// grace, SIGKILL what is left.
void StopGroupDirectly(const std::vector<ProcessRecord>& group, absl::Duration grace,
                       std::ostream* progress) {
  std::vector<const ProcessRecord*> live;
  std::vector<pid_t> pids;
  for (const ProcessRecord& p : group) {
    if (p.pid <= 0 || !ProcessAlive(p.pid)) continue;
    if (!RunsBinary(p.pid, p.binary)) continue;  // reused pid: not ours
    ::kill(p.pid, SIGTERM);
    live.push_back(&p);
    pids.push_back(p.pid);
  }
  const std::vector<pid_t> left = WaitForExits(pids, absl::Now() + grace);
  for (pid_t pid : left) ::kill(pid, SIGKILL);
  const std::vector<pid_t> unkillable = WaitForExits(left, absl::Now() + absl::Seconds(5));
  for (const ProcessRecord* p : live) {
    if (progress == nullptr) continue;
    const bool killed = std::find(left.begin(), left.end(), p->pid) != left.end();
    const bool stuck = std::find(unkillable.begin(), unkillable.end(), p->pid) != unkillable.end();
    if (stuck) {
      *progress << "could not stop " << p->name << " (pid " << p->pid << "); see " << p->log
                << "\n";
    } else if (killed) {
      *progress << "killed " << p->name << " (pid " << p->pid << ", restarts " << p->restarts
                << ") after " << absl::FormatDuration(grace) << "; see " << p->log << "\n";
    } else {
      *progress << "stopped " << p->name << " (pid " << p->pid << ", restarts " << p->restarts
                << ")\n";
    }
  }
}

void StopDirectly(const Topology& topology, absl::Duration grace, std::ostream* progress) {
  std::vector<ProcessRecord> edge, learner, replay;
  for (const ProcessRecord& p : topology.processes) {
    if (p.name == "learner") {
      learner.push_back(p);
    } else if (p.name == "replay") {
      replay.push_back(p);
    } else {
      edge.push_back(p);
    }
  }
  StopGroupDirectly(edge, grace, progress);
  StopGroupDirectly(learner, grace, progress);
  StopGroupDirectly(replay, grace, progress);
}

void RemoveStateFiles(const std::string& state_dir, const Topology& t) {
  std::remove(TopologyPath(state_dir).c_str());
  for (const ProcessRecord& p : t.processes) {
    std::remove(absl::StrCat(RunDir(state_dir), "/", p.name, ".port").c_str());
  }
}

// Reads the supervisor's start-up report from the ready pipe: "ok" or
// "error CODE reason". Empty when it exits without one.
std::string ReadReadyReport(int fd, absl::Time deadline) {
  std::string buffer;
  absl::StatusOr<std::string> line = ReadLine(fd, &buffer, deadline);
  return line.ok() ? *line : std::string();
}

}  // namespace

UpOptions ResolveUpOptions(const UpOptions& options) {
  UpOptions o = options;
  o.state_dir = AbsolutePath(options.state_dir);
  std::string self = SelfExecutable();
  o.bin_dir = AbsolutePath(options.bin_dir.empty() ? self.substr(0, self.rfind('/'))
                                                   : options.bin_dir);
  o.checkpoint_dir = AbsolutePath(options.checkpoint_dir.empty() ? o.state_dir + "/checkpoints"
                                                                 : options.checkpoint_dir);
  o.out_dir = AbsolutePath(options.out_dir.empty() ? o.state_dir + "/out" : options.out_dir);
  o.rlctl_binary = AbsolutePath(options.rlctl_binary.empty() ? self : options.rlctl_binary);
  if (o.monitor) {
    o.prometheus_binary = AbsolutePath(options.prometheus_binary.empty()
                                           ? DefaultPrometheusBinary()
                                           : options.prometheus_binary);
    // Left as given when not found: CheckUpOptions reports it.
    if (absl::StatusOr<std::string> rules = FindAlertRules(
            options.alert_rules.empty() ? "" : AbsolutePath(options.alert_rules), o.rlctl_binary);
        rules.ok()) {
      o.alert_rules = *rules;
    }
  }
  return o;
}

absl::Status CheckUpOptions(const UpOptions& o, const std::string& state_dir_as_given) {
  if (o.actors < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--actors must be >= 0, got ", o.actors));
  }
  if (absl::StatusOr<Topology> old = ReadTopology(TopologyPath(o.state_dir)); old.ok()) {
    bool running = SupervisorAlive(*old);
    for (const ProcessRecord& p : old->processes) {
      running = running || (ProcessAlive(p.pid) && RunsBinary(p.pid, p.binary));
    }
    if (running) {
      return absl::AlreadyExistsError(
          absl::StrCat("a topology is already running in ", state_dir_as_given, " (learner ",
                       old->learner_address.empty() ? "starting" : old->learner_address,
                       "); run `rlctl down` first"));
    }
  }
  if (o.monitor) {
    if (!o.metrics) {
      return absl::InvalidArgumentError(
          "--monitor scrapes every process's /metrics: it needs --metrics (the default), not "
          "--metrics=false");
    }
    RETURN_IF_ERROR(CheckPrometheusBinary(o.prometheus_binary));
    if (absl::StatusOr<std::string> rules = FindAlertRules(o.alert_rules, o.rlctl_binary);
        !rules.ok()) {
      return rules.status();
    }
  }
  for (const char* name :
       {"replay_server", "preference_server", "learner", "actor", "evaluator"}) {
    if (o.actors == 0 && std::string(name) == "actor") continue;
    const std::string bin = absl::StrCat(o.bin_dir, "/", name);
    if (::access(bin.c_str(), X_OK) != 0) {
      return absl::NotFoundError(absl::StrCat("no ", name, " binary at ", bin,
                                              " (build it, or pass --bin_dir)"));
    }
  }
  return absl::OkStatus();
}

std::string TopologyPath(const std::string& state_dir) {
  return absl::StrCat(state_dir, "/topology.txt");
}
std::string LogDir(const std::string& state_dir) { return absl::StrCat(state_dir, "/logs"); }
std::string RunDir(const std::string& state_dir) { return absl::StrCat(state_dir, "/run"); }
std::string ControlSocketPath(const std::string& state_dir) {
  return absl::StrCat(RunDir(state_dir), "/supervisor.sock");
}

absl::Status WriteTopology(const std::string& path, const Topology& t) {
  std::string s =
      "# Written by the supervisor of `rlctl up` (rlctl supervise); `rlctl down` stops\n"
      "# these processes. process=NAME PID PORT METRICS_PORT BINARY LOG RESTARTS STATE "
      "LAST_EXIT\n";
  absl::StrAppend(&s, "supervisor=", t.supervisor_pid, "\n");
  absl::StrAppend(&s, "control_socket=", t.control_socket, "\n");
  absl::StrAppend(&s, "learner_address=", t.learner_address, "\n");
  absl::StrAppend(&s, "replay_address=", t.replay_address, "\n");
  absl::StrAppend(&s, "out_dir=", t.out_dir, "\n");
  absl::StrAppend(&s, "checkpoint_dir=", t.checkpoint_dir, "\n");
  if (!t.monitor_url.empty()) absl::StrAppend(&s, "monitor_url=", t.monitor_url, "\n");
  for (const ProcessRecord& p : t.processes) {
    absl::StrAppend(&s, "process=", p.name, " ", p.pid, " ", p.port, " ", p.metrics_port, " ",
                    p.binary, " ", p.log, " ", p.restarts, " ", p.state, " ", p.last_exit, "\n");
  }
  return WriteStringAtomically(path, s);
}

absl::StatusOr<Topology> ReadTopology(const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFileToString(path);
  if (!contents.ok()) return absl::NotFoundError(absl::StrCat("no topology file ", path));
  Topology t;
  for (absl::string_view line : absl::StrSplit(*contents, '\n', absl::SkipWhitespace())) {
    if (absl::StartsWith(line, "#")) continue;
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    if (kv.first == "supervisor") {
      int pid = 0;
      if (!absl::SimpleAtoi(kv.second, &pid)) {
        return absl::DataLossError(absl::StrCat(path, ": bad line '", line, "'"));
      }
      t.supervisor_pid = pid;
    } else if (kv.first == "control_socket") {
      t.control_socket = kv.second;
    } else if (kv.first == "learner_address") {
      t.learner_address = kv.second;
    } else if (kv.first == "replay_address") {
      t.replay_address = kv.second;
    } else if (kv.first == "out_dir") {
      t.out_dir = kv.second;
    } else if (kv.first == "checkpoint_dir") {
      t.checkpoint_dir = kv.second;
    } else if (kv.first == "monitor_url") {
      t.monitor_url = kv.second;
    } else if (kv.first == "process") {
      std::vector<std::string> f = absl::StrSplit(kv.second, ' ');
      ProcessRecord p;
      int pid = 0;
      const bool sized = f.size() == 6 || f.size() == 9;
      if (!sized || !absl::SimpleAtoi(f[1], &pid) || !absl::SimpleAtoi(f[2], &p.port) ||
          !absl::SimpleAtoi(f[3], &p.metrics_port) ||
          (f.size() == 9 && !absl::SimpleAtoi(f[6], &p.restarts))) {
        return absl::DataLossError(absl::StrCat(path, ": bad line '", line, "'"));
      }
      p.name = f[0];
      p.pid = pid;
      p.binary = f[4];
      p.log = f[5];
      if (f.size() == 9) {
        p.state = f[7];
        p.last_exit = f[8];
      }
      t.processes.push_back(p);
    }
  }
  return t;
}

std::string DescribeLastExit(const std::string& last_exit) {
  if (absl::StartsWith(last_exit, "exit:")) {
    return absl::StrCat("exited with status ", absl::StripPrefix(last_exit, "exit:"));
  }
  if (absl::StartsWith(last_exit, "signal:")) {
    return absl::StrCat("killed by signal ", absl::StripPrefix(last_exit, "signal:"));
  }
  if (absl::StartsWith(last_exit, "timeout")) return "did not serve in time";
  return "";
}

bool SupervisorAlive(const Topology& topology) {
  if (topology.supervisor_pid <= 0 || !ProcessAlive(topology.supervisor_pid)) return false;
  return AskSupervisor(topology, "ping", absl::Now() + absl::Seconds(5), nullptr).ok();
}

absl::StatusOr<Topology> StartLocalCluster(const UpOptions& options) {
  const UpOptions o = ResolveUpOptions(options);
  RETURN_IF_ERROR(CheckUpOptions(o, options.state_dir));
  if (::access(o.rlctl_binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("no rlctl binary at ", o.rlctl_binary,
                                            " to run the supervisor"));
  }
  for (const std::string& dir : {LogDir(o.state_dir), RunDir(o.state_dir)}) {
    RETURN_IF_ERROR(MakeDirs(dir));
  }
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  const int64_t start_timeout_s =
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(o.start_timeout, absl::Seconds(1))));
  const std::vector<std::string> argv = {
      o.rlctl_binary,
      "supervise",
      "--state_dir=" + o.state_dir,
      absl::StrCat("--actors=", o.actors),
      "--bin_dir=" + o.bin_dir,
      "--checkpoint_dir=" + o.checkpoint_dir,
      "--out_dir=" + o.out_dir,
      absl::StrCat("--metrics=", o.metrics ? "true" : "false"),
      absl::StrCat("--start_timeout_s=", start_timeout_s),
      absl::StrCat("--restart_backoff_ms=", absl::ToInt64Milliseconds(o.restart_backoff)),
      absl::StrCat("--max_restart_backoff_ms=", absl::ToInt64Milliseconds(o.max_restart_backoff)),
      absl::StrCat("--stable_run_s=", absl::ToInt64Seconds(o.stable_run)),
      absl::StrCat("--ready_fd=", ready[1]),
  };
  std::vector<std::string> full_argv = argv;
  if (o.monitor) {
    full_argv.push_back("--monitor=true");
    full_argv.push_back("--prometheus_binary=" + o.prometheus_binary);
    full_argv.push_back("--alert_rules=" + o.alert_rules);
    full_argv.push_back(absl::StrCat(
        "--scrape_interval_s=",
        std::max<int64_t>(1, absl::ToInt64Seconds(o.scrape_interval))));
  }
  SpawnOptions spawn;
  spawn.log = LogDir(o.state_dir) + "/supervisor.log";
  spawn.inherit_fd = ready[1];
  absl::StatusOr<pid_t> supervisor = Spawn(full_argv, spawn);
  ::close(ready[1]);
  if (!supervisor.ok()) {
    ::close(ready[0]);
    return supervisor.status();
  }
  // Three start phases (replay, learner, the rest; a fourth: Prometheus) plus
  // stopping on failure.
  const absl::Time deadline = absl::Now() + (o.monitor ? 4 : 3) * absl::Seconds(start_timeout_s) +
                              absl::Seconds(60);
  const std::string report = ReadReadyReport(ready[0], deadline);
  ::close(ready[0]);
  if (report == "ok") {
    absl::StatusOr<Topology> t = ReadTopology(TopologyPath(o.state_dir));
    if (!t.ok()) return absl::InternalError(absl::StrCat("the supervisor reported ready but ", t.status().message()));
    return t;
  }
  // Failed: the supervisor has stopped what it started and exits.
  std::vector<pid_t> left = WaitForExits({*supervisor}, absl::Now() + absl::Seconds(10));
  if (absl::StartsWith(report, "error ")) {
    std::pair<std::string, std::string> rest =
        absl::StrSplit(absl::StripPrefix(report, "error "), absl::MaxSplits(' ', 1));
    int code = 0;
    if (absl::SimpleAtoi(rest.first, &code) && code > 0 && code <= 16) {
      return absl::Status(static_cast<absl::StatusCode>(code), rest.second);
    }
  }
  // No report: it died (or hung). Clean up whatever it left.
  for (pid_t pid : left) ::kill(pid, SIGKILL);
  WaitForExits(left, absl::Now() + absl::Seconds(5));
  if (absl::StatusOr<Topology> t = ReadTopology(TopologyPath(o.state_dir)); t.ok()) {
    StopDirectly(*t, absl::Seconds(5), nullptr);
    RemoveStateFiles(o.state_dir, *t);
  }
  const std::string last = LastLogLine(spawn.log);
  return absl::InternalError(absl::StrCat(
      "the supervisor (pid ", *supervisor, ") ",
      left.empty() ? "exited" : "did not answer in time and was killed",
      " before the topology served; see ", spawn.log, last.empty() ? "" : ": " + last));
}

absl::Status StopLocalCluster(const std::string& state_dir, absl::Duration grace,
                              std::ostream* progress) {
  const std::string path = TopologyPath(state_dir);
  ASSIGN_OR_RETURN(Topology t, ReadTopology(path));
  if (t.supervisor_pid > 0 && ProcessAlive(t.supervisor_pid)) {
    // Up to four groups (Prometheus; actors and evaluator; learner; replay),
    // each SIGTERM + grace + SIGKILL.
    const absl::Time deadline = absl::Now() + 4 * (grace + absl::Seconds(5)) + absl::Seconds(10);
    const absl::Status asked = AskSupervisor(
        t, absl::StrCat("down ", absl::ToInt64Milliseconds(grace)), deadline, progress);
    if (asked.ok()) {
      // It removed the state files and exits now.
      const std::vector<pid_t> left = WaitForExits({t.supervisor_pid}, absl::Now() + absl::Seconds(10));
      if (left.empty()) return absl::OkStatus();
    } else if (progress != nullptr) {
      *progress << "the supervisor (pid " << t.supervisor_pid << ") did not stop the topology ("
                << asked.message() << "); stopping it directly\n";
    }
    // Still there and still ours (an rlctl whose argv[1] is "supervise"): kill it.
    if (ProcessAlive(t.supervisor_pid) && RunsBinary(t.supervisor_pid, "supervise")) {
      ::kill(t.supervisor_pid, SIGKILL);
      WaitForExits({t.supervisor_pid}, absl::Now() + absl::Seconds(5));
    }
    // Its state may have changed since we read it.
    if (absl::StatusOr<Topology> now = ReadTopology(path); now.ok()) t = *now;
  }
  StopDirectly(t, grace, progress);
  RemoveStateFiles(state_dir, t);
  return absl::OkStatus();
}

absl::Status RestartProcess(const std::string& state_dir, const std::string& name,
                            absl::Duration grace, absl::Duration timeout,
                            std::ostream* progress) {
  ASSIGN_OR_RETURN(const Topology t, ReadTopology(TopologyPath(state_dir)));
  bool known = false;
  for (const ProcessRecord& p : t.processes) known = known || p.name == name;
  if (!known) {
    std::string names;
    for (const ProcessRecord& p : t.processes) absl::StrAppend(&names, names.empty() ? "" : ", ", p.name);
    return absl::NotFoundError(absl::StrCat("no process named '", name, "' in the topology of ",
                                            state_dir, " (", names, ")"));
  }
  if (t.supervisor_pid <= 0 || !ProcessAlive(t.supervisor_pid)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no supervisor runs for the topology in ", state_dir,
        " (it was killed, or an older rlctl started it); run `rlctl down` and `rlctl up`"));
  }
  std::string ok_line;
  RETURN_IF_ERROR(AskSupervisor(t, absl::StrCat("restart ", name, " ", absl::ToInt64Milliseconds(grace)),
                                absl::Now() + timeout, progress, &ok_line));
  if (progress != nullptr && !ok_line.empty()) *progress << ok_line << "\n";
  return absl::OkStatus();
}

}  // namespace rlx::cli
