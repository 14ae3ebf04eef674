// Runs the real actor binary against an in-process fake learner and a real
// replay service: it leases, steps, serves /metrics, and exits 0 on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/server.h"
#include "replay/client.h"
#include "replay/replay_service.h"
#include "tests/actor/fake_learner.h"
#include "tests/replay/replay_test_util.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

TEST(ActorProcessTest, StepsForTheLearnerServesMetricsAndExitsCleanlyOnSigterm) {
  auto replay = ReplayServiceImpl::Create(ReplayConfig(), ReplayServiceOptions(), nullptr);
  ASSERT_TRUE(replay.ok()) << replay.status();
  FakeJobState state;
  FakeJobService jobs(&state);
  FakeParameterService parameters(&state);
  int port = 0;
  auto server = StartGrpcServer("127.0.0.1:0", {replay->get(), &jobs, &parameters}, &port);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = absl::StrCat("127.0.0.1:", port);
  ReplayClient client(MakeChannel(address));

  const JobSpec spec = MakeSpec("proc", /*envs=*/2, /*max_policy_lag=*/-1);
  ASSERT_TRUE((*replay)->AddTable(QueueTable(spec.table(), spec.table_max_size())).ok());
  Assignment assignment;
  assignment.set_job_name(spec.name());
  *assignment.mutable_spec() = spec;
  assignment.add_stream_ids(0);
  assignment.add_stream_ids(1);
  assignment.set_table(spec.table());
  state.Start(assignment);
  FakeTrainer trainer(&state, &client, spec, /*consume=*/true);

  const std::string dir = MakeTempDir("actor_proc");
  const std::string port_file = dir + "/ports";
  auto actor = Subprocess::Start({BinaryPath("actor"), "--learner=" + address,
                                  "--replay=" + address, "--name=proc-actor",
                                  "--metrics_port=-1", "--port_file=" + port_file},
                                 dir + "/actor.log");
  ASSERT_TRUE(actor.ok()) << actor.status();
  auto contents = WaitForFileContents(port_file, absl::Seconds(30));
  ASSERT_TRUE(contents.ok()) << contents.status();
  std::vector<std::string> lines = absl::StrSplit(*contents, '\n', absl::SkipEmpty());
  int metrics_port = 0;
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "0");
  ASSERT_TRUE(absl::SimpleAtoi(lines[1], &metrics_port));
  ASSERT_GT(metrics_port, 0);

  ASSERT_TRUE(WaitFor([&] { return trainer.received() >= 200; }, absl::Seconds(60)));
  auto body = HttpGet("127.0.0.1", metrics_port, "/metrics");
  ASSERT_TRUE(body.ok()) << body.status();
  for (const char* name : {"rl_actor_env_steps_total", "rl_actor_episodes_total",
                           "rl_actor_episode_return", "rl_actor_policy_version",
                           "rl_actor_parameter_updates_total", "rl_actor_inserted_items_total",
                           "rl_actor_wait_seconds_total"}) {
    EXPECT_NE(body->find(name), std::string::npos) << name;
  }

  actor->Signal(SIGTERM);
  auto code = actor->Wait(absl::Seconds(15));
  ASSERT_TRUE(code.has_value()) << "actor did not exit after SIGTERM";
  EXPECT_EQ(*code, 0);
  trainer.Stop();
  EXPECT_TRUE(trainer.errors().empty()) << trainer.errors()[0];
  const std::vector<Item> items = trainer.items();
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items[0].metadata().job_id(), "proc");
  (*replay)->Close();
  StopGrpcServer(server->get(), absl::Seconds(2));
}

}  // namespace
}  // namespace rlx
