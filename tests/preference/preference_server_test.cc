// The preference_server process (real binary on 127.0.0.1, port 0): answers
// every built-in function, refuses bad requests by name and keeps serving,
// exports its metrics, exits 0 on SIGTERM; and the example Python rater
// (examples/python_rater.py) serves the same RPC.
#include <signal.h>

#include <cstdlib>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "algorithms/spo/preference_trainer.h"
#include "core/grpc_status.h"
#include <grpcpp/grpcpp.h>

#include "core/server.h"
#include "preference.grpc.pb.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

CompareRequest Request(const std::string& function) {
  CompareRequest request;
  request.set_job("test");
  request.mutable_function()->set_name(function);
  request.mutable_function()->set_temperature(1.0);
  for (double w : {0.4, 0.35, 0.25}) request.mutable_function()->add_mix(w);
  // PreferenceGame-v0's three actions.
  for (int a = 0; a < 3; ++a) *request.add_trajectories() = spo::PreferenceGameTrajectory(a);
  for (auto [a, b] : {std::pair{0, 1}, {1, 2}, {2, 0}, {1, 1}}) {
    TrajectoryPair* p = request.add_pairs();
    p->set_a(a);
    p->set_b(b);
  }
  return request;
}

absl::StatusOr<CompareResponse> Call(PreferenceService::Stub* stub, const CompareRequest& request) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  CompareResponse response;
  const grpc::Status s = stub->Compare(&ctx, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

TEST(PreferenceServerTest, AnswersEveryFunctionRefusesBadRequestsAndExitsCleanly) {
  const std::string dir = MakeTempDir("preference_server");
  auto server = StartWithPortFile(dir, "preference_server", "preference",
                                  {"--port=0", "--metrics_port=-1"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = PreferenceService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port), grpc::InsecureChannelCredentials()));

  auto markovian = Call(stub.get(), Request("markovian"));
  ASSERT_TRUE(markovian.ok()) << markovian.status();
  EXPECT_THAT(markovian->p_a_preferred(), ::testing::ElementsAre(0.0, 1.0, 1.0, 0.5));
  auto intransitive = Call(stub.get(), Request("intransitive"));
  ASSERT_TRUE(intransitive.ok()) << intransitive.status();
  // The majority cycles: 0 over 1, 1 over 2, 2 over 0.
  EXPECT_NEAR(intransitive->p_a_preferred(0), 0.6, 1e-9);
  EXPECT_NEAR(intransitive->p_a_preferred(1), 0.65, 1e-9);
  EXPECT_NEAR(intransitive->p_a_preferred(2), 0.75, 1e-9);
  CompareRequest votes = Request("noisy");
  votes.mutable_function()->set_sample(true);
  auto voted = Call(stub.get(), votes);
  ASSERT_TRUE(voted.ok());
  for (double v : voted->p_a_preferred()) EXPECT_TRUE(v == 0.0 || v == 1.0) << v;

  // Bad requests: named, nothing answered, the server stays up.
  CompareRequest bad = Request("markovian");
  bad.mutable_pairs(2)->set_b(7);
  auto refused = Call(stub.get(), bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("pairs[2]"));
  auto unknown = Call(stub.get(), Request("majority_vote"));
  EXPECT_THAT(std::string(unknown.status().message()), ::testing::HasSubstr("function.name"));
  EXPECT_TRUE(Call(stub.get(), Request("markovian")).ok());

  auto metrics = HttpGet("127.0.0.1", server->metrics_port, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(*metrics, ::testing::HasSubstr("rl_preference_pairs_total 16"));
  EXPECT_THAT(*metrics, ::testing::HasSubstr("rl_preference_requests_total{outcome=\"invalid\"} 2"));
  EXPECT_THAT(*metrics, ::testing::HasSubstr("rl_preference_request_seconds_bucket"));

  server->process.Signal(SIGTERM);
  EXPECT_EQ(server->process.Wait(absl::Seconds(20)), 0);
}

// SPO's trainer asking a real preference_server that is killed (-9) in the
// middle of the run and comes back on its port: the run waits, retries,
// loses no episode's comparisons, and finishes.
TEST(PreferenceServerTest, TrainingSurvivesTheServiceBeingKilledAndRestarted) {
  const std::string dir = MakeTempDir("preference_kill");
  auto server = StartWithPortFile(dir, "preference_server", "preference0",
                                  {"--port=0", "--metrics_port=-1"});
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = server->port;
  spo::PreferenceTrainOptions options;
  options.env_name = "CartPole-v1";
  options.preference.set_name("markovian");
  options.preference_address = absl::StrCat("127.0.0.1:", port);
  options.opponents = 4;
  options.steps = 102400;
  absl::StatusOr<spo::PreferenceTrainResult> result;
  std::thread training([&] { result = spo::RunPreferenceTraining(options); });
  // Kill it once it has answered the first comparisons (well inside the run).
  EXPECT_TRUE(WaitFor(
      [&] {
        auto m = HttpGet("127.0.0.1", server->metrics_port, "/metrics");
        return m.ok() && absl::StrContains(*m, "rl_preference_pairs_total") &&
               !absl::StrContains(*m, "rl_preference_pairs_total 0\n");
      },
      absl::Seconds(60)));
  server->process.Signal(SIGKILL);
  server->process.Wait(absl::Seconds(10));
  absl::SleepFor(absl::Milliseconds(1500));
  auto again = StartWithPortFile(dir, "preference_server", "preference1",
                                 {absl::StrCat("--port=", port), "--metrics_port=0"});
  ASSERT_TRUE(again.ok()) << again.status();
  training.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->env_steps, 102400);
  EXPECT_EQ(result->queries, 4 * static_cast<int64_t>(result->episodes.size()));
  EXPECT_GE(result->failed_calls, 1) << "the kill did not land inside the run";
  again->process.Signal(SIGTERM);
  EXPECT_EQ(again->process.Wait(absl::Seconds(20)), 0);
}

TEST(PythonRaterTest, TheExampleRaterServesTheSameRpc) {
  if (std::system("/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null") != 0) {
    GTEST_SKIP() << "python3-grpcio / python3-protobuf missing (scripts/install-deps.sh)";
  }
  const std::string dir = MakeTempDir("python_rater");
  const std::string root = RLX_SOURCE_DIR;
  ASSERT_EQ(std::system(absl::StrCat("protoc -I ", root, " --python_out=", dir, " ", root,
                                     "/proto/preference.proto").c_str()),
            0);
  auto rater = Subprocess::Start(
      {"/usr/bin/env", "PYTHONPATH=" + dir, "/usr/bin/python3", root + "/examples/python_rater.py",
       "--port=0", "--target=0", "--port_file=" + dir + "/rater.port"},
      dir + "/rater.log");
  ASSERT_TRUE(rater.ok()) << rater.status();
  auto ports = WaitForFileContents(dir + "/rater.port", absl::Seconds(30));
  ASSERT_TRUE(ports.ok()) << ports.status();
  const int port = std::atoi(ports->c_str());
  ASSERT_GT(port, 0);
  auto stub = PreferenceService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  // Final positions 1, 0, 2; nearest to 0 wins.
  auto answer = Call(stub.get(), Request("markovian"));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_THAT(answer->p_a_preferred(), ::testing::ElementsAre(0.0, 1.0, 0.0, 0.5));
  CompareRequest bad = Request("markovian");
  bad.mutable_pairs(0)->set_a(9);
  EXPECT_EQ(Call(stub.get(), bad).status().code(), absl::StatusCode::kInvalidArgument);
  rater->Signal(SIGTERM);
  EXPECT_EQ(rater->Wait(absl::Seconds(20)), 0);
}

}  // namespace
}  // namespace rlx
