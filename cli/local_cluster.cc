#include "cli/local_cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/file_util.h"
#include "core/status_macros.h"

namespace rlx::cli {
namespace {

constexpr char kHost[] = "127.0.0.1";

std::string SelfDir() {
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return ".";
  const std::string path(exe, n);
  return path.substr(0, path.rfind('/'));
}

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

// The last non-empty line of a log, for error messages.
std::string LastLogLine(const std::string& log) {
  absl::StatusOr<std::string> contents = ReadFileToString(log);
  if (!contents.ok()) return "";
  std::vector<absl::string_view> lines = absl::StrSplit(*contents, '\n', absl::SkipWhitespace());
  if (lines.empty()) return "";
  std::string last(lines.back());
  if (last.size() > 300) last = last.substr(0, 300) + "...";
  return last;
}

// fork + setsid + exec with output to log; the child starts with an empty
// signal mask (rlctl may block SIGINT/SIGTERM).
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log) {
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open log ", log, ": ", std::strerror(errno)));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    if (null_fd >= 0) ::close(null_fd);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    ::setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(args[0], args.data());
    const std::string msg = absl::StrCat("exec ", argv[0], " failed: ", std::strerror(errno), "\n");
    (void)!::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  ::close(fd);
  if (null_fd >= 0) ::close(null_fd);
  return pid;
}

// Whether pid still runs `binary`: its argv[0], or argv[1] under an
// interpreter (a script).
bool RunsBinary(pid_t pid, const std::string& binary) {
  absl::StatusOr<std::string> cmdline = ReadFileToString(absl::StrCat("/proc/", pid, "/cmdline"));
  if (!cmdline.ok()) return false;
  std::vector<absl::string_view> argv = absl::StrSplit(*cmdline, '\0');
  return (argv.size() > 0 && argv[0] == binary) || (argv.size() > 1 && argv[1] == binary);
}

struct Started {
  ProcessRecord record;
  std::string port_file;
};

// Waits until every process has written its port file.
absl::Status AwaitPortFiles(std::vector<Started*> procs, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!procs.empty()) {
    for (auto it = procs.begin(); it != procs.end();) {
      Started& p = **it;
      absl::StatusOr<std::string> contents = ReadFileToString(p.port_file);
      std::vector<std::string> lines;
      if (contents.ok()) lines = absl::StrSplit(*contents, '\n', absl::SkipEmpty());
      if (lines.size() >= 1 && absl::SimpleAtoi(lines[0], &p.record.port)) {
        if (lines.size() >= 2) (void)absl::SimpleAtoi(lines[1], &p.record.metrics_port);
        it = procs.erase(it);
        continue;
      }
      int wstatus = 0;
      if (::waitpid(p.record.pid, &wstatus, WNOHANG) == p.record.pid) {
        const std::string how = WIFEXITED(wstatus)
                                    ? absl::StrCat("exited with status ", WEXITSTATUS(wstatus))
                                    : absl::StrCat("was killed by signal ", WTERMSIG(wstatus));
        const std::string last = LastLogLine(p.record.log);
        return absl::FailedPreconditionError(
            absl::StrCat(p.record.name, " ", how, " before serving; see ", p.record.log,
                         last.empty() ? "" : absl::StrCat(": ", last)));
      }
      ++it;
    }
    if (procs.empty()) break;
    if (absl::Now() > deadline) {
      const Started& p = *procs.front();
      return absl::DeadlineExceededError(
          absl::StrCat(p.record.name, " did not write ", p.port_file, " within ",
                       absl::FormatDuration(timeout), "; see ", p.record.log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::OkStatus();
}

void StopGroup(const std::vector<ProcessRecord>& group, absl::Duration grace,
               std::ostream* progress) {
  std::vector<const ProcessRecord*> live;
  for (const ProcessRecord& p : group) {
    if (p.pid <= 0 || !ProcessAlive(p.pid)) continue;
    if (!RunsBinary(p.pid, p.binary)) continue;  // reused pid: not ours
    ::kill(p.pid, SIGTERM);
    live.push_back(&p);
  }
  const absl::Time deadline = absl::Now() + grace;
  while (!live.empty()) {
    for (auto it = live.begin(); it != live.end();) {
      if (!ProcessAlive((*it)->pid)) {
        if (progress) *progress << "stopped " << (*it)->name << " (pid " << (*it)->pid << ")\n";
        it = live.erase(it);
      } else {
        ++it;
      }
    }
    if (live.empty()) break;
    if (absl::Now() > deadline) {
      for (const ProcessRecord* p : live) {
        ::kill(p->pid, SIGKILL);
        for (int i = 0; i < 100 && ProcessAlive(p->pid); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (progress) {
          *progress << "killed " << p->name << " (pid " << p->pid << ") after "
                    << absl::FormatDuration(grace) << "; see " << p->log << "\n";
        }
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void StopAll(const Topology& topology, absl::Duration grace, std::ostream* progress) {
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
  StopGroup(edge, grace, progress);
  StopGroup(learner, grace, progress);
  StopGroup(replay, grace, progress);
}

}  // namespace

std::string TopologyPath(const std::string& state_dir) {
  return absl::StrCat(state_dir, "/topology.txt");
}

absl::Status WriteTopology(const std::string& path, const Topology& t) {
  std::string s = "# Written by `rlctl up`; `rlctl down` stops these processes.\n";
  absl::StrAppend(&s, "learner_address=", t.learner_address, "\n");
  absl::StrAppend(&s, "replay_address=", t.replay_address, "\n");
  absl::StrAppend(&s, "out_dir=", t.out_dir, "\n");
  absl::StrAppend(&s, "checkpoint_dir=", t.checkpoint_dir, "\n");
  for (const ProcessRecord& p : t.processes) {
    // process=NAME PID PORT METRICS_PORT BINARY LOG
    absl::StrAppend(&s, "process=", p.name, " ", p.pid, " ", p.port, " ", p.metrics_port, " ",
                    p.binary, " ", p.log, "\n");
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
    if (kv.first == "learner_address") {
      t.learner_address = kv.second;
    } else if (kv.first == "replay_address") {
      t.replay_address = kv.second;
    } else if (kv.first == "out_dir") {
      t.out_dir = kv.second;
    } else if (kv.first == "checkpoint_dir") {
      t.checkpoint_dir = kv.second;
    } else if (kv.first == "process") {
      std::vector<std::string> f = absl::StrSplit(kv.second, ' ');
      ProcessRecord p;
      int pid = 0;
      if (f.size() != 6 || !absl::SimpleAtoi(f[1], &pid) || !absl::SimpleAtoi(f[2], &p.port) ||
          !absl::SimpleAtoi(f[3], &p.metrics_port)) {
        return absl::DataLossError(absl::StrCat(path, ": bad line '", line, "'"));
      }
      p.name = f[0];
      p.pid = pid;
      p.binary = f[4];
      p.log = f[5];
      t.processes.push_back(p);
    }
  }
  return t;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return false;  // our child, now reaped
  if (r == 0) return true;     // our child, running
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

absl::StatusOr<Topology> StartLocalCluster(const UpOptions& options) {
  if (options.actors < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--actors must be >= 0, got ", options.actors));
  }
  const std::string state_dir = Absolute(options.state_dir);
  const std::string bin_dir = Absolute(options.bin_dir.empty() ? SelfDir() : options.bin_dir);
  Topology t;
  t.checkpoint_dir = Absolute(options.checkpoint_dir.empty() ? state_dir + "/checkpoints"
                                                              : options.checkpoint_dir);
  t.out_dir = Absolute(options.out_dir.empty() ? state_dir + "/out" : options.out_dir);
  const std::string path = TopologyPath(state_dir);
  if (absl::StatusOr<Topology> old = ReadTopology(path); old.ok()) {
    for (const ProcessRecord& p : old->processes) {
      if (ProcessAlive(p.pid) && RunsBinary(p.pid, p.binary)) {
        return absl::AlreadyExistsError(
            absl::StrCat("a topology is already running in ", options.state_dir, " (learner ",
                         old->learner_address, "); run `rlctl down` first"));
      }
    }
  }
  for (const std::string& dir : {state_dir + "/logs", state_dir + "/run", t.checkpoint_dir,
                                 t.out_dir}) {
    RETURN_IF_ERROR(MakeDirs(dir));
  }
  for (const char* name : {"replay_server", "learner", "actor", "evaluator"}) {
    if (options.actors == 0 && std::string(name) == "actor") continue;
    const std::string bin = absl::StrCat(bin_dir, "/", name);
    if (::access(bin.c_str(), X_OK) != 0) {
      return absl::NotFoundError(absl::StrCat("no ", name, " binary at ", bin,
                                              " (build it, or pass --bin_dir)"));
    }
  }
  const std::string metrics_port = options.metrics ? "-1" : "0";

  std::vector<std::unique_ptr<Started>> started;
  auto start = [&](const std::string& name, const std::string& binary,
                   std::vector<std::string> args) -> absl::StatusOr<Started*> {
    auto s = std::make_unique<Started>();
    s->record.name = name;
    s->record.binary = absl::StrCat(bin_dir, "/", binary);
    s->record.log = absl::StrCat(state_dir, "/logs/", name, ".log");
    s->port_file = absl::StrCat(state_dir, "/run/", name, ".port");
    std::remove(s->port_file.c_str());
    args.insert(args.begin(), s->record.binary);
    args.push_back("--metrics_port=" + metrics_port);
    args.push_back("--port_file=" + s->port_file);
    ASSIGN_OR_RETURN(s->record.pid, Spawn(args, s->record.log));
    started.push_back(std::move(s));
    return started.back().get();
  };
  auto snapshot = [&] {
    t.processes.clear();
    for (const auto& s : started) t.processes.push_back(s->record);
  };
  auto fail = [&](const absl::Status& status) {
    snapshot();
    StopAll(t, absl::Seconds(5), nullptr);
    std::remove(path.c_str());
    return status;
  };
  // Records what runs so far, so that `down` can clean up even if rlctl dies.
  auto record = [&]() -> absl::Status {
    snapshot();
    return WriteTopology(path, t);
  };

  absl::StatusOr<Started*> replay =
      start("replay", "replay_server",
            {absl::StrCat("--host=", kHost), "--port=0",
             "--checkpoint_dir=" + t.checkpoint_dir + "/replay"});
  if (!replay.ok()) return fail(replay.status());
  if (absl::Status s = record(); !s.ok()) return fail(s);
  if (absl::Status s = AwaitPortFiles({*replay}, options.start_timeout); !s.ok()) return fail(s);
  t.replay_address = absl::StrCat(kHost, ":", (*replay)->record.port);

  absl::StatusOr<Started*> learner =
      start("learner", "learner",
            {absl::StrCat("--host=", kHost), "--port=0", "--replay=" + t.replay_address,
             "--checkpoint_dir=" + t.checkpoint_dir});
  if (!learner.ok()) return fail(learner.status());
  if (absl::Status s = record(); !s.ok()) return fail(s);
  if (absl::Status s = AwaitPortFiles({*learner}, options.start_timeout); !s.ok()) return fail(s);
  t.learner_address = absl::StrCat(kHost, ":", (*learner)->record.port);

  std::vector<Started*> edge;
  for (int i = 0; i < options.actors; ++i) {
    const std::string name = absl::StrCat("actor-", i);
    absl::StatusOr<Started*> a = start(name, "actor",
                                       {"--learner=" + t.learner_address,
                                        "--replay=" + t.replay_address, "--name=" + name,
                                        // One machine: the learner is the bottleneck, so
                                        // actors yield the cores they share with it.
                                        "--nice=5"});
    if (!a.ok()) return fail(a.status());
    edge.push_back(*a);
  }
  absl::StatusOr<Started*> evaluator =
      start("evaluator", "evaluator",
            {"--learner=" + t.learner_address, "--out_dir=" + t.out_dir, "--name=evaluator"});
  if (!evaluator.ok()) return fail(evaluator.status());
  edge.push_back(*evaluator);
  if (absl::Status s = record(); !s.ok()) return fail(s);
  if (absl::Status s = AwaitPortFiles(edge, options.start_timeout); !s.ok()) return fail(s);
  if (absl::Status s = record(); !s.ok()) return fail(s);
  return t;
}

absl::Status StopLocalCluster(const std::string& state_dir, absl::Duration grace,
                              std::ostream* progress) {
  const std::string path = TopologyPath(state_dir);
  ASSIGN_OR_RETURN(Topology t, ReadTopology(path));
  StopAll(t, grace, progress);
  std::remove(path.c_str());
  for (const ProcessRecord& p : t.processes) {
    std::remove(absl::StrCat(state_dir, "/run/", p.name, ".port").c_str());
  }
  return absl::OkStatus();
}

}  // namespace rlx::cli
