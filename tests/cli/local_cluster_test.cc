// `up` / `down` / `restart` with stand-in scripts for the four binaries and
// the real rlctl as the supervisor: the topology is recorded, a crashed
// process comes back on its port after a backoff, one that exits with status
// 0 stays down, every process ever started stops again, and a process that
// dies at start-up fails `up` with one line naming it and its log.
#include "cli/local_cluster.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/supervisor.h"
#include "core/file_util.h"
#include "tests/test_util.h"

namespace rlx::cli {
namespace {

// Serves until SIGTERM (then exits 0): writes its port file with the --port
// it was given, or a made-up port for --port=0. Exits 3 at once while a file
// crash_<binary> lies next to it; ignores SIGTERM while ignore_term_<binary>
// does.
constexpr char kServingScript[] = R"sh(#!/bin/sh
pf=; port=0
for a in "$@"; do case "$a" in --port_file=*) pf="${a#--port_file=}";; --port=*) port="${a#--port=}";; esac; done
if [ -e "$(dirname "$0")/crash_$(basename "$0")" ]; then echo "crashing on purpose"; exit 3; fi
[ "$port" = 0 ] && port=$((20000 + $$ % 20000))
if [ -e "$(dirname "$0")/ignore_term_$(basename "$0")" ]; then trap '' TERM; else trap 'exit 0' TERM; fi
echo "started $0 $*"
printf '%s\n0\n' "$port" > "$pf.tmp" && mv "$pf.tmp" "$pf"
while :; do sleep 0.05; done
)sh";

constexpr char kFailingScript[] = R"(#!/bin/sh
echo "boom: cannot start"
exit 3
)";

void WriteScript(const std::string& path, const char* body) {
  std::ofstream(path) << body;
  ::chmod(path.c_str(), 0755);
}

std::string FakeBinDir(bool failing_learner) {
  const std::string dir = MakeTempDir("rlctl_bin");
  for (const char* name :
       {"replay_server", "preference_server", "learner", "actor", "evaluator"}) {
    const bool fail = failing_learner && std::string(name) == "learner";
    WriteScript(absl::StrCat(dir, "/", name), fail ? kFailingScript : kServingScript);
  }
  return dir;
}

UpOptions FakeOptions(bool failing_learner = false) {
  UpOptions options;
  options.actors = 2;
  options.state_dir = MakeTempDir("rlctl_state");
  options.bin_dir = FakeBinDir(failing_learner);
  options.start_timeout = absl::Seconds(20);
  options.restart_backoff = absl::Milliseconds(50);
  options.max_restart_backoff = absl::Milliseconds(400);
  options.rlctl_binary = BinaryPath("rlctl");
  return options;
}

const ProcessRecord* Find(const Topology& t, const std::string& name) {
  for (const ProcessRecord& p : t.processes) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// Waits until the topology file shows `name` satisfying pred.
std::optional<ProcessRecord> WaitForProcess(const std::string& state_dir, const std::string& name,
                                            const std::function<bool(const ProcessRecord&)>& pred,
                                            absl::Duration timeout = absl::Seconds(20)) {
  std::optional<ProcessRecord> found;
  WaitFor(
      [&] {
        absl::StatusOr<Topology> t = ReadTopology(TopologyPath(state_dir));
        if (!t.ok()) return false;
        const ProcessRecord* p = Find(*t, name);
        if (p == nullptr || !pred(*p)) return false;
        found = *p;
        return true;
      },
      timeout);
  return found;
}

// Every pid the supervisor started ("started NAME pid P" in its log; not
// the supervisor itself).
std::set<pid_t> StartedPids(const std::string& state_dir) {
  return SupervisorStartedPids(LogDir(state_dir) + "/supervisor.log", /*with_supervisor=*/false);
}

// Stops a topology a failed test left behind.
class LocalClusterTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& dir : state_dirs_) {
      if (FileExists(TopologyPath(dir))) (void)StopLocalCluster(dir, absl::Seconds(2), nullptr);
      for (pid_t pid : StartedPids(dir)) {
        if (ProcessAlive(pid)) ::kill(pid, SIGKILL);
      }
    }
  }
  absl::StatusOr<Topology> Up(const UpOptions& options) {
    state_dirs_.push_back(options.state_dir);
    return StartLocalCluster(options);
  }
  std::vector<std::string> state_dirs_;
};

TEST(TopologyTest, RoundTrips) {
  Topology t;
  t.supervisor_pid = 99;
  t.control_socket = "/s/run/supervisor.sock";
  t.learner_address = "127.0.0.1:5";
  t.replay_address = "127.0.0.1:6";
  t.out_dir = "/o";
  t.checkpoint_dir = "/c";
  t.monitor_url = "http://127.0.0.1:8";
  ProcessRecord p{"learner", 123, 5, 7, "/bin/learner", "/l/learner.log"};
  p.restarts = 2;
  p.state = "backoff";
  p.last_exit = "signal:9";
  t.processes.push_back(p);
  const std::string path = MakeTempDir("topo") + "/topology.txt";
  ASSERT_TRUE(WriteTopology(path, t).ok());
  auto back = ReadTopology(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->supervisor_pid, 99);
  EXPECT_EQ(back->control_socket, "/s/run/supervisor.sock");
  EXPECT_EQ(back->learner_address, t.learner_address);
  EXPECT_EQ(back->out_dir, "/o");
  EXPECT_EQ(back->monitor_url, "http://127.0.0.1:8");
  ASSERT_EQ(back->processes.size(), 1u);
  EXPECT_EQ(back->processes[0].pid, 123);
  EXPECT_EQ(back->processes[0].metrics_port, 7);
  EXPECT_EQ(back->processes[0].log, "/l/learner.log");
  EXPECT_EQ(back->processes[0].restarts, 2);
  EXPECT_EQ(back->processes[0].state, "backoff");
  EXPECT_EQ(DescribeLastExit(back->processes[0].last_exit), "killed by signal 9");
  EXPECT_TRUE(absl::IsNotFound(ReadTopology(path + ".none").status()));
}

TEST(TopologyTest, ReadsTheFormatOfAnOlderRlctl) {
  const std::string path = MakeTempDir("topo") + "/topology.txt";
  std::ofstream(path) << "learner_address=127.0.0.1:5\n"
                         "process=learner 123 5 7 /bin/learner /l/learner.log\n";
  auto t = ReadTopology(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->supervisor_pid, -1);
  ASSERT_EQ(t->processes.size(), 1u);
  EXPECT_EQ(t->processes[0].restarts, 0);
}

TEST(ClusterPortsTest, MatchTheComposeFileAndAreNamedInRlctlsHelp) {
  auto compose = ReadFileToString(std::string(RLX_SOURCE_DIR) + "/deploy/docker-compose.yml");
  ASSERT_TRUE(compose.ok());
  for (int port : {kClusterReplayPort, kClusterLearnerPort, kClusterEvaluatorPort}) {
    EXPECT_TRUE(absl::StrContains(*compose, absl::StrCat("--port=", port))) << port;
  }
  EXPECT_TRUE(absl::StrContains(*compose, absl::StrCat("--learner=learner:", kClusterLearnerPort)));
  EXPECT_TRUE(absl::StrContains(*compose, absl::StrCat("--replay=replay:", kClusterReplayPort)));
}

TEST(RestartBackoffTest, DoublesUpToTheMaximumAndResetsAfterAStableRun) {
  RestartBackoff b(absl::Milliseconds(500), absl::Seconds(30), absl::Seconds(60));
  const absl::Duration quick = absl::Seconds(1);
  std::vector<absl::Duration> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(b.Next(quick));
  const std::vector<absl::Duration> want = {
      absl::Milliseconds(500), absl::Seconds(1), absl::Seconds(2),  absl::Seconds(4),
      absl::Seconds(8),        absl::Seconds(16), absl::Seconds(30), absl::Seconds(30)};
  EXPECT_EQ(delays, want);
  EXPECT_EQ(b.Next(absl::Seconds(61)), absl::Milliseconds(500));  // ran stably: start over
  EXPECT_EQ(b.Next(quick), absl::Seconds(1));
}

TEST_F(LocalClusterTest, UpStartsEveryProcessAndDownStopsThem) {
  const UpOptions options = FakeOptions();
  auto t = Up(options);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->processes.size(), 6u);  // replay, preference, learner, 2 actors, evaluator
  ASSERT_NE(Find(*t, "preference"), nullptr);
  const ProcessRecord* learner = Find(*t, "learner");
  ASSERT_NE(learner, nullptr);
  EXPECT_EQ(t->learner_address, absl::StrCat("127.0.0.1:", learner->port));
  EXPECT_TRUE(ProcessAlive(t->supervisor_pid));
  for (const ProcessRecord& p : t->processes) {
    EXPECT_TRUE(ProcessAlive(p.pid)) << p.name;
    EXPECT_EQ(p.state, "running") << p.name;
    EXPECT_EQ(p.restarts, 0) << p.name;
  }
  auto log = ReadTopology(TopologyPath(options.state_dir));
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->processes.size(), 6u);
  // A second `up` on the same state dir refuses.
  EXPECT_TRUE(absl::IsAlreadyExists(StartLocalCluster(options).status()));

  std::ostringstream progress;
  ASSERT_TRUE(StopLocalCluster(options.state_dir, absl::Seconds(10), &progress).ok());
  for (const ProcessRecord& p : t->processes) EXPECT_FALSE(ProcessAlive(p.pid)) << p.name;
  EXPECT_FALSE(ProcessAlive(t->supervisor_pid));
  EXPECT_TRUE(absl::StrContains(progress.str(), "stopped learner (pid ")) << progress.str();
  EXPECT_TRUE(absl::StrContains(progress.str(), "restarts 0")) << progress.str();
  // Actors and evaluator first, then the learner, then the replay server.
  EXPECT_LT(progress.str().find("stopped evaluator"), progress.str().find("stopped learner"));
  EXPECT_LT(progress.str().find("stopped learner"), progress.str().find("stopped replay"));
  EXPECT_FALSE(ReadTopology(TopologyPath(options.state_dir)).ok());
}

TEST_F(LocalClusterTest, UpGivesEveryServerPortZeroNeverTheClusterPorts) {
  const UpOptions options = FakeOptions();
  auto t = Up(options);
  ASSERT_TRUE(t.ok()) << t.status();
  for (const char* name : {"replay", "learner", "evaluator"}) {
    auto log = ReadFileToString(absl::StrCat(options.state_dir, "/logs/", name, ".log"));
    ASSERT_TRUE(log.ok()) << name;
    EXPECT_TRUE(absl::StrContains(*log, " --port=0 ")) << name << ": " << *log;
    // /metrics on by default, on a free port.
    EXPECT_TRUE(absl::StrContains(*log, " --metrics_port=-1 ")) << name << ": " << *log;
    for (int port : {kClusterReplayPort, kClusterLearnerPort, kClusterEvaluatorPort}) {
      EXPECT_FALSE(absl::StrContains(*log, absl::StrCat(port))) << name << ": " << *log;
    }
  }
  ASSERT_TRUE(StopLocalCluster(options.state_dir, absl::Seconds(10), nullptr).ok());
}

TEST_F(LocalClusterTest, KilledLearnerComesBackOnItsPortAndDownStopsEveryPidEverStarted) {
  const UpOptions options = FakeOptions();
  auto t = Up(options);
  ASSERT_TRUE(t.ok()) << t.status();
  const ProcessRecord learner = *Find(*t, "learner");
  ASSERT_EQ(::kill(learner.pid, SIGKILL), 0);

  std::optional<ProcessRecord> back = WaitForProcess(options.state_dir, "learner", [&](auto& p) {
    return p.restarts == 1 && p.state == "running" && p.pid > 0 && p.pid != learner.pid;
  });
  ASSERT_TRUE(back.has_value()) << *ReadFileToString(LogDir(options.state_dir) + "/supervisor.log");
  EXPECT_EQ(back->port, learner.port);
  EXPECT_EQ(DescribeLastExit(back->last_exit), "killed by signal 9");
  EXPECT_TRUE(ProcessAlive(back->pid));
  auto log = ReadFileToString(learner.log);
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE(absl::StrContains(*log, "restart 1 of learner (the previous process killed by signal 9)"))
      << *log;
  EXPECT_TRUE(absl::StrContains(*log, absl::StrCat("--port=", learner.port, " "))) << *log;
  // The learner address did not change, so the others still find it.
  auto now = ReadTopology(TopologyPath(options.state_dir));
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->learner_address, t->learner_address);

  const std::set<pid_t> pids = StartedPids(options.state_dir);
  EXPECT_EQ(pids.size(), 7u);  // six first starts and the restart
  std::ostringstream progress;
  ASSERT_TRUE(StopLocalCluster(options.state_dir, absl::Seconds(10), &progress).ok());
  EXPECT_TRUE(absl::StrContains(progress.str(),
                                absl::StrCat("stopped learner (pid ", back->pid, ", restarts 1)")))
      << progress.str();
  for (pid_t pid : pids) EXPECT_FALSE(ProcessAlive(pid)) << pid;
  EXPECT_FALSE(ProcessAlive(t->supervisor_pid));
}

TEST_F(LocalClusterTest, CrashLoopingProcessBacksOffAndRecovers) {
  const UpOptions options = FakeOptions();
  auto t = Up(options);
  ASSERT_TRUE(t.ok()) << t.status();
  const std::string marker = options.bin_dir + "/crash_learner";
  std::ofstream(marker) << "";
  ::kill(Find(*t, "learner")->pid, SIGKILL);
  // Restarts exit 3 at once: the waits double (50, 100, 200 ms, ...).
  ASSERT_TRUE(WaitForProcess(options.state_dir, "learner",
                             [](auto& p) { return p.restarts >= 3; }).has_value());
  std::remove(marker.c_str());
  std::optional<ProcessRecord> back = WaitForProcess(
      options.state_dir, "learner", [](auto& p) { return p.state == "running"; });
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->port, Find(*t, "learner")->port);
  auto log = ReadFileToString(LogDir(options.state_dir) + "/supervisor.log");
  ASSERT_TRUE(log.ok());
  for (const char* want : {"restarting learner in 50ms", "restarting learner in 100ms",
                           "restarting learner in 200ms", "exited with status 3"}) {
    EXPECT_TRUE(absl::StrContains(*log, want)) << want << " in " << *log;
  }
  const std::set<pid_t> pids = StartedPids(options.state_dir);
  ASSERT_TRUE(StopLocalCluster(options.state_dir, absl::Seconds(10), nullptr).ok());
  for (pid_t pid : pids) EXPECT_FALSE(ProcessAlive(pid)) << pid;
}

TEST_F(LocalClusterTest, ProcessExitingWithStatusZeroStaysDownUntilRestartedByName) {
  const UpOptions options = FakeOptions();
  auto t = Up(options);
  ASSERT_TRUE(t.ok()) << t.status();
  const ProcessRecord actor = *Find(*t, "actor-0");
  ::kill(actor.pid, SIGTERM);  // told to stop: drains and exits 0
  ASSERT_TRUE(WaitForProcess(options.state_dir, "actor-0",
                             [](auto& p) { return p.state == "exited"; }).has_value());
  // Well past the 50 ms backoff: still down.
  absl::SleepFor(absl::Milliseconds(500));
  auto t2 = ReadTopology(TopologyPath(options.state_dir));
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(Find(*t2, "actor-0")->state, "exited");
  EXPECT_EQ(Find(*t2, "actor-0")->pid, -1);
  EXPECT_EQ(Find(*t2, "actor-0")->restarts, 0);

  std::ostringstream progress;
  ASSERT_TRUE(RestartProcess(options.state_dir, "actor-0", absl::Seconds(5), absl::Seconds(20),
                             &progress).ok());
  EXPECT_TRUE(absl::StrContains(progress.str(), "restarted actor-0: pid ")) << progress.str();
  auto t3 = ReadTopology(TopologyPath(options.state_dir));
  ASSERT_TRUE(t3.ok());
  EXPECT_EQ(Find(*t3, "actor-0")->state, "running");
  EXPECT_EQ(Find(*t3, "actor-0")->restarts, 1);
  EXPECT_TRUE(ProcessAlive(Find(*t3, "actor-0")->pid));
  ASSERT_TRUE(StopLocalCluster(options.state_dir, absl::Seconds(10), nullptr).ok());
}

TEST_F(LocalClusterTest, RestartByNameStartsANewProcessOnTheSamePort) {
  const UpOptions options = FakeOptions();
  auto t = Up(options);
  ASSERT_TRUE(t.ok()) << t.status();
  const ProcessRecord replay = *Find(*t, "replay");
  std::ostringstream progress;
  ASSERT_TRUE(RestartProcess(options.state_dir, "replay", absl::Seconds(5), absl::Seconds(20),
                             &progress).ok());
  EXPECT_TRUE(absl::StrContains(progress.str(), absl::StrCat("stopping replay (pid ", replay.pid)))
      << progress.str();
  EXPECT_TRUE(absl::StrContains(progress.str(), absl::StrCat("port ", replay.port, ", restarts 1")))
      << progress.str();
  EXPECT_FALSE(ProcessAlive(replay.pid));
  auto now = ReadTopology(TopologyPath(options.state_dir));
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(Find(*now, "replay")->port, replay.port);
  EXPECT_NE(Find(*now, "replay")->pid, replay.pid);
  EXPECT_EQ(now->replay_address, t->replay_address);

  const absl::Status unknown =
      RestartProcess(options.state_dir, "lerner", absl::Seconds(5), absl::Seconds(20), nullptr);
  EXPECT_TRUE(absl::IsNotFound(unknown)) << unknown;
  EXPECT_TRUE(absl::StrContains(unknown.message(), "learner")) << unknown;  // lists the names
  ASSERT_TRUE(StopLocalCluster(options.state_dir, absl::Seconds(10), nullptr).ok());
}

TEST_F(LocalClusterTest, DownKillsAProcessThatIgnoresSigtermAfterTheGracePeriod) {
  const UpOptions options = FakeOptions();
  std::ofstream(options.bin_dir + "/ignore_term_learner") << "";
  auto t = Up(options);
  ASSERT_TRUE(t.ok()) << t.status();
  const pid_t learner = Find(*t, "learner")->pid;
  std::ostringstream progress;
  const absl::Time start = absl::Now();
  ASSERT_TRUE(StopLocalCluster(options.state_dir, absl::Milliseconds(300), &progress).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  EXPECT_TRUE(absl::StrContains(progress.str(), absl::StrCat("killed learner (pid ", learner,
                                                             ", restarts 0) after the grace")))
      << progress.str();
  EXPECT_TRUE(absl::StrContains(progress.str(), "stopped replay")) << progress.str();
  EXPECT_FALSE(ProcessAlive(learner));
  EXPECT_FALSE(ProcessAlive(t->supervisor_pid));
}

TEST_F(LocalClusterTest, DownStopsEverythingEvenWhenTheSupervisorIsGone) {
  const UpOptions options = FakeOptions();
  auto t = Up(options);
  ASSERT_TRUE(t.ok()) << t.status();
  ::kill(t->supervisor_pid, SIGKILL);
  EXPECT_TRUE(WaitForExits({t->supervisor_pid}, absl::Now() + absl::Seconds(10)).empty());
  const absl::Status restart =
      RestartProcess(options.state_dir, "learner", absl::Seconds(5), absl::Seconds(20), nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(restart)) << restart;
  ASSERT_TRUE(StopLocalCluster(options.state_dir, absl::Seconds(10), nullptr).ok());
  for (const ProcessRecord& p : t->processes) EXPECT_FALSE(ProcessAlive(p.pid)) << p.name;
  EXPECT_FALSE(FileExists(TopologyPath(options.state_dir)));
}

TEST_F(LocalClusterTest, ProcessDyingAtStartFailsUpNamingItsLogAndStopsTheRest) {
  const UpOptions options = FakeOptions(/*failing_learner=*/true);
  auto t = Up(options);
  ASSERT_FALSE(t.ok());
  const std::string m(t.status().message());
  EXPECT_TRUE(absl::StrContains(m, "learner exited with status 3")) << m;
  EXPECT_TRUE(absl::StrContains(m, "logs/learner.log")) << m;
  EXPECT_TRUE(absl::StrContains(m, "boom: cannot start")) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);
  EXPECT_FALSE(ReadTopology(TopologyPath(options.state_dir)).ok());
  for (pid_t pid : StartedPids(options.state_dir)) EXPECT_FALSE(ProcessAlive(pid)) << pid;
}

TEST_F(LocalClusterTest, MetricsFalseTurnsTheMetricsServersOff) {
  UpOptions options = FakeOptions();
  options.metrics = false;
  auto t = Up(options);
  ASSERT_TRUE(t.ok()) << t.status();
  for (const char* name : {"replay", "learner", "actor-0", "evaluator"}) {
    auto log = ReadFileToString(absl::StrCat(options.state_dir, "/logs/", name, ".log"));
    ASSERT_TRUE(log.ok()) << name;
    EXPECT_TRUE(absl::StrContains(*log, " --metrics_port=0 ")) << name << ": " << *log;
  }
  ASSERT_TRUE(StopLocalCluster(options.state_dir, absl::Seconds(10), nullptr).ok());
}

TEST_F(LocalClusterTest, MonitorWithoutPrometheusOrMetricsIsReportedBeforeStartingAnything) {
  UpOptions options = FakeOptions();
  options.monitor = true;
  options.prometheus_binary = "/nonexistent/bin/prometheus";
  auto t = Up(options);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(absl::IsNotFound(t.status())) << t.status();
  const std::string m(t.status().message());
  EXPECT_TRUE(absl::StrContains(m, "/nonexistent/bin/prometheus")) << m;
  EXPECT_TRUE(absl::StrContains(m, "Debian's package 'prometheus'")) << m;
  EXPECT_FALSE(FileExists(LogDir(options.state_dir) + "/supervisor.log"));

  options.prometheus_binary = "/bin/sh";  // exists: the rules file is next
  options.alert_rules = "/nonexistent/alerts.yml";
  t = Up(options);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(absl::StrContains(t.status().message(), "--alert_rules")) << t.status();

  options.metrics = false;
  t = Up(options);
  EXPECT_TRUE(absl::IsInvalidArgument(t.status())) << t.status();
  EXPECT_TRUE(absl::StrContains(t.status().message(), "--metrics")) << t.status();
  EXPECT_FALSE(FileExists(LogDir(options.state_dir) + "/supervisor.log"));
}

TEST_F(LocalClusterTest, MissingBinaryIsReportedBeforeStartingAnything) {
  UpOptions options = FakeOptions();
  options.bin_dir = MakeTempDir("rlctl_empty_bin");
  auto t = Up(options);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(absl::StrContains(t.status().message(), "no replay_server binary"))
      << t.status();
  EXPECT_FALSE(FileExists(LogDir(options.state_dir) + "/supervisor.log"));
}

}  // namespace
}  // namespace rlx::cli
