#include "actor/replay_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/server.h"
#include "replay/client.h"
#include "replay/replay_service.h"
#include "tests/replay/replay_test_util.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

// A replay server that can be stopped and started again on the same port.
class RestartableReplay {
 public:
  explicit RestartableReplay(int64_t max_size) : max_size_(max_size) {}
  ~RestartableReplay() { Stop(); }

  absl::Status Start(int port) {
    ReplayConfig config;
    *config.add_tables() = QueueTable("queue", max_size_);
    auto service = ReplayServiceImpl::Create(config, ReplayServiceOptions(), nullptr);
    if (!service.ok()) return service.status();
    service_ = std::move(*service);
    auto server = StartGrpcServer(absl::StrCat("127.0.0.1:", port), {service_.get()}, &port_);
    if (!server.ok()) return server.status();
    server_ = std::move(*server);
    return absl::OkStatus();
  }
  void Stop() {
    if (server_ == nullptr) return;
    service_->Close();
    StopGrpcServer(server_.get(), absl::Seconds(1));
    server_.reset();
    service_.reset();
  }
  int port() const { return port_; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  Table& table() { return *service_->FindTable("queue"); }

 private:
  const int64_t max_size_;
  std::unique_ptr<ReplayServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

InsertRequest Request(const std::string& table, float value) {
  InsertRequest r;
  r.set_table(table);
  *r.add_items() = MakeItem(value);
  return r;
}

TEST(ReplayWriterTest, ResendsUnacknowledgedRequestsAfterTheServerRestarts) {
  RestartableReplay replay(1000);
  ASSERT_TRUE(replay.Start(0).ok());
  const int port = replay.port();
  std::atomic<int64_t> acked_items{0};
  ReplayWriterOptions options;
  options.max_backoff = absl::Milliseconds(100);
  options.on_acknowledged = [&](int64_t n) { acked_items += n; };
  ReplayWriter writer(MakeChannel(replay.address()), options);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(writer.Send(Request("queue", i)).ok());
  ASSERT_TRUE(writer.Flush().ok());
  EXPECT_EQ(replay.table().size(), 10);

  replay.Stop();
  // Sent while the server is down: kept, and resent once it is back.
  std::thread restart([&] {
    absl::SleepFor(absl::Milliseconds(300));
    ASSERT_TRUE(replay.Start(port).ok());
  });
  for (int i = 10; i < 15; ++i) ASSERT_TRUE(writer.Send(Request("queue", i)).ok());
  absl::Status flushed = writer.Flush();
  restart.join();
  ASSERT_TRUE(flushed.ok()) << flushed;
  EXPECT_EQ(acked_items.load(), 15);
  EXPECT_GE(writer.reconnects(), 1);

  // The new server holds exactly the post-restart items, in order.
  ReplayClient client(MakeChannel(replay.address()));
  auto items = client.Sample("queue", 5, absl::Seconds(5));
  ASSERT_TRUE(items.ok()) << items.status();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(FirstValue((*items)[i].item()), 10 + i);
  EXPECT_EQ(replay.table().size(), 0);
}

TEST(ReplayWriterTest, CancelUnblocksASendHeldByAFullTable) {
  RestartableReplay replay(2);
  ASSERT_TRUE(replay.Start(0).ok());
  ReplayWriterOptions options;
  options.max_in_flight = 1;
  ReplayWriter writer(MakeChannel(replay.address()), options);
  ASSERT_TRUE(writer.Send(Request("queue", 1)).ok());
  ASSERT_TRUE(writer.Send(Request("queue", 2)).ok());
  ASSERT_TRUE(writer.Send(Request("queue", 3)).ok());  // held by the server: table full
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(200));
    writer.Cancel();
  });
  const absl::Time start = absl::Now();
  absl::Status s = writer.Send(Request("queue", 4));  // blocks: one request in flight
  canceller.join();
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(ReplayWriterTest, UnknownTableIsReturnedNotRetried) {
  RestartableReplay replay(10);
  ASSERT_TRUE(replay.Start(0).ok());
  ReplayWriter writer(MakeChannel(replay.address()), ReplayWriterOptions());
  absl::Status s = writer.Send(Request("nope", 1));
  if (s.ok()) s = writer.Flush();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
}

// A request larger than its table's byte budget can never be stored: the
// writer returns the server's RESOURCE_EXHAUSTED at once instead of
// resending it forever.
TEST(ReplayWriterTest, ARequestThatCanNeverFitItsTableIsReturnedNotRetried) {
  RestartableReplay replay(10);
  ASSERT_TRUE(replay.Start(0).ok());
  ReplayClient client(MakeChannel(replay.address()));
  TableConfig config = QueueTable("tiny", 100);
  config.set_max_bytes(64);
  ASSERT_TRUE(client.CreateTable(config).ok());
  ReplayWriterOptions options;
  options.max_backoff = absl::Milliseconds(100);
  ReplayWriter writer(MakeChannel(replay.address()), options);
  InsertRequest big;
  big.set_table("tiny");
  for (int i = 0; i < 8; ++i) *big.add_items() = MakeItem(static_cast<float>(i));
  const absl::Time start = absl::Now();
  absl::Status s = writer.Send(std::move(big));
  if (s.ok()) s = writer.Flush();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "max_bytes=64")) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(ReplayWriterTest, UnknownTableIsRetriedUntilItsOwnerCreatesIt) {
  RestartableReplay replay(10);
  ASSERT_TRUE(replay.Start(0).ok());
  ReplayWriterOptions options;
  options.retry_not_found = true;
  options.max_backoff = absl::Milliseconds(100);
  ReplayWriter writer(MakeChannel(replay.address()), options);
  ASSERT_TRUE(writer.Send(Request("later", 1)).ok());
  ASSERT_TRUE(writer.Send(Request("later", 2)).ok());
  std::thread owner([&] {
    absl::SleepFor(absl::Milliseconds(300));
    ReplayClient client(MakeChannel(replay.address()));
    TableConfig config;
    config.set_name("later");
    config.set_max_size(100);
    config.mutable_sampler()->mutable_fifo();
    config.mutable_rate_limiter()->mutable_queue();
    EXPECT_TRUE(client.CreateTable(config).ok());
  });
  EXPECT_TRUE(writer.Flush().ok());
  owner.join();
  EXPECT_EQ(writer.acknowledged_requests(), 2);
}

}  // namespace
}  // namespace rlx
