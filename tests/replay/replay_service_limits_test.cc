// The service's limits and table lifecycle over the wire: zero-item samples,
// byte budgets (per table, per server, metrics), DeleteTable, and the table
// registry that makes CreateTable / DeleteTable durable (in-process restarts;
// the real-process kill -9 case is in replay_server_process_test.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "core/file_util.h"
#include "replay/client.h"
#include "replay/replay_service.h"
#include "tests/replay/replay_test_util.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

// MakeItem(v, 3000): one float32[3000] tensor, 12000 + 16 + 64 bytes.
constexpr int kBigFloats = 3000;
constexpr int64_t kBigItemBytes = 12080;

// A served ReplayServiceImpl on an in-process channel.
class Served {
 public:
  Served(const ReplayConfig& config, const ReplayServiceOptions& options)
      : registry_(std::make_shared<prometheus::Registry>()) {
    auto service = ReplayServiceImpl::Create(config, options, registry_.get());
    EXPECT_TRUE(service.ok()) << service.status();
    if (!service.ok()) return;
    service_ = std::move(*service);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    builder.SetMaxReceiveMessageSize(64 << 20);
    server_ = builder.BuildAndStart();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    client_ = std::make_unique<ReplayClient>(server_->InProcessChannel(args));
  }
  ~Served() {
    if (service_ == nullptr) return;
    service_->Close();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  }
  bool ok() const { return service_ != nullptr; }
  ReplayServiceImpl& service() { return *service_; }
  ReplayClient& client() { return *client_; }
  // The value of a metric with label table=`table` (or no label when empty).
  double Metric(const std::string& name, const std::string& table) {
    for (const auto& family : registry_->Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        bool match = table.empty();
        for (const auto& l : m.label) match |= l.name == "table" && l.value == table;
        if (match) return family.type == prometheus::MetricType::Counter ? m.counter.value
                                                                          : m.gauge.value;
      }
    }
    return -1;
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ReplayServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<ReplayClient> client_;
};

ReplayServiceOptions SmallOptions() {
  ReplayServiceOptions options;
  options.max_item_bytes = 1 << 20;
  options.seed = 1;
  return options;
}

// Runs fn in a thread and waits up to `timeout` for it; on timeout runs
// `unblock` (which must make fn return) and reports false.
bool ReturnsWithin(absl::Duration timeout, const std::function<void()>& fn,
                   const std::function<void()>& unblock) {
  absl::Notification returned;
  std::thread t([&] {
    fn();
    returned.Notify();
  });
  const bool in_time = returned.WaitForNotificationWithTimeout(timeout);
  if (!in_time) unblock();
  t.join();
  return in_time;
}

// ---- item 5: zero items --------------------------------------------------------

TEST(ReplayServiceLimitsTest, SamplingZeroItemsIsInvalidArgumentAtOnce) {
  ReplayConfig config;
  *config.add_tables() = QueueTable("queue", 10);
  Served s(config, SmallOptions());
  ASSERT_TRUE(s.ok());
  for (int64_t n : {0, -1}) {
    auto items = s.client().Sample("queue", n, absl::Seconds(30));
    EXPECT_EQ(items.status().code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(std::string(items.status().message()), HasSubstr("n must be >= 1")) << n;
    auto batches = s.client().SampleBatches("queue", n, absl::Seconds(30));
    EXPECT_EQ(batches.status().code(), absl::StatusCode::kInvalidArgument) << n;
  }
  // A stream that could never receive an item (no credit, or max_total 0).
  for (const bool zero_credit : {true, false}) {
    SampleStreamOptions options;
    options.timeout_ms = 0;  // no server-side limit: only the check ends it
    if (zero_credit) {
      options.credit = 0;
    } else {
      options.max_total = 0;
    }
    auto stream = s.client().NewSampleStream("queue", options);
    std::vector<SampledItem> items;
    absl::Status status;
    ASSERT_TRUE(ReturnsWithin(
        absl::Seconds(10), [&] { status = stream->Next(&items); }, [&] { stream->Cancel(); }))
        << "Next on a stream with " << (zero_credit ? "credit 0" : "max_total 0") << " waited";
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr(zero_credit ? "credit must be >= 1" : "max_total must be >= 1"));
  }
}

// ---- item 6: byte budgets ---------------------------------------------------------

class ReplayServiceBytesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ReplayConfig config;
    *config.add_tables() = UniformTable("uniform", 1000);
    *config.add_tables() = QueueTable("queue", 1000);
    ReplayServiceOptions options = SmallOptions();
    options.max_table_bytes = 8 * kBigItemBytes + 100;  // holds 8 big items
    options.max_server_bytes = 20 * kBigItemBytes;
    served_ = std::make_unique<Served>(config, options);
    ASSERT_TRUE(served_->ok());
  }
  ReplayClient& client() { return served_->client(); }
  ReplayServiceImpl& service() { return served_->service(); }

  static InsertRequest BigRequest(const std::string& table, int first, int count) {
    InsertRequest r;
    r.set_table(table);
    for (int i = 0; i < count; ++i) *r.add_items() = MakeItem(static_cast<float>(first + i), kBigFloats);
    return r;
  }

  std::unique_ptr<Served> served_;
};

// The reported case, scaled down: nine large inserts into one table were all
// stored. Now an evicting table stays within its budget (the oldest go).
TEST_F(ReplayServiceBytesTest, NineLargeInsertsKeepAnEvictingTableWithinItsBudget) {
  for (int i = 0; i < 9; ++i) {
    auto keys = client().Insert("uniform", {MakeItem(static_cast<float>(i), kBigFloats)});
    ASSERT_TRUE(keys.ok()) << keys.status();
  }
  auto info = client().Info("uniform");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->tables(0).size(), 8);
  EXPECT_EQ(info->tables(0).bytes(), 8 * kBigItemBytes);
  EXPECT_EQ(info->tables(0).max_bytes(), 8 * kBigItemBytes + 100);
  EXPECT_EQ(info->tables(0).total_removals(), 1);
  // Bytes per table are exported.
  EXPECT_EQ(served_->Metric("rl_replay_size_bytes", "uniform"), 8.0 * kBigItemBytes);
  EXPECT_EQ(served_->Metric("rl_replay_max_bytes", "uniform"), 8.0 * kBigItemBytes + 100);
  EXPECT_EQ(served_->Metric("rl_replay_server_bytes", ""), 8.0 * kBigItemBytes);
  EXPECT_EQ(served_->Metric("rl_replay_server_max_bytes", ""), 20.0 * kBigItemBytes);
}

TEST_F(ReplayServiceBytesTest, AFullQueueTableMakesTheWriterWait) {
  auto stream = client().NewInsertStream(/*max_in_flight=*/1, /*keep_keys=*/true);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(stream->Send(BigRequest("queue", i, 1)).ok());
  ASSERT_TRUE(stream->Flush().ok());
  // The ninth is held by the server (backpressure), not dropped or refused.
  ASSERT_TRUE(stream->Send(BigRequest("queue", 8, 1)).ok());
  ASSERT_TRUE(WaitFor(
      [&] { return service().FindTable("queue")->Info().rate_limiter().blocked_inserts() == 1; },
      absl::Seconds(10)));
  EXPECT_EQ(stream->acknowledged(), 8);
  auto first = client().Sample("queue", 1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(FirstValue((*first)[0].item()), 0.f);
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(stream->acknowledged(), 9);
  ASSERT_TRUE(stream->Finish().ok());
  auto rest = client().Sample("queue", 8);
  ASSERT_TRUE(rest.ok()) << rest.status();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(FirstValue((*rest)[i].item()), static_cast<float>(i + 1));
}

TEST_F(ReplayServiceBytesTest, ARequestThatCanNeverFitIsResourceExhaustedAndOthersGoOn) {
  auto other = client().NewInsertStream(2, true);
  ASSERT_TRUE(other->Send(BigRequest("queue", 0, 1)).ok());
  ASSERT_TRUE(other->Flush().ok());
  for (const std::string table : {"uniform", "queue"}) {
    auto r = client().Insert(table, {});
    InsertRequest nine = BigRequest(table, 100, 9);
    auto stream = client().NewInsertStream(1, true);
    (void)stream->Send(nine);
    absl::Status s = stream->Finish();
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << table << ": " << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("--max_table_bytes")) << table;
  }
  // Nothing of the refused requests was stored; the server and the other
  // stream go on.
  EXPECT_EQ(service().FindTable("uniform")->size(), 0);
  EXPECT_EQ(service().FindTable("queue")->size(), 1);
  ASSERT_TRUE(other->Send(BigRequest("queue", 1, 1)).ok());
  ASSERT_TRUE(other->Finish().ok());
  auto items = client().Sample("queue", 2);
  ASSERT_TRUE(items.ok()) << items.status();
}

TEST_F(ReplayServiceBytesTest, ExceedingTheServerTotalIsResourceExhaustedNamingTheFlag) {
  // Three queue tables of 8 items each would need 24 items' bytes; the server
  // holds 20.
  for (const std::string name : {"q2", "q3"}) {
    ASSERT_TRUE(client().CreateTable(QueueTable(name, 1000)).ok());
  }
  for (const std::string name : {"queue", "q2"}) {
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE(client().Insert(name, {MakeItem(static_cast<float>(i), kBigFloats)}).ok());
    }
  }
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(client().Insert("q3", {MakeItem(static_cast<float>(i), kBigFloats)}).ok());
  }
  auto r = client().Insert("q3", {MakeItem(4.f, kBigFloats)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("--max_server_bytes"));
  EXPECT_EQ(service().FindTable("q3")->size(), 4);
  // Sampling frees room; the same insert then goes in.
  ASSERT_TRUE(client().Sample("q2", 1).ok());
  EXPECT_TRUE(client().Insert("q3", {MakeItem(4.f, kBigFloats)}).ok());
}

// ---- item 7: DeleteTable ------------------------------------------------------------

TEST(ReplayServiceDeleteTest, DeleteTableRemovesItAndEndsWaitingCallsWithCancelled) {
  ReplayConfig config;
  *config.add_tables() = QueueTable("full", 1);
  *config.add_tables() = QueueTable("empty", 10);
  *config.add_tables() = UniformTable("kept", 10);
  Served s(config, SmallOptions());
  ASSERT_TRUE(s.ok());
  ReplayClient& client = s.client();
  ASSERT_TRUE(client.Insert("full", {MakeItem(1.f)}).ok());
  ASSERT_TRUE(client.Insert("kept", {MakeItem(2.f)}).ok());
  // A writer waiting on the full queue, a reader waiting on the empty one.
  auto writer = client.NewInsertStream(1, true);
  InsertRequest more;
  more.set_table("full");
  *more.add_items() = MakeItem(3.f);
  ASSERT_TRUE(writer->Send(more).ok());
  auto reader = client.NewSampleStream("empty", /*credit=*/1, /*max_batch=*/1);
  ASSERT_TRUE(WaitFor(
      [&] {
        return s.service().FindTable("full")->Info().rate_limiter().blocked_inserts() == 1 &&
               s.service().FindTable("empty")->Info().rate_limiter().blocked_samples() == 1;
      },
      absl::Seconds(10)));

  ASSERT_TRUE(client.DeleteTable("full").ok());
  ASSERT_TRUE(client.DeleteTable("empty").ok());
  absl::Status w = writer->Finish();
  EXPECT_EQ(w.code(), absl::StatusCode::kCancelled) << w;
  EXPECT_THAT(std::string(w.message()), HasSubstr("'full' was deleted"));
  std::vector<SampledItem> items;
  absl::Status r = reader->Next(&items);
  EXPECT_EQ(r.code(), absl::StatusCode::kCancelled) << r;
  EXPECT_THAT(std::string(r.message()), HasSubstr("'empty' was deleted"));

  // Gone: every call names it unknown; other tables are untouched.
  EXPECT_EQ(client.Info("full").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client.Insert("full", {MakeItem(4.f)}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client.Sample("empty", 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.service().FindTable("kept")->size(), 1);
  auto all = client.Info();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->tables_size(), 1);
  // Its name can be used again, for a new, empty table.
  ASSERT_TRUE(client.CreateTable(UniformTable("full", 5)).ok());
  auto info = client.Info("full");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->tables(0).size(), 0);
  EXPECT_EQ(info->tables(0).config().max_size(), 5);
  EXPECT_EQ(s.Metric("rl_replay_size_items", "empty"), 0.0);
}

TEST(ReplayServiceDeleteTest, DeletingAnUnknownTableIsNotFound) {
  Served s(ReplayConfig(), SmallOptions());
  ASSERT_TRUE(s.ok());
  absl::Status status = s.client().DeleteTable("nope");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr("nope"));
  ASSERT_TRUE(s.client().CreateTable(UniformTable("t", 3)).ok());
  ASSERT_TRUE(s.client().DeleteTable("t").ok());
  EXPECT_EQ(s.client().DeleteTable("t").code(), absl::StatusCode::kNotFound);
}

TEST(ReplayServiceDeleteTest, DeletingATableGivesItsBytesBackToTheServer) {
  ReplayServiceOptions options = SmallOptions();
  options.max_server_bytes = 4 * kBigItemBytes;
  ReplayConfig config;
  *config.add_tables() = QueueTable("a", 100);
  *config.add_tables() = QueueTable("b", 100);
  Served s(config, options);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(s.client().Insert("a", {MakeItem(static_cast<float>(i), kBigFloats)}).ok());
  }
  EXPECT_EQ(s.client().Insert("b", {MakeItem(9.f, kBigFloats)}).status().code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(s.client().DeleteTable("a").ok());
  EXPECT_EQ(s.service().server_bytes()->used(), 0);
  EXPECT_TRUE(s.client().Insert("b", {MakeItem(9.f, kBigFloats)}).ok());
}

// ---- item 8: durable table creation and deletion (in-process restarts) --------------

TEST(ReplayServiceRegistryTest, CreatedAndDeletedTablesSurviveARestartWithoutACheckpoint) {
  const std::string dir = MakeTempDir("replay_registry");
  ReplayConfig config;
  *config.add_tables() = QueueTable("configured", 10);
  *config.add_tables() = UniformTable("also_configured", 10);
  ReplayServiceOptions options = SmallOptions();
  options.checkpoint_dir = dir;
  {
    Served a(config, options);
    ASSERT_TRUE(a.ok());
    TableConfig created = UniformTable("created", 7);
    created.mutable_remover()->mutable_lifo();
    created.set_max_bytes(12345);
    ASSERT_TRUE(a.client().CreateTable(created).ok());
    ASSERT_TRUE(a.client().Insert("created", {MakeItem(1.f)}).ok());
    ASSERT_TRUE(a.client().DeleteTable("configured").ok());
    // No checkpoint is written: the process "dies" here.
  }
  ASSERT_FALSE(FileExists(dir + "/replay.ckpt"));
  Served b(config, options);
  ASSERT_TRUE(b.ok());
  auto created = b.client().Info("created");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->tables(0).size(), 0);  // items only as durable as checkpoints
  EXPECT_EQ(created->tables(0).config().max_size(), 7);
  EXPECT_TRUE(created->tables(0).config().remover().has_lifo());
  EXPECT_EQ(created->tables(0).max_bytes(), 12345);
  // Deleted, even though the configuration lists it.
  EXPECT_EQ(b.client().Info("configured").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(b.client().Info("also_configured").ok());
  // CreateTable brings a deleted name back, durably.
  ASSERT_TRUE(b.client().CreateTable(QueueTable("configured", 3)).ok());
}

TEST(ReplayServiceRegistryTest, CheckpointedItemsComeBackOnlyToTheTableTheyWereIn) {
  const std::string dir = MakeTempDir("replay_registry");
  ReplayServiceOptions options = SmallOptions();
  options.checkpoint_dir = dir;
  {
    Served a(ReplayConfig(), options);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(a.client().CreateTable(QueueTable("kept", 10)).ok());
    ASSERT_TRUE(a.client().CreateTable(QueueTable("recreated", 10)).ok());
    ASSERT_TRUE(a.client().CreateTable(QueueTable("deleted", 10)).ok());
    for (const std::string t : {"kept", "recreated", "deleted"}) {
      ASSERT_TRUE(a.client().Insert(t, {MakeItem(1.f), MakeItem(2.f)}).ok());
    }
    ASSERT_TRUE(a.service().CheckpointNow().ok());
    // After the checkpoint: one deleted, one deleted and created again.
    ASSERT_TRUE(a.client().DeleteTable("deleted").ok());
    ASSERT_TRUE(a.client().DeleteTable("recreated").ok());
    ASSERT_TRUE(a.client().CreateTable(UniformTable("recreated", 4)).ok());
  }
  Served b(ReplayConfig(), options);
  ASSERT_TRUE(b.ok());
  auto kept = b.client().Info("kept");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->tables(0).size(), 2);
  auto recreated = b.client().Info("recreated");
  ASSERT_TRUE(recreated.ok());
  EXPECT_EQ(recreated->tables(0).size(), 0);  // not the old table's items
  EXPECT_EQ(recreated->tables(0).config().max_size(), 4);
  EXPECT_EQ(b.client().Info("deleted").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(b.service().server_bytes()->used(), kept->tables(0).bytes());
}

TEST(ReplayServiceRegistryTest, ACheckpointWithoutARegistryRestoresEveryTable) {
  // A checkpoint directory from before the registry existed.
  const std::string dir = MakeTempDir("replay_registry");
  ReplayServiceOptions options = SmallOptions();
  options.checkpoint_dir = dir;
  ReplayConfig config;
  *config.add_tables() = QueueTable("q", 10);
  {
    Served a(config, options);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(a.client().CreateTable(UniformTable("u", 10)).ok());
    ASSERT_TRUE(a.client().Insert("u", {MakeItem(1.f)}).ok());
    ASSERT_TRUE(a.service().CheckpointNow().ok());
  }
  ASSERT_EQ(::unlink((dir + "/replay_tables.textproto").c_str()), 0);
  Served b(ReplayConfig(), options);
  ASSERT_TRUE(b.ok());
  auto all = b.client().Info();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->tables_size(), 2);
  auto u = b.client().Info("u");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->tables(0).size(), 1);
  EXPECT_TRUE(FileExists(dir + "/replay_tables.textproto"));
}

}  // namespace
}  // namespace rlx
