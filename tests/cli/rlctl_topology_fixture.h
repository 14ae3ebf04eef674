// The fixture of the tests that drive the real rlctl binary against an `rlctl
// up` topology in a temporary state folder: Rlctl() runs a command and
// returns its exit code and output; TearDown always runs `rlctl down` and
// then kills (SIGKILL) whatever the supervisor ever started that is still
// alive, so a failed test leaves no process behind.
#ifndef RLX_TESTS_CLI_RLCTL_TOPOLOGY_FIXTURE_H_
#define RLX_TESTS_CLI_RLCTL_TOPOLOGY_FIXTURE_H_

#include <gtest/gtest.h>
#include <signal.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/local_cluster.h"
#include "core/file_util.h"
#include "tests/test_util.h"

namespace rlx::cli {

struct RlctlRun {
  std::optional<int> code;  // nullopt: it did not end in time
  std::string output;       // stdout and stderr
};

class RlctlTopologyTest : public ::testing::Test {
 protected:
  // A fresh temporary folder (dir_) and the state folder in it (state_dir_).
  void MakeStateDir(const std::string& prefix) {
    dir_ = MakeTempDir(prefix);
    state_dir_ = dir_ + "/state";
  }

  void TearDown() override {
    if (state_dir_.empty()) return;  // skipped before MakeStateDir
    if (FileExists(TopologyPath(state_dir_))) Rlctl({"down", "--timeout_s=5"}, absl::Seconds(90));
    for (pid_t pid : StartedPids()) {
      if (ProcessAlive(pid)) ::kill(pid, SIGKILL);
    }
  }

  // Runs the real rlctl with --state_dir (but `health`, which takes none).
  RlctlRun Rlctl(std::vector<std::string> args, absl::Duration timeout) {
    const std::string log = absl::StrCat(dir_, "/rlctl-", runs_++, ".log");
    std::vector<std::string> argv = {BinaryPath("rlctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    if (args[0] != "health") argv.push_back("--state_dir=" + state_dir_);
    RlctlRun run;
    absl::StatusOr<Subprocess> p = Subprocess::Start(argv, log);
    if (!p.ok()) return run;
    run.code = p->Wait(timeout);
    run.output = ReadFileToString(log).value_or("");
    return run;
  }

  // The supervisor and every pid it started.
  std::set<pid_t> StartedPids() {
    return SupervisorStartedPids(LogDir(state_dir_) + "/supervisor.log");
  }

  std::string dir_, state_dir_;
  int runs_ = 0;
};

}  // namespace rlx::cli

#endif  // RLX_TESTS_CLI_RLCTL_TOPOLOGY_FIXTURE_H_
