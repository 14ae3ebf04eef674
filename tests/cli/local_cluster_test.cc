// `up` / `down` with stand-in scripts for the four binaries: the topology is
// recorded, every process stops again, and a process that dies at start-up
// fails `up` with one line naming it and its log.
#include "cli/local_cluster.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/test_util.h"

namespace rlx::cli {
namespace {

constexpr char kServingScript[] = R"(#!/bin/sh
for a in "$@"; do case "$a" in --port_file=*) pf="${a#--port_file=}";; esac; done
trap 'exit 0' TERM
echo "started $0 $*"
printf '4242\n0\n' > "$pf.tmp" && mv "$pf.tmp" "$pf"
while :; do sleep 0.05; done
)";

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
  for (const char* name : {"replay_server", "learner", "actor", "evaluator"}) {
    const bool fail = failing_learner && std::string(name) == "learner";
    WriteScript(absl::StrCat(dir, "/", name), fail ? kFailingScript : kServingScript);
  }
  return dir;
}

TEST(TopologyTest, RoundTrips) {
  Topology t;
  t.learner_address = "127.0.0.1:5";
  t.replay_address = "127.0.0.1:6";
  t.out_dir = "/o";
  t.checkpoint_dir = "/c";
  t.processes.push_back({"learner", 123, 5, 7, "/bin/learner", "/l/learner.log"});
  const std::string path = MakeTempDir("topo") + "/topology.txt";
  ASSERT_TRUE(WriteTopology(path, t).ok());
  auto back = ReadTopology(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->learner_address, t.learner_address);
  EXPECT_EQ(back->out_dir, "/o");
  ASSERT_EQ(back->processes.size(), 1u);
  EXPECT_EQ(back->processes[0].pid, 123);
  EXPECT_EQ(back->processes[0].metrics_port, 7);
  EXPECT_EQ(back->processes[0].log, "/l/learner.log");
  EXPECT_TRUE(absl::IsNotFound(ReadTopology(path + ".none").status()));
}

TEST(LocalClusterTest, UpStartsEveryProcessAndDownStopsThem) {
  UpOptions options;
  options.actors = 2;
  options.state_dir = MakeTempDir("rlctl_state");
  options.bin_dir = FakeBinDir(/*failing_learner=*/false);
  options.start_timeout = absl::Seconds(20);
  auto t = StartLocalCluster(options);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->processes.size(), 5u);  // replay, learner, 2 actors, evaluator
  EXPECT_EQ(t->learner_address, "127.0.0.1:4242");
  for (const ProcessRecord& p : t->processes) EXPECT_TRUE(ProcessAlive(p.pid)) << p.name;
  auto log = ReadTopology(TopologyPath(options.state_dir));
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->processes.size(), 5u);
  // A second `up` on the same state dir refuses.
  EXPECT_TRUE(absl::IsAlreadyExists(StartLocalCluster(options).status()));

  std::ostringstream progress;
  ASSERT_TRUE(StopLocalCluster(options.state_dir, absl::Seconds(10), &progress).ok());
  for (const ProcessRecord& p : t->processes) EXPECT_FALSE(ProcessAlive(p.pid)) << p.name;
  EXPECT_TRUE(absl::StrContains(progress.str(), "stopped learner")) << progress.str();
  EXPECT_FALSE(ReadTopology(TopologyPath(options.state_dir)).ok());
}

TEST(LocalClusterTest, ProcessDyingAtStartFailsUpNamingItsLogAndStopsTheRest) {
  UpOptions options;
  options.state_dir = MakeTempDir("rlctl_state");
  options.bin_dir = FakeBinDir(/*failing_learner=*/true);
  options.start_timeout = absl::Seconds(20);
  auto t = StartLocalCluster(options);
  ASSERT_FALSE(t.ok());
  const std::string m(t.status().message());
  EXPECT_TRUE(absl::StrContains(m, "learner exited with status 3")) << m;
  EXPECT_TRUE(absl::StrContains(m, "logs/learner.log")) << m;
  EXPECT_TRUE(absl::StrContains(m, "boom: cannot start")) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);
  EXPECT_FALSE(ReadTopology(TopologyPath(options.state_dir)).ok());
}

TEST(LocalClusterTest, MissingBinaryIsReportedBeforeStartingAnything) {
  UpOptions options;
  options.state_dir = MakeTempDir("rlctl_state");
  options.bin_dir = MakeTempDir("rlctl_empty_bin");
  auto t = StartLocalCluster(options);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(absl::StrContains(t.status().message(), "no replay_server binary"))
      << t.status();
}

}  // namespace
}  // namespace rlx::cli
