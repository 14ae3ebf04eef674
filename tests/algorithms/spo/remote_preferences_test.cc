// Preference queries to a remote PreferenceService under faults: a service
// that answers NaN or out-of-range values, is slower than the deadline, or
// goes away and comes back on its port. Every query is answered in the end,
// none is dropped or duplicated, the failures are counted, a refused request
// comes back at once, and a stop ends the retries.
#include "algorithms/spo/remote_preferences.h"

#include <atomic>
#include <cmath>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "algorithms/preferences.h"
#include "core/server.h"

namespace rlx::spo {
namespace {

// Answers with the markovian function, after `bad_answers` calls answering
// NaN / 1.5 / too few values, and `slow_calls` calls that sleep first.
class FakeService final : public PreferenceService::Service {
 public:
  grpc::Status Compare(grpc::ServerContext*, const CompareRequest* request,
                       CompareResponse* response) override {
    ++calls;
    if (slow_calls.load() > 0) {
      --slow_calls;
      absl::SleepFor(absl::Milliseconds(600));
    }
    if (request->function().name() == "reject") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "function.name: reject");
    }
    const int bad = bad_answers.load();
    if (bad > 0) {
      --bad_answers;
      for (int i = 0; i < request->pairs_size(); ++i) {
        response->add_p_a_preferred(bad % 3 == 0 ? NAN : (bad % 3 == 1 ? 1.5 : 0.5));
      }
      if (bad % 3 == 2) response->mutable_p_a_preferred()->RemoveLast();  // one too few
      return grpc::Status::OK;
    }
    std::mt19937_64 rng(1);
    absl::StatusOr<CompareResponse> answer = spo::Compare(*request, &rng);
    if (!answer.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad");
    *response = *answer;
    pairs += response->p_a_preferred_size();
    return grpc::Status::OK;
  }
  std::atomic<int> bad_answers{0}, slow_calls{0}, calls{0}, pairs{0};
};

Trajectory WithReturn(float g) {
  Trajectory t;
  t.set_length(1);
  t.add_rewards(g);
  return t;
}

class RemotePreferencesTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(0); }
  void Start(int port) {
    auto server = StartGrpcServer(absl::StrCat("127.0.0.1:", port), {&service_}, &port_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void Stop() {
    if (server_ != nullptr) StopGrpcServer(server_.get(), absl::Seconds(1));
    server_.reset();
  }
  void TearDown() override { Stop(); }
  RemotePreferences Client(std::function<bool()> stopped = nullptr) {
    RemotePreferenceOptions options;
    options.job = "test";
    options.function.set_name("markovian");
    options.rpc_timeout = absl::Milliseconds(300);
    options.initial_backoff = absl::Milliseconds(20);
    options.max_backoff = absl::Milliseconds(100);
    options.max_pairs_per_call = 3;  // several calls per group
    options.stopped = std::move(stopped);
    return RemotePreferences(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()),
        options);
  }

  FakeService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  // Returns 0..4; pairs (i, i+1) and (i+1, i): the answers alternate 0, 1.
  std::vector<Trajectory> group_ = {WithReturn(0), WithReturn(1), WithReturn(2), WithReturn(3),
                                    WithReturn(4)};
  std::vector<const Trajectory*> all() const {
    std::vector<const Trajectory*> out;
    for (const Trajectory& t : group_) out.push_back(&t);
    return out;
  }
  std::vector<std::pair<int, int>> pairs_ = {{0, 1}, {1, 0}, {1, 2}, {2, 1}, {2, 3}, {3, 2}, {3, 4}};
  std::vector<double> expected_ = {0, 1, 0, 1, 0, 1, 0};
};

TEST_F(RemotePreferencesTest, BadAnswersAndSlowCallsAreRetriedUntilEveryPairIsAnswered) {
  service_.bad_answers = 3;  // NaN, 1.5, one answer short
  service_.slow_calls = 1;   // past the 300 ms deadline
  RemotePreferences client = Client();
  auto answers = client.Compare(all(), pairs_);
  ASSERT_TRUE(answers.ok()) << answers.status();
  EXPECT_EQ(*answers, expected_);
  EXPECT_EQ(client.stats().queries, 7);
  EXPECT_EQ(client.stats().calls, 3);  // 3 + 3 + 1 pairs
  EXPECT_EQ(client.stats().bad_answers, 3);
  EXPECT_GE(client.stats().failed_calls, 4);
  EXPECT_TRUE(client.stats().last_error.empty());
  EXPECT_EQ(service_.pairs.load(), 7);  // nothing asked twice once answered
}

TEST_F(RemotePreferencesTest, AServiceThatGoesAwayIsWaitedForAndNothingIsLost) {
  RemotePreferences client = Client();
  ASSERT_TRUE(client.Compare(all(), pairs_).ok());
  const int port = port_;
  Stop();
  std::thread back([&] {
    absl::SleepFor(absl::Milliseconds(800));
    Start(port);  // the same port: the client's channel reconnects
  });
  auto answers = client.Compare(all(), pairs_);
  back.join();
  ASSERT_TRUE(answers.ok()) << answers.status();
  EXPECT_EQ(*answers, expected_);
  EXPECT_GE(client.stats().failed_calls, 1);
  EXPECT_EQ(client.stats().queries, 14);
}

TEST_F(RemotePreferencesTest, ARefusedRequestComesBackAtOnceAndAStopEndsTheRetries) {
  RemotePreferenceOptions options;
  options.function.set_name("reject");
  RemotePreferences refused(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()),
      options);
  auto r = refused.Compare(all(), pairs_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);

  std::atomic<bool> stop{false};
  RemotePreferences client = Client([&] { return stop.load(); });
  Stop();
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(300));
    stop = true;
  });
  const absl::Time start = absl::Now();
  auto cancelled = client.Compare(all(), pairs_);
  stopper.join();
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kCancelled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_FALSE(client.stats().last_error.empty());
}

}  // namespace
}  // namespace rlx::spo
