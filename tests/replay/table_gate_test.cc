// The group gate (TableConfig.gate.group, replay/gates/group_gate.h): a group
// of trajectories is sampled only once all of it is stored, in arrival
// order, and nothing is lost or duplicated, across checkpoints and through
// the service with many writers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/grpcpp.h"
#include "replay/client.h"
#include "replay/gates/group_gate.h"
#include "replay/replay_service.h"
#include "replay/table.h"
#include "tests/replay/replay_test_util.h"
#include "tests/replay/table_checkpoint_util.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

TableConfig GroupQueue(const std::string& name, int64_t max_size) {
  TableConfig c = QueueTable(name, max_size);
  c.mutable_gate()->mutable_group();
  return c;
}

// Member `index` of group `context` (of `size`); its value encodes both.
std::shared_ptr<const Item> Member(const std::string& context, int size, int index,
                                   float value) {
  Item item = MakeItem(value);
  item.mutable_metadata()->set_context_id(context);
  item.mutable_metadata()->set_group_size(size);
  item.mutable_metadata()->set_step_index(index);
  return std::make_shared<const Item>(std::move(item));
}

std::unique_ptr<Table> MakeTable(const TableConfig& config) {
  auto t = Table::Create(config, /*seed=*/3);
  EXPECT_TRUE(t.ok()) << t.status();
  return std::move(*t);
}

// Whatever can be sampled right now (no waiting).
std::vector<float> SampleNow(Table& table, int64_t max_items = 100) {
  std::vector<float> values;
  auto sampled = table.Sample(max_items, /*partial=*/true, absl::Now() + absl::Milliseconds(20));
  if (!sampled.ok()) return values;
  for (const SampledEntry& e : *sampled) values.push_back(FirstValue(*e.item));
  return values;
}

TEST(GroupGateTest, AGroupIsSampledOnlyWhenCompleteAndInArrivalOrder) {
  auto table = MakeTable(GroupQueue("g", 100));
  // Group a has 3 members, b 2; they arrive interleaved, with an ungrouped
  // item in between that passes straight through.
  ASSERT_TRUE(table->Insert({Member("a", 3, 0, 10), Member("b", 2, 0, 20)}).ok());
  EXPECT_TRUE(SampleNow(*table).empty());
  EXPECT_EQ(table->size(), 2);
  EXPECT_EQ(table->Info().held(), 2);
  ASSERT_TRUE(table->Insert({std::make_shared<const Item>(MakeItem(99))}).ok());
  EXPECT_THAT(SampleNow(*table), ::testing::ElementsAre(99));
  ASSERT_TRUE(table->Insert({Member("a", 3, 1, 11)}).ok());
  EXPECT_TRUE(SampleNow(*table).empty());
  EXPECT_FALSE(table->Info().rate_limiter().can_sample());
  ASSERT_TRUE(table->Insert({Member("b", 2, 1, 21)}).ok());
  EXPECT_THAT(SampleNow(*table), ::testing::ElementsAre(20, 21));
  ASSERT_TRUE(table->Insert({Member("a", 3, 2, 12)}).ok());
  EXPECT_THAT(SampleNow(*table), ::testing::ElementsAre(10, 11, 12));
  EXPECT_EQ(table->size(), 0);
  EXPECT_EQ(table->Info().held(), 0);
}

TEST(GroupGateTest, AWaitingSampleIsServedWhenTheGroupCompletes) {
  auto table = MakeTable(GroupQueue("g", 100));
  ASSERT_TRUE(table->Insert({Member("a", 2, 0, 1)}).ok());
  std::vector<float> got;
  absl::Notification done;
  table->SampleAsync(2, /*partial=*/false, absl::Now() + absl::Seconds(10),
                     [&](absl::StatusOr<std::vector<SampledEntry>> r) {
                       ASSERT_TRUE(r.ok()) << r.status();
                       for (const SampledEntry& e : *r) got.push_back(FirstValue(*e.item));
                       done.Notify();
                     });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(done.HasBeenNotified());
  ASSERT_TRUE(table->Insert({Member("a", 2, 1, 2)}).ok());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_THAT(got, ::testing::ElementsAre(1, 2));
}

TEST(GroupGateTest, HeldMembersSurviveACheckpointAndTheGroupCompletesAfterRestore) {
  auto table = MakeTable(GroupQueue("g", 100));
  ASSERT_TRUE(table->Insert({Member("a", 3, 0, 1), Member("a", 3, 1, 2), Member("b", 1, 0, 7)})
                  .ok());
  const std::string bytes = CheckpointBytes(*table);
  ASSERT_FALSE(bytes.empty());
  auto restored = RestoreTable(bytes);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->size(), 3);
  EXPECT_EQ((*restored)->Info().held(), 2);
  EXPECT_THAT(SampleNow(**restored), ::testing::ElementsAre(7));  // group of one: at once
  ASSERT_TRUE((*restored)->Insert({Member("a", 3, 2, 3)}).ok());
  EXPECT_THAT(SampleNow(**restored), ::testing::ElementsAre(1, 2, 3));
}

TEST(GroupGateTest, GroupsThatCouldNeverBeReleasedAreRefusedNamingTheField) {
  auto table = MakeTable(GroupQueue("g", 4));
  Item too_big = MakeItem(1);
  too_big.mutable_metadata()->set_context_id("x");
  too_big.mutable_metadata()->set_group_size(5);
  absl::Status s = table->ValidateItem(too_big, "items[0]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("items[0].metadata.group_size 5 exceeds the table's max_size 4"));
  Item no_context = MakeItem(1);
  no_context.mutable_metadata()->set_group_size(2);
  s = table->ValidateItem(no_context, "items[1]");
  EXPECT_THAT(std::string(s.message()), HasSubstr("items[1].metadata.context_id must name"));
  Item negative = MakeItem(1);
  negative.mutable_metadata()->set_group_size(-1);
  EXPECT_EQ(table->ValidateItem(negative, "items[2]").code(),
            absl::StatusCode::kInvalidArgument);
  // A table without a gate takes them (it ignores groups).
  auto plain = MakeTable(QueueTable("p", 4));
  EXPECT_TRUE(plain->ValidateItem(too_big, "items[0]").ok());
}

TEST(GroupGateTest, AnEvictedMemberLeavesTheRestHeldUntilEvictedToo) {
  TableConfig config = GroupQueue("u", 3);
  config.mutable_rate_limiter()->mutable_min_size()->set_min_size(1);  // evicts (fifo)
  auto table = MakeTable(config);
  ASSERT_TRUE(table->Insert({Member("a", 3, 0, 1), Member("a", 3, 1, 2)}).ok());
  ASSERT_TRUE(table->Insert({MakeItems(2)}).ok());  // evicts a's first member
  EXPECT_EQ(table->size(), 3);
  EXPECT_EQ(table->Info().held(), 1);
  ASSERT_TRUE(table->Insert({MakeItems(1)}).ok());  // evicts a's second
  EXPECT_EQ(table->Info().held(), 0);
}

// Through the service: 4 writers each send 25 groups of 3 trajectories (each
// member its own request, the groups of all writers interleaved); one
// reader takes everything. Every group comes out whole and in a row, every
// trajectory exactly once.
TEST(GroupGateTest, ThroughTheServiceNothingIsLostDuplicatedOrSplit) {
  ReplayServiceOptions options;
  options.seed = 1;
  auto service = ReplayServiceImpl::Create(ReplayConfig(), options, nullptr);
  ASSERT_TRUE(service.ok()) << service.status();
  grpc::ServerBuilder builder;
  builder.RegisterService(service->get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ReplayClient client(server->InProcessChannel(grpc::ChannelArguments()));
  ASSERT_TRUE(client.CreateTable(GroupQueue("groups", 32)).ok());

  constexpr int kWriters = 4, kGroups = 25, kSize = 3;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      ReplayClient mine(server->InProcessChannel(grpc::ChannelArguments()));
      for (int g = 0; g < kGroups; ++g) {
        for (int m = 0; m < kSize; ++m) {
          Item item = *Member(absl::StrCat("w", w, "g", g), kSize, m,
                              static_cast<float>((w * kGroups + g) * kSize + m));
          ASSERT_TRUE(mine.Insert("groups", {item}).ok());
        }
      }
    });
  }
  std::vector<SampledItem> all;
  auto stream = client.NewSampleStream("groups", /*credit=*/16, /*max_batch=*/16,
                                       /*timeout_ms=*/10000);
  while (all.size() < static_cast<size_t>(kWriters * kGroups * kSize)) {
    std::vector<SampledItem> batch;
    ASSERT_TRUE(stream->Next(&batch).ok());
    for (SampledItem& s : batch) all.push_back(std::move(s));
  }
  for (std::thread& t : writers) t.join();
  std::vector<SampledItem> leftovers;
  (void)stream->Close(&leftovers);
  EXPECT_TRUE(leftovers.empty());

  std::set<float> seen;
  for (size_t i = 0; i < all.size(); i += kSize) {
    // Members of one group, whole and in order.
    const std::string context = all[i].item().metadata().context_id();
    for (int m = 0; m < kSize; ++m) {
      EXPECT_EQ(all[i + m].item().metadata().context_id(), context) << i;
      EXPECT_EQ(all[i + m].item().metadata().step_index(), m) << i;
    }
  }
  for (const SampledItem& s : all) EXPECT_TRUE(seen.insert(FirstValue(s.item())).second);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kWriters * kGroups * kSize));
  auto info = client.Info("groups");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->tables(0).size(), 0);
  EXPECT_EQ(info->tables(0).held(), 0);

  service->get()->Close();
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
}

}  // namespace
}  // namespace rlx
