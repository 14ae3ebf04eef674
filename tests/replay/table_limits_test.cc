// Table limits: removers (which item goes when the table is full), byte
// budgets (per table and per server), and the rate limiter's size rule
// (inserts - deletes) on a real table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/synchronization/notification.h"
#include "replay/byte_budget.h"
#include "replay/table.h"
#include "tests/replay/replay_test_util.h"
#include "tests/replay/table_checkpoint_util.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

// MakeItem(v) (one float32[4] tensor) counts 64 + 16 + 16 bytes.
constexpr int64_t kItemBytes = 96;

std::unique_ptr<Table> MakeTable(const TableConfig& config, TableOptions options = {}) {
  auto t = Table::Create(config, /*seed=*/42, /*metrics=*/nullptr, std::move(options));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

// Items with values first, first+1, ... and the given priorities (1 each by
// default).
std::vector<std::shared_ptr<const Item>> Items(int first, int count,
                                               std::vector<double> priorities = {}) {
  std::vector<std::shared_ptr<const Item>> items;
  for (int i = 0; i < count; ++i) {
    const double p = priorities.empty() ? 1.0 : priorities[static_cast<size_t>(i)];
    items.push_back(std::make_shared<const Item>(
        MakeItem(static_cast<float>(first + i), 4, 0, first + i, p)));
  }
  return items;
}

// The values of the table's items in insertion order (read back from a
// checkpoint, which lists every item without sampling it).
std::vector<float> Contents(const Table& table) {
  std::string buffer;
  {
    google::protobuf::io::StringOutputStream raw(&buffer);
    google::protobuf::io::CodedOutputStream out(&raw);
    EXPECT_TRUE(table.Checkpoint(&out).ok());
  }
  google::protobuf::io::ArrayInputStream raw(buffer.data(), static_cast<int>(buffer.size()));
  google::protobuf::io::CodedInputStream in(&raw);
  uint32_t size = 0;
  EXPECT_TRUE(in.ReadVarint32(&size));
  auto limit = in.PushLimit(static_cast<int>(size));
  TableCheckpointHeader header;
  EXPECT_TRUE(header.ParseFromCodedStream(&in));
  in.PopLimit(limit);
  std::vector<float> values;
  for (int64_t i = 0; i < header.num_items(); ++i) {
    EXPECT_TRUE(in.ReadVarint32(&size));
    limit = in.PushLimit(static_cast<int>(size));
    CheckpointedItem ci;
    EXPECT_TRUE(ci.ParseFromCodedStream(&in));
    in.PopLimit(limit);
    values.push_back(FirstValue(ci.item()));
  }
  return values;
}

// ---- removers ----------------------------------------------------------------

TEST(TableRemoverTest, FifoRemoverIsTheDefaultAndRemovesTheOldest) {
  auto table = MakeTable(UniformTable("t", 3));
  ASSERT_TRUE(table->Insert(Items(0, 5)).ok());
  EXPECT_THAT(Contents(*table), ::testing::ElementsAre(2.f, 3.f, 4.f));
  EXPECT_EQ(table->Info().total_removals(), 2);
}

TEST(TableRemoverTest, LifoRemoverRemovesTheNewestWhenFull) {
  TableConfig c = UniformTable("t", 3);
  c.mutable_remover()->mutable_lifo();
  auto table = MakeTable(c);
  ASSERT_TRUE(table->Insert(Items(0, 3)).ok());
  ASSERT_TRUE(table->Insert(Items(3, 1)).ok());  // removes 2
  ASSERT_TRUE(table->Insert(Items(4, 1)).ok());  // removes 3
  EXPECT_THAT(Contents(*table), ::testing::ElementsAre(0.f, 1.f, 4.f));
}

TEST(TableRemoverTest, LowestPriorityRemoverRemovesTheLowestPriorityAsUpdated) {
  TableConfig c = UniformTable("t", 3);
  c.mutable_remover()->mutable_lowest_priority();
  auto table = MakeTable(c);
  auto keys = table->Insert(Items(0, 3, {5.0, 1.0, 3.0}));
  ASSERT_TRUE(keys.ok());
  ASSERT_TRUE(table->Insert(Items(3, 1, {4.0})).ok());  // removes 1 (priority 1)
  EXPECT_THAT(Contents(*table), ::testing::ElementsAre(0.f, 2.f, 3.f));
  // Item 0 drops to the lowest priority: it goes next.
  ASSERT_TRUE(table->UpdatePriorities({(*keys)[0]}, {0.5}).ok());
  ASSERT_TRUE(table->Insert(Items(4, 1, {9.0})).ok());
  EXPECT_THAT(Contents(*table), ::testing::ElementsAre(2.f, 3.f, 4.f));
  // Equal lowest priorities (3.0): 2 goes for 5, then 5 for 6.
  ASSERT_TRUE(table->Insert(Items(5, 2, {3.0, 3.0})).ok());
  EXPECT_THAT(Contents(*table), ::testing::ElementsAre(3.f, 4.f, 6.f));
}

TEST(TableRemoverTest, UniformRemoverKeepsTheTableAtMaxSizeAndRemovesSomeItem) {
  TableConfig c = UniformTable("t", 10);
  c.mutable_remover()->mutable_uniform();
  auto table = MakeTable(c);
  ASSERT_TRUE(table->Insert(Items(0, 200)).ok());
  EXPECT_EQ(table->size(), 10);
  EXPECT_EQ(table->Info().total_removals(), 190);
  // Neither what FIFO (190..199) nor what LIFO (0..8, 199) would keep.
  const std::vector<float> left = Contents(*table);
  ASSERT_EQ(left.size(), 10u);
  EXPECT_LT(left.front(), 190.f);
  EXPECT_GT(left[8], 8.f);
  EXPECT_EQ(left.back(), 199.f);  // the newest is never removed by its own insert
}

// Reverb's stack: each item sampled once, newest first; a full stack makes
// inserts wait (the remover never runs in a queue table).
TEST(TableRemoverTest, StackTableSamplesNewestFirstAndBlocksInsertsWhenFull) {
  TableConfig c = QueueTable("stack", 3);
  c.mutable_sampler()->mutable_lifo();
  c.mutable_remover()->mutable_lifo();
  auto table = MakeTable(c);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->Insert(Items(0, 3)).ok());
  auto blocked = table->Insert(Items(3, 1), absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kDeadlineExceeded);
  auto r = table->Sample(2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(FirstValue(*(*r)[0].item), 2.f);
  EXPECT_EQ(FirstValue(*(*r)[1].item), 1.f);
  ASSERT_TRUE(table->Insert(Items(3, 1)).ok());
  r = table->Sample(2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(FirstValue(*(*r)[0].item), 3.f);
  EXPECT_EQ(FirstValue(*(*r)[1].item), 0.f);
  EXPECT_EQ(table->size(), 0);
  EXPECT_EQ(table->Info().total_removals(), 4);  // each sampled once, then removed
}

TEST(TableRemoverTest, QueueLimiterAcceptsFifoAndLifoSamplersOnly) {
  for (auto sampler : {SamplerConfig::kUniform, SamplerConfig::kPrioritized}) {
    TableConfig c = QueueTable("q", 10);
    if (sampler == SamplerConfig::kUniform) {
      c.mutable_sampler()->mutable_uniform();
    } else {
      c.mutable_sampler()->mutable_prioritized();
    }
    auto t = Table::Create(c, 1);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(t.status().message()), HasSubstr("fifo sampler"));
  }
  TableConfig lifo = QueueTable("q", 10);
  lifo.mutable_sampler()->mutable_lifo();
  EXPECT_TRUE(Table::Create(lifo, 1).ok());
}

TEST(TableRemoverTest, CheckpointKeepsTheRemover) {
  TableConfig c = UniformTable("t", 3);
  c.mutable_remover()->mutable_lowest_priority();
  auto table = MakeTable(c);
  ASSERT_TRUE(table->Insert(Items(0, 3, {5.0, 1.0, 3.0})).ok());
  const std::string buffer = CheckpointBytes(*table);
  ASSERT_FALSE(buffer.empty());
  auto restored = RestoreTable(buffer);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_TRUE((*restored)->config().remover().has_lowest_priority());
  // The restored remover knows the restored priorities.
  ASSERT_TRUE((*restored)->Insert(Items(3, 1, {4.0})).ok());
  EXPECT_THAT(Contents(**restored), ::testing::ElementsAre(0.f, 2.f, 3.f));
}

// ---- rate limiter on a table ---------------------------------------------------

// The reported hang: samples_per_insert 5, min_size 2, error_buffer 1,
// max_times_sampled 1 stopped at size 1 (inserts 2, samples 1, deletes 1) with
// both inserts and samples waiting forever.
TEST(TableRateLimiterTest, RatioTableTakesInsertsAgainWhenRemovalsDropItBelowMinSize) {
  TableConfig c = UniformTable("t", 100);
  c.set_max_times_sampled(1);
  auto* r = c.mutable_rate_limiter()->mutable_sample_to_insert_ratio();
  r->set_samples_per_insert(5);
  r->set_min_size_to_sample(2);
  r->set_error_buffer(1);
  auto table = MakeTable(c);
  ASSERT_TRUE(table->Insert(Items(0, 2)).ok());
  ASSERT_TRUE(table->Sample(1).ok());
  ASSERT_EQ(table->size(), 1);
  auto more = table->Insert(Items(2, 1), absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(table->size(), 2);
  auto s = table->Sample(1, /*partial=*/false, absl::Now() + absl::Seconds(5));
  EXPECT_TRUE(s.ok()) << s.status();
}

// ---- byte budgets ---------------------------------------------------------------

TEST(TableBytesTest, EvictingTableRemovesItemsToStayWithinMaxBytes) {
  TableConfig c = UniformTable("t", 1000);
  c.set_max_bytes(3 * kItemBytes);
  auto table = MakeTable(c);
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(table->Insert(Items(i, 1)).ok());
  const TableInfo info = table->Info();
  EXPECT_EQ(info.size(), 3);
  EXPECT_EQ(info.bytes(), 3 * kItemBytes);
  EXPECT_EQ(info.max_bytes(), 3 * kItemBytes);
  EXPECT_THAT(Contents(*table), ::testing::ElementsAre(6.f, 7.f, 8.f));
}

TEST(TableBytesTest, ServerDefaultAppliesWhenTheConfigHasNoMaxBytes) {
  TableOptions options;
  options.default_max_bytes = 2 * kItemBytes;
  auto table = MakeTable(UniformTable("t", 1000), options);
  ASSERT_TRUE(table->Insert(Items(0, 2)).ok());
  ASSERT_TRUE(table->Insert(Items(2, 1)).ok());
  EXPECT_EQ(table->size(), 2);
  EXPECT_EQ(table->Info().max_bytes(), 2 * kItemBytes);
  // Its own max_bytes overrides the default.
  TableConfig own = UniformTable("own", 1000);
  own.set_max_bytes(5 * kItemBytes);
  EXPECT_EQ(MakeTable(own, options)->Info().max_bytes(), 5 * kItemBytes);
}

TEST(TableBytesTest, QueueTableMakesTheWriterWaitUntilSamplesMakeRoom) {
  TableConfig c = QueueTable("q", 1000);
  c.set_max_bytes(2 * kItemBytes);
  auto table = MakeTable(c);
  ASSERT_TRUE(table->Insert(Items(0, 2)).ok());
  absl::Notification inserted;
  absl::Status status;
  table->InsertAsync(Items(2, 1), absl::InfiniteFuture(),
                     [&](absl::StatusOr<std::vector<uint64_t>> r) {
                       status = r.status();
                       inserted.Notify();
                     });
  EXPECT_FALSE(inserted.HasBeenNotified());
  EXPECT_EQ(table->Info().rate_limiter().blocked_inserts(), 1);
  EXPECT_FALSE(table->Info().rate_limiter().can_insert());
  auto r = table->Sample(1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FirstValue(*(*r)[0].item), 0.f);  // nothing was evicted
  ASSERT_TRUE(inserted.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_THAT(Contents(*table), ::testing::ElementsAre(1.f, 2.f));
}

TEST(TableBytesTest, AnInsertLargerThanTheTableBudgetIsResourceExhaustedAndStoresNothing) {
  for (bool queue : {false, true}) {
    TableConfig c = queue ? QueueTable("q", 1000) : UniformTable("u", 1000);
    c.set_max_bytes(2 * kItemBytes);
    auto table = MakeTable(c);
    ASSERT_TRUE(table->Insert(Items(0, 1)).ok());
    // One request of three items (each fits alone) can never fit.
    auto r = table->Insert(Items(1, 3), absl::Now() + absl::Seconds(5));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("max_bytes=192"));
    // One item larger than the budget.
    auto big = std::make_shared<const Item>(MakeItem(9.f, /*n=*/100));
    r = table->Insert({big}, absl::Now() + absl::Seconds(5));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
    EXPECT_THAT(Contents(*table), ::testing::ElementsAre(0.f));
    // The table goes on.
    ASSERT_TRUE(table->Insert(Items(5, 1)).ok());
    EXPECT_EQ(table->size(), 2);
  }
}

TEST(TableBytesTest, ServerBudgetRefusesWhatDoesNotFitNamingTheFlag) {
  auto budget = std::make_shared<ByteBudget>(4 * kItemBytes);
  TableOptions options;
  options.server_bytes = budget;
  auto queue = MakeTable(QueueTable("q", 1000), options);
  auto other = MakeTable(QueueTable("other", 1000), options);
  ASSERT_TRUE(queue->Insert(Items(0, 3)).ok());
  EXPECT_EQ(budget->used(), 3 * kItemBytes);
  // Queue tables never evict: 2 more items do not fit the server's 4.
  auto r = other->Insert(Items(3, 2), absl::Now() + absl::Seconds(5));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("--max_server_bytes=384"));
  EXPECT_EQ(other->size(), 0);
  EXPECT_EQ(budget->used(), 3 * kItemBytes);  // nothing kept reserved
  // Larger than the whole server budget.
  r = other->Insert(Items(3, 5), absl::Now() + absl::Seconds(5));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("can never fit"));
  // One fits.
  ASSERT_TRUE(other->Insert(Items(3, 1)).ok());
  EXPECT_EQ(budget->used(), 4 * kItemBytes);
}

TEST(TableBytesTest, EvictingTableMakesRoomInTheServerBudgetFromItsOwnItems) {
  auto budget = std::make_shared<ByteBudget>(4 * kItemBytes);
  TableOptions options;
  options.server_bytes = budget;
  auto queue = MakeTable(QueueTable("q", 1000), options);
  auto uniform = MakeTable(UniformTable("u", 1000), options);
  ASSERT_TRUE(queue->Insert(Items(0, 2)).ok());
  ASSERT_TRUE(uniform->Insert(Items(10, 2)).ok());
  ASSERT_TRUE(uniform->Insert(Items(12, 1)).ok());  // evicts 10 to make room
  EXPECT_THAT(Contents(*uniform), ::testing::ElementsAre(11.f, 12.f));
  EXPECT_EQ(queue->size(), 2);  // never another table's items
  EXPECT_EQ(budget->used(), 4 * kItemBytes);
  // Three items would need the queue's room too: refused before evicting
  // anything, nothing stored.
  auto r = uniform->Insert(Items(13, 3), absl::Now() + absl::Seconds(5));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_EQ(queue->size(), 2);
  EXPECT_THAT(Contents(*uniform), ::testing::ElementsAre(11.f, 12.f));
}

TEST(TableBytesTest, BytesGoBackToTheServerBudgetOnRemovalResetAndDestruction) {
  auto budget = std::make_shared<ByteBudget>(100 * kItemBytes);
  TableOptions options;
  options.server_bytes = budget;
  auto table = MakeTable(QueueTable("q", 1000), options);
  ASSERT_TRUE(table->Insert(Items(0, 5)).ok());
  EXPECT_EQ(budget->used(), 5 * kItemBytes);
  ASSERT_TRUE(table->Sample(2).ok());  // queue items go when sampled
  EXPECT_EQ(budget->used(), 3 * kItemBytes);
  table->Reset();
  EXPECT_EQ(budget->used(), 0);
  ASSERT_TRUE(table->Insert(Items(0, 4)).ok());
  // A waiting insert's reservation is released when it times out.
  TableConfig small = QueueTable("small", 1);
  auto waiting = MakeTable(small, options);
  ASSERT_TRUE(waiting->Insert(Items(0, 1)).ok());
  auto r = waiting->Insert(Items(1, 1), absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(budget->used(), 5 * kItemBytes);
  table.reset();
  waiting.reset();
  EXPECT_EQ(budget->used(), 0);
}

TEST(TableBytesTest, RestoredItemsCountAgainstTheServerBudget) {
  auto table = MakeTable(UniformTable("t", 100));
  ASSERT_TRUE(table->Insert(Items(0, 3)).ok());
  const std::string buffer = CheckpointBytes(*table);
  ASSERT_FALSE(buffer.empty());
  auto budget = std::make_shared<ByteBudget>(2 * kItemBytes);  // smaller than the contents
  TableOptions options;
  options.server_bytes = budget;
  auto restored = RestoreTable(buffer, options);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(budget->used(), 3 * kItemBytes);  // kept, over the budget
  // The next insert evicts (oldest first) until it fits.
  ASSERT_TRUE((*restored)->Insert(Items(3, 1)).ok());
  EXPECT_EQ(budget->used(), 2 * kItemBytes);
  EXPECT_THAT(Contents(**restored), ::testing::ElementsAre(2.f, 3.f));
}

TEST(TableBytesTest, NegativeMaxBytesIsInvalidArgument) {
  TableConfig c = UniformTable("t", 10);
  c.set_max_bytes(-1);
  auto t = Table::Create(c, 1);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("max_bytes"));
}

// ---- closing ----------------------------------------------------------------

TEST(TableCloseTest, CloseWithAReasonEndsWaitingAndLaterCallsWithIt) {
  auto table = MakeTable(QueueTable("q", 1));
  absl::Notification done;
  absl::Status status;
  table->SampleAsync(1, false, absl::InfiniteFuture(),
                     [&](absl::StatusOr<std::vector<SampledEntry>> r) {
                       status = r.status();
                       done.Notify();
                     });
  table->Close(absl::CancelledError("table 'q' was deleted"));
  ASSERT_TRUE(done.HasBeenNotified());
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  auto r = table->Insert(Items(0, 1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("deleted"));
}

}  // namespace
}  // namespace rlx
