// `rlctl up` with the real binaries: the learner killed with -9 comes back on
// the same port, the actors find it again (a job runs to the end), `rlctl
// restart` starts a new learner on that port too, `rlctl status` shows pids
// and restart counts, and `rlctl down` leaves no process behind: every pid
// the supervisor ever started, and the supervisor, are gone. `rlctl run`
// writes the job's learning curve at the end, and `rlctl plot` finds the job
// afterwards in the learner's registry.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/local_cluster.h"
#include "core/file_util.h"
#include "tests/cli/rlctl_topology_fixture.h"
#include "tests/test_util.h"

namespace rlx::cli {
namespace {

class RlctlUpTest : public RlctlTopologyTest {
 protected:
  void SetUp() override { MakeStateDir("rlctl_up"); }

  absl::StatusOr<Topology> Read() { return ReadTopology(TopologyPath(state_dir_)); }

  std::optional<ProcessRecord> WaitForLearner(
      const std::function<bool(const ProcessRecord&)>& pred, absl::Duration timeout) {
    std::optional<ProcessRecord> found;
    WaitFor(
        [&] {
          absl::StatusOr<Topology> t = Read();
          if (!t.ok()) return false;
          for (const ProcessRecord& p : t->processes) {
            if (p.name == "learner" && pred(p)) found = p;
          }
          return found.has_value();
        },
        timeout);
    return found;
  }

};

TEST_F(RlctlUpTest, KilledLearnerComesBackOnItsPortAndDownLeavesNoProcessBehind) {
  RlctlRun up = Rlctl({"up", "--actors=1", "--restart_backoff_ms=200", "--start_timeout_s=90"},
                 absl::Seconds(150));
  ASSERT_EQ(up.code, 0) << up.output;
  absl::StatusOr<Topology> t = Read();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(absl::StrContains(up.output, t->learner_address)) << up.output;
  std::optional<ProcessRecord> learner = WaitForLearner([](auto&) { return true; }, absl::Seconds(1));
  ASSERT_TRUE(learner.has_value());
  ASSERT_GT(learner->port, 0);

  // kill -9: the supervisor starts a new learner on the same port.
  ASSERT_EQ(::kill(learner->pid, SIGKILL), 0);
  std::optional<ProcessRecord> back = WaitForLearner(
      [&](const ProcessRecord& p) {
        return p.restarts == 1 && p.state == "running" && p.pid != learner->pid;
      },
      absl::Seconds(90));
  ASSERT_TRUE(back.has_value()) << *ReadFileToString(LogDir(state_dir_) + "/supervisor.log");
  EXPECT_EQ(back->port, learner->port);
  EXPECT_EQ(Read()->learner_address, t->learner_address);
  RlctlRun health = Rlctl({"health", t->learner_address}, absl::Seconds(20));
  EXPECT_EQ(health.code, 0) << health.output;

  RlctlRun status = Rlctl({"status"}, absl::Seconds(20));
  EXPECT_EQ(status.code, 0) << status.output;
  bool learner_line = false;
  for (absl::string_view line : absl::StrSplit(status.output, '\n')) {
    if (!absl::StrContains(line, " learner ")) continue;
    learner_line = true;
    EXPECT_TRUE(absl::StrContains(line, absl::StrCat("pid ", back->pid))) << status.output;
    EXPECT_TRUE(absl::StrContains(line, "restarts 1 ")) << status.output;
    EXPECT_TRUE(absl::StrContains(line, "killed by signal 9")) << status.output;
  }
  EXPECT_TRUE(learner_line) << status.output;
  EXPECT_TRUE(absl::StrContains(status.output, "supervisor pid ")) << status.output;

  // The actor and the evaluator found the restarted learner: a job runs to its end.
  const std::string job = dir_ + "/job.textproto";
  std::ofstream(job) << R"(name: "after_restart" algorithm: "stream_ac" env: "CartPole-v1"
                           num_actors: 1 seed: 1 stop { max_env_steps: 1500 })";
  RlctlRun submit = Rlctl({"submit", job}, absl::Seconds(20));
  ASSERT_EQ(submit.code, 0) << submit.output;
  RlctlRun watch = Rlctl({"watch", "after_restart", "--interval_ms=1000"}, absl::Seconds(120));
  EXPECT_EQ(watch.code, 0) << watch.output;
  EXPECT_TRUE(absl::StrContains(watch.output, "job after_restart SUCCEEDED")) << watch.output;

  // `rlctl restart`: SIGTERM (the learner drains and exits 0), a new one at once.
  RlctlRun restart = Rlctl({"restart", "learner"}, absl::Seconds(120));
  EXPECT_EQ(restart.code, 0) << restart.output;
  EXPECT_TRUE(absl::StrContains(restart.output,
                                absl::StrCat("port ", learner->port, ", restarts 2")))
      << restart.output;
  std::optional<ProcessRecord> again =
      WaitForLearner([](const ProcessRecord& p) { return p.restarts == 2; }, absl::Seconds(1));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->port, learner->port);
  EXPECT_EQ(DescribeLastExit(again->last_exit), "exited with status 0");

  const std::set<pid_t> pids = StartedPids();
  EXPECT_EQ(pids.size(), 8u);  // supervisor, replay, preference, learner x3, actor, evaluator
  RlctlRun down = Rlctl({"down"}, absl::Seconds(120));
  EXPECT_EQ(down.code, 0) << down.output;
  EXPECT_TRUE(absl::StrContains(down.output,
                                absl::StrCat("stopped learner (pid ", again->pid, ", restarts 2)")))
      << down.output;
  for (pid_t pid : pids) EXPECT_FALSE(ProcessAlive(pid)) << "pid " << pid << " still runs";
  EXPECT_FALSE(FileExists(TopologyPath(state_dir_)));
}

// `rlctl run`: up, submit, watch, down, and the learning curve at the end:
// the evaluator's curve and the training return the watch recorded.
TEST_F(RlctlUpTest, RunWritesTheLearningCurveAtTheEndAndStopsEverything) {
  const std::string job = dir_ + "/run.textproto";
  std::ofstream(job) << R"(name: "run_curve" algorithm: "stream_ac" env: "CartPole-v1"
                           num_actors: 1 seed: 2
                           stop { max_env_steps: 3000 target_eval_return: 475 }
                           eval { every_learner_steps: 500 episodes: 2 })";
  RlctlRun run = Rlctl({"run", job, "--actors=1", "--interval_ms=200", "--start_timeout_s=90"},
                       absl::Seconds(240));
  ASSERT_EQ(run.code, 0) << run.output;
  const std::string svg = absl::StrCat(state_dir_, "/out/run_curve/learning_curve.svg");
  EXPECT_TRUE(absl::StrContains(run.output, absl::StrCat("learning curve ", svg, ": ")))
      << run.output;
  // The training return recorded while `run` watched is always there; the
  // evaluator (every 500 steps) normally has a row too, unless it lagged
  // behind the whole short job.
  EXPECT_TRUE(absl::StrContains(run.output, "training return (")) << run.output;
  const int series = absl::StrContains(run.output, ": evaluation (") ? 2 : 1;
  const std::string text = ReadFileToString(svg).value_or("");
  int polylines = 0;
  for (size_t at = text.find("<polyline"); at != std::string::npos;
       at = text.find("<polyline", at + 1)) {
    ++polylines;
  }
  EXPECT_EQ(polylines, series) << run.output;
  EXPECT_TRUE(FileExists(absl::StrCat(state_dir_, "/out/run_curve/train_return.csv")));
  EXPECT_TRUE(absl::StrContains(text, "target 475")) << text.substr(0, 400);
  EXPECT_FALSE(FileExists(TopologyPath(state_dir_)));
  for (pid_t pid : StartedPids()) EXPECT_FALSE(ProcessAlive(pid)) << "pid " << pid << " still runs";

  // After `run`, `plot` finds the job in the learner's registry.
  RlctlRun plot = Rlctl({"plot", "run_curve", "--svg=" + dir_ + "/again.svg"}, absl::Seconds(30));
  EXPECT_EQ(plot.code, 0) << plot.output;
  EXPECT_TRUE(FileExists(dir_ + "/again.svg"));
}

}  // namespace
}  // namespace rlx::cli
