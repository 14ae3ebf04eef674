#include "replay/replay_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "core/server.h"
#include "replay/client.h"
#include "tests/replay/replay_test_util.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

// Threads that spin on the CPU until destroyed: load that makes the
// scheduler preempt the server's callback threads at arbitrary points.
class CpuBurners {
 public:
  explicit CpuBurners(int n) {
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        while (!stop_.load(std::memory_order_relaxed)) {
        }
      });
    }
  }
  ~CpuBurners() {
    stop_.store(true);
    for (std::thread& t : threads_) t.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

class ReplayServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ReplayConfig config;
    *config.add_tables() = UniformTable("uniform", 1000);
    *config.add_tables() = QueueTable("queue", 100);
    ReplayServiceOptions options;
    options.max_item_bytes = 1024;
    options.seed = 1;
    registry_ = std::make_shared<prometheus::Registry>();
    auto service = ReplayServiceImpl::Create(config, options, registry_.get());
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = std::move(*service);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    client_ = std::make_unique<ReplayClient>(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override {
    service_->Close();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  }

  // Inserts one item and checks the server still serves: used after bad input.
  void ExpectStillServing() {
    auto keys = client_->Insert("uniform", {MakeItem(9.f)});
    ASSERT_TRUE(keys.ok()) << keys.status();
    auto sampled = client_->Sample("uniform", 1);
    ASSERT_TRUE(sampled.ok()) << sampled.status();
    EXPECT_EQ(sampled->size(), 1u);
  }

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ReplayServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<ReplayClient> client_;
};

TEST_F(ReplayServiceTest, InsertThenSampleOverTheWire) {
  auto keys = client_->Insert("queue", {MakeItem(1.f), MakeItem(2.f), MakeItem(3.f)});
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 3u);
  auto items = client_->Sample("queue", 3);
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ(FirstValue((*items)[0].item()), 1.f);
  EXPECT_EQ(FirstValue((*items)[2].item()), 3.f);
  EXPECT_EQ((*items)[0].key(), (*keys)[0]);
}

TEST_F(ReplayServiceTest, StreamsAcknowledgeEveryRequestInOrder) {
  auto stream = client_->NewInsertStream(/*max_in_flight=*/4, /*keep_keys=*/true);
  for (int i = 0; i < 50; ++i) {
    InsertRequest r;
    r.set_table("queue");
    *r.add_items() = MakeItem(static_cast<float>(i));
    ASSERT_TRUE(stream->Send(r).ok());
    if (i % 10 == 9) {
      // Drain so the queue (max 100) never fills.
      auto s = client_->Sample("queue", 10);
      ASSERT_TRUE(s.ok());
      for (int j = 0; j < 10; ++j) EXPECT_EQ(FirstValue((*s)[j].item()), i - 9 + j);
    }
  }
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(stream->acknowledged(), 50);
  auto keys = stream->TakeKeys();
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
}

TEST_F(ReplayServiceTest, SampleStreamDeliversCreditedItems) {
  ASSERT_TRUE(client_->Insert("uniform", {MakeItem(1.f), MakeItem(2.f)}).ok());
  auto stream = client_->NewSampleStream("uniform", /*credit=*/64, /*max_batch=*/16);
  int received = 0;
  std::vector<SampledItem> batch;
  while (received < 100) {
    ASSERT_TRUE(stream->Next(&batch).ok());
    EXPECT_LE(batch.size(), 16u);
    received += static_cast<int>(batch.size());
  }
}

TEST_F(ReplayServiceTest, SampleTimeoutEndsStreamWithDeadlineExceeded) {
  auto stream = client_->NewSampleStream("queue", 1, 1, /*timeout_ms=*/100);
  std::vector<SampledItem> batch;
  absl::Status s = stream->Next(&batch);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
}

TEST_F(ReplayServiceTest, ClosingASampleStreamLosesNoQueueItems) {
  ASSERT_TRUE(client_->Insert("queue", {MakeItem(1.f), MakeItem(2.f), MakeItem(3.f)}).ok());
  // A batch sample of 8 takes the 3 items and waits for more.
  auto stream = client_->NewSampleStream("queue", /*credit=*/8, /*max_batch=*/8,
                                         /*timeout_ms=*/0, /*partial_batches=*/false);
  ASSERT_TRUE(WaitFor([&] { return service_->FindTable("queue")->size() == 0; },
                      absl::Seconds(5)));
  std::vector<SampledItem> leftovers;
  ASSERT_TRUE(stream->Close(&leftovers).ok());
  ASSERT_EQ(leftovers.size(), 3u);
  EXPECT_EQ(FirstValue(leftovers[2].item()), 3.f);
  // Later inserts go to later readers, not to the closed stream.
  ASSERT_TRUE(client_->Insert("queue", {MakeItem(4.f)}).ok());
  auto items = client_->Sample("queue", 1);
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(FirstValue((*items)[0].item()), 4.f);
}

// The client's half-close (Close) races the sample it started: the sample
// may be parked in the table holding items when the half-close arrives, or
// still being started. Whatever the interleaving, Close returns and every
// item is delivered exactly once (to the closing stream or a later reader).
// CPU burners make the server's callback threads lose the CPU at random
// points; each Close is bounded so a lost wake-up fails instead of hanging.
TEST_F(ReplayServiceTest, ClosingSampleStreamsWhileSamplesAreParkedLosesNoItemsUnderCpuLoad) {
  CpuBurners burners(2);
  constexpr int kRounds = 500;
  constexpr int kItemsPerRound = 3;
  std::multiset<float> received;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Item> items;
    for (int j = 0; j < kItemsPerRound; ++j) {
      items.push_back(MakeItem(static_cast<float>(round * kItemsPerRound + j)));
    }
    // Half the rounds insert before the stream opens (the first sample takes
    // the items at once and parks for more), half after (the sample parks
    // empty, then takes them).
    const bool insert_first = round % 2 == 0;
    if (insert_first) {
      ASSERT_TRUE(client_->Insert("queue", items).ok());
    }
    // A batch sample of 8 can never fill from 3 items: it stays parked.
    auto stream = client_->NewSampleStream("queue", /*credit=*/8, /*max_batch=*/8,
                                           /*timeout_ms=*/0, /*partial_batches=*/false);
    if (!insert_first) {
      ASSERT_TRUE(client_->Insert("queue", items).ok());
    }
    std::vector<SampledItem> leftovers;
    absl::Status closed;
    absl::Notification close_returned;
    std::thread closer([&] {
      closed = stream->Close(&leftovers);
      close_returned.Notify();
    });
    const bool in_time = close_returned.WaitForNotificationWithTimeout(absl::Seconds(10));
    if (!in_time) stream->Cancel();  // unblock the closer so the test can end
    closer.join();
    ASSERT_TRUE(in_time) << "SampleStream::Close hung in round " << round;
    ASSERT_TRUE(closed.ok()) << closed << " in round " << round;
    for (const SampledItem& s : leftovers) received.insert(FirstValue(s.item()));
    // What the closed stream did not take is still in the queue (the call
    // has ended, so no sample of it is pending any more).
    const int64_t left = service_->FindTable("queue")->size();
    if (left > 0) {
      auto rest = client_->Sample("queue", left);
      ASSERT_TRUE(rest.ok()) << rest.status();
      for (const SampledItem& s : *rest) received.insert(FirstValue(s.item()));
    }
  }
  ASSERT_EQ(received.size(), static_cast<size_t>(kRounds * kItemsPerRound));
  std::multiset<float> expected;
  for (int i = 0; i < kRounds * kItemsPerRound; ++i) expected.insert(static_cast<float>(i));
  EXPECT_EQ(received, expected);
}

TEST_F(ReplayServiceTest, UnknownTableIsNotFound) {
  auto r = client_->Insert("nope", {MakeItem(1.f)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("nope"));
  EXPECT_EQ(client_->Sample("nope", 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->Info("nope").status().code(), absl::StatusCode::kNotFound);
  ExpectStillServing();
}

TEST_F(ReplayServiceTest, UnknownDtypeIsInvalidArgumentNamingTheField) {
  Item bad = MakeItem(1.f);
  bad.mutable_tensors(0)->mutable_tensor()->set_dtype(static_cast<DType>(99));
  auto r = client_->Insert("uniform", {MakeItem(1.f), bad});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("items[1].tensors[0].dtype"));
  // Nothing of the bad request was stored.
  EXPECT_EQ(service_->FindTable("uniform")->size(), 0);
  ExpectStillServing();
}

TEST_F(ReplayServiceTest, ShapeBytesMismatchIsInvalidArgument) {
  Item bad = MakeItem(1.f);
  bad.mutable_tensors(0)->mutable_tensor()->set_shape(0, 5);
  auto r = client_->Insert("uniform", {bad});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("items[0].tensors[0].data"));
  ExpectStillServing();
}

TEST_F(ReplayServiceTest, OversizeItemIsInvalidArgument) {
  auto r = client_->Insert("uniform", {MakeItem(1.f, /*n=*/1000)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("exceeds"));
  ExpectStillServing();
}

TEST_F(ReplayServiceTest, NanPriorityIsInvalidArgument) {
  Item bad = MakeItem(1.f);
  bad.set_priority(std::nan(""));
  auto r = client_->Insert("uniform", {bad});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("items[0].priority"));
  ExpectStillServing();
}

TEST_F(ReplayServiceTest, BadRequestLeavesEarlierAcknowledgedDataAndOtherStreamsAlone) {
  ASSERT_TRUE(client_->Insert("queue", {MakeItem(1.f), MakeItem(2.f)}).ok());
  auto other = client_->NewInsertStream(2, true);
  InsertRequest good;
  good.set_table("queue");
  *good.add_items() = MakeItem(3.f);
  ASSERT_TRUE(other->Send(good).ok());
  ASSERT_TRUE(other->Flush().ok());

  auto stream = client_->NewInsertStream(1, true);
  ASSERT_TRUE(stream->Send(good).ok());
  ASSERT_TRUE(stream->Flush().ok());
  InsertRequest bad = good;
  bad.mutable_items(0)->mutable_tensors(0)->mutable_tensor()->set_dtype(DTYPE_INVALID);
  (void)stream->Send(bad);
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kInvalidArgument);

  // The other stream still works, and the four acknowledged items are there.
  ASSERT_TRUE(other->Send(good).ok());
  ASSERT_TRUE(other->Finish().ok());
  auto items = client_->Sample("queue", 5);
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(items->size(), 5u);
}

TEST_F(ReplayServiceTest, InfoReportsSizesAndLimiterState) {
  ASSERT_TRUE(client_->Insert("queue", {MakeItem(1.f), MakeItem(2.f)}).ok());
  auto info = client_->Info("queue");
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->tables_size(), 1);
  EXPECT_EQ(info->tables(0).size(), 2);
  EXPECT_EQ(info->tables(0).total_inserts(), 2);
  EXPECT_GT(info->tables(0).bytes(), 0);
  EXPECT_TRUE(info->tables(0).rate_limiter().can_sample());
  auto all = client_->Info();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->tables_size(), 2);
}

TEST_F(ReplayServiceTest, CreateTableValidatesAndRejectsDuplicates) {
  TableConfig ok = UniformTable("new", 10);
  EXPECT_TRUE(client_->CreateTable(ok).ok());
  EXPECT_EQ(client_->CreateTable(ok).code(), absl::StatusCode::kAlreadyExists);
  TableConfig bad = UniformTable("bad", -1);
  absl::Status s = client_->CreateTable(bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("max_size"));
}

TEST_F(ReplayServiceTest, UpdatePrioritiesAndResetWork) {
  auto keys = client_->Insert("uniform", {MakeItem(1.f)});
  ASSERT_TRUE(keys.ok());
  auto missing = client_->UpdatePriorities("uniform", {(*keys)[0], 12345}, {2.0, 1.0});
  ASSERT_TRUE(missing.ok());
  EXPECT_THAT(*missing, ::testing::ElementsAre(12345));
  EXPECT_EQ(client_->UpdatePriorities("uniform", {(*keys)[0]}, {-1.0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(client_->Reset("uniform").ok());
  EXPECT_EQ(service_->FindTable("uniform")->size(), 0);
}

TEST_F(ReplayServiceTest, CheckpointWithoutDirectoryIsFailedPrecondition) {
  EXPECT_EQ(client_->Checkpoint().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ReplayServiceTest, ExportsPerTableMetrics) {
  ASSERT_TRUE(client_->Insert("queue", {MakeItem(1.f), MakeItem(2.f)}).ok());
  ASSERT_TRUE(client_->Sample("queue", 1).ok());
  bool found_inserts = false;
  for (const auto& family : registry_->Collect()) {
    if (family.name == "rl_replay_inserts_total") {
      for (const auto& m : family.metric) {
        for (const auto& l : m.label) {
          if (l.value == "queue") {
            EXPECT_EQ(m.counter.value, 2);
            found_inserts = true;
          }
        }
      }
    }
  }
  EXPECT_TRUE(found_inserts);
}

}  // namespace
}  // namespace rlx
