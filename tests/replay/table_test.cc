#include "replay/table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "tests/replay/replay_test_util.h"
#include "tests/replay/table_checkpoint_util.h"

namespace rlx {
namespace {

std::unique_ptr<Table> MakeTable(const TableConfig& config) {
  auto t = Table::Create(config, /*seed=*/42);
  EXPECT_TRUE(t.ok()) << t.status();
  return std::move(*t);
}

TEST(TableTest, InsertsAndSamplesItems) {
  auto table = MakeTable(UniformTable("t", 100));
  auto keys = table->Insert(MakeItems(5));
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 5u);
  auto sampled = table->Sample(3);
  ASSERT_TRUE(sampled.ok());
  ASSERT_EQ(sampled->size(), 3u);
  for (const auto& s : *sampled) {
    EXPECT_NEAR(s.probability, 0.2, 1e-12);
    EXPECT_EQ(s.table_size, 5);
  }
  EXPECT_EQ(table->Info().total_samples(), 3);
}

TEST(TableTest, RemovesOldestItemWhenMaxSizeReached) {
  TableConfig c = UniformTable("t", 3);
  c.mutable_sampler()->mutable_fifo();
  auto table = MakeTable(c);
  ASSERT_TRUE(table->Insert(MakeItems(5)).ok());
  EXPECT_EQ(table->size(), 3);
  auto s = table->Sample(1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(FirstValue(*(*s)[0].item), 2.f);  // items 0 and 1 were removed
  EXPECT_EQ(table->Info().total_removals(), 2);
}

TEST(TableTest, RemovesItemAfterMaxTimesSampled) {
  TableConfig c = UniformTable("t", 10);
  c.set_max_times_sampled(2);
  auto table = MakeTable(c);
  ASSERT_TRUE(table->Insert(MakeItems(1)).ok());
  ASSERT_TRUE(table->Sample(1).ok());
  EXPECT_EQ(table->size(), 1);
  auto s = table->Sample(1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[0].times_sampled, 2);
  EXPECT_EQ(table->size(), 0);
}

TEST(TableTest, BlocksSamplesUntilMinSizeReached) {
  auto table = MakeTable(UniformTable("t", 100, /*min_size=*/3));
  absl::Notification sampled;
  std::vector<SampledEntry> got;
  table->SampleAsync(1, false, absl::InfiniteFuture(),
                     [&](absl::StatusOr<std::vector<SampledEntry>> r) {
                       ASSERT_TRUE(r.ok());
                       got = *r;
                       sampled.Notify();
                     });
  ASSERT_TRUE(table->Insert(MakeItems(2)).ok());
  EXPECT_FALSE(sampled.HasBeenNotified());
  EXPECT_EQ(table->Info().rate_limiter().blocked_samples(), 1);
  ASSERT_TRUE(table->Insert(MakeItems(1)).ok());
  ASSERT_TRUE(sampled.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(got.size(), 1u);
}

TEST(TableTest, BlockedSampleReportsDeadlineExceeded) {
  auto table = MakeTable(UniformTable("t", 100, /*min_size=*/2));
  const absl::Time start = absl::Now();
  auto r = table->Sample(1, false, absl::Now() + absl::Milliseconds(100));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(90));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(TableTest, PartialSampleReturnsWhatIsAvailable) {
  auto table = MakeTable(QueueTable("q", 10));
  ASSERT_TRUE(table->Insert(MakeItems(3)).ok());
  auto r = table->Sample(8, /*partial=*/true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 3u);
}

TEST(TableTest, TimedOutBatchSampleKeepsItemsItTook) {
  auto table = MakeTable(QueueTable("q", 10));
  ASSERT_TRUE(table->Insert(MakeItems(2)).ok());
  auto r = table->Sample(5, /*partial=*/false, absl::Now() + absl::Milliseconds(50));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 2u);  // queue items are never dropped by a timeout
}

TEST(TableTest, QueueBlocksInsertsWhileFullAndUnblocksOnSample) {
  auto table = MakeTable(QueueTable("q", 2));
  ASSERT_TRUE(table->Insert(MakeItems(2)).ok());
  absl::Notification inserted;
  table->InsertAsync(MakeItems(1, 0, 2), absl::InfiniteFuture(),
                     [&](absl::StatusOr<std::vector<uint64_t>> r) {
                       EXPECT_TRUE(r.ok());
                       inserted.Notify();
                     });
  EXPECT_FALSE(inserted.HasBeenNotified());
  auto r = table->Sample(1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FirstValue(*(*r)[0].item), 0.f);
  ASSERT_TRUE(inserted.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(table->size(), 2);
}

TEST(TableTest, QueueSamplesEachItemOnceInInsertionOrder) {
  auto table = MakeTable(QueueTable("q", 100));
  ASSERT_TRUE(table->Insert(MakeItems(10)).ok());
  auto r = table->Sample(10);
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(FirstValue(*(*r)[i].item), static_cast<float>(i));
  EXPECT_EQ(table->size(), 0);
}

TEST(TableTest, BlockedInsertReportsDeadlineExceeded) {
  auto table = MakeTable(QueueTable("q", 1));
  ASSERT_TRUE(table->Insert(MakeItems(1)).ok());
  auto r = table->Insert(MakeItems(1), absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(table->size(), 1);
}

TEST(TableTest, CancelEndsWaitingOperation) {
  auto table = MakeTable(QueueTable("q", 1));
  absl::Notification done;
  absl::Status status;
  auto id = table->SampleAsync(1, false, absl::InfiniteFuture(),
                               [&](absl::StatusOr<std::vector<SampledEntry>> r) {
                                 status = r.status();
                                 done.Notify();
                               });
  table->Cancel(id);
  ASSERT_TRUE(done.HasBeenNotified());
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
}

TEST(TableTest, CancelHandsOverItemsABatchSampleAlreadyTook) {
  auto table = MakeTable(QueueTable("q", 10));
  ASSERT_TRUE(table->Insert(MakeItems(2)).ok());
  absl::Notification done;
  size_t got = 0;
  auto id = table->SampleAsync(5, /*partial=*/false, absl::InfiniteFuture(),
                               [&](absl::StatusOr<std::vector<SampledEntry>> r) {
                                 ASSERT_TRUE(r.ok());
                                 got = r->size();
                                 done.Notify();
                               });
  table->Cancel(id);
  ASSERT_TRUE(done.HasBeenNotified());
  EXPECT_EQ(got, 2u);
}

TEST(TableTest, CloseFailsWaitingOperationsWithUnavailable) {
  auto table = MakeTable(QueueTable("q", 1));
  absl::Notification done;
  absl::Status status;
  table->SampleAsync(1, false, absl::InfiniteFuture(),
                     [&](absl::StatusOr<std::vector<SampledEntry>> r) {
                       status = r.status();
                       done.Notify();
                     });
  table->Close();
  ASSERT_TRUE(done.HasBeenNotified());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(table->Insert(MakeItems(1)).status().code(), absl::StatusCode::kUnavailable);
}

TEST(TableTest, UpdatePrioritiesChangesSampling) {
  TableConfig c = UniformTable("p", 10);
  c.mutable_sampler()->mutable_prioritized()->set_priority_exponent(1.0);
  auto table = MakeTable(c);
  auto keys = table->Insert(MakeItems(2));
  ASSERT_TRUE(keys.ok());
  auto missing = table->UpdatePriorities({(*keys)[0], (*keys)[1], 999}, {0.0, 5.0, 1.0});
  ASSERT_TRUE(missing.ok());
  EXPECT_THAT(*missing, ::testing::ElementsAre(999));
  for (int i = 0; i < 20; ++i) {
    auto s = table->Sample(1);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)[0].key, (*keys)[1]);
  }
  EXPECT_EQ(table->UpdatePriorities({(*keys)[0]}, {std::nan("")}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TableTest, ValidateItemRejectsNanPriorityAndMissingReturn) {
  auto table = MakeTable(UniformTable("t", 10));
  Item bad = MakeItem(1.f);
  bad.set_priority(std::nan(""));
  absl::Status s = table->ValidateItem(bad, "items[0]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("items[0].priority"));

  TableConfig rc = UniformTable("r", 10);
  rc.mutable_sampler()->mutable_return_weighted()->set_temperature(1.0);
  auto rtable = MakeTable(rc);
  s = rtable->ValidateItem(MakeItem(1.f), "items[1]");
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("items[1].metadata.episode_return"));
}

TEST(TableTest, RejectsBadConfigs) {
  TableConfig c = QueueTable("q", 10);
  c.mutable_sampler()->mutable_uniform();
  EXPECT_EQ(Table::Create(c, 1).status().code(), absl::StatusCode::kInvalidArgument);
  TableConfig z = UniformTable("z", 0);
  EXPECT_THAT(std::string(Table::Create(z, 1).status().message()),
              ::testing::HasSubstr("max_size"));
}

TEST(TableTest, ResetRemovesEverything) {
  auto table = MakeTable(UniformTable("t", 10));
  ASSERT_TRUE(table->Insert(MakeItems(4)).ok());
  table->Reset();
  EXPECT_EQ(table->size(), 0);
  EXPECT_EQ(table->Info().total_inserts(), 0);
}

TEST(TableTest, CheckpointRestoresItemsPrioritiesAndSampleCounts) {
  TableConfig c = UniformTable("p", 100);
  c.mutable_sampler()->mutable_prioritized()->set_priority_exponent(1.0);
  auto table = MakeTable(c);
  auto keys = table->Insert(MakeItems(10));
  ASSERT_TRUE(keys.ok());
  ASSERT_TRUE(table->UpdatePriorities({(*keys)[3]}, {7.5}).ok());
  ASSERT_TRUE(table->Sample(4).ok());
  const std::string buffer = CheckpointBytes(*table);
  ASSERT_FALSE(buffer.empty());
  auto restored = RestoreTable(buffer);
  ASSERT_TRUE(restored.ok()) << restored.status();
  const TableInfo a = table->Info(), b = (*restored)->Info();
  EXPECT_EQ(b.size(), 10);
  EXPECT_EQ(b.total_inserts(), a.total_inserts());
  EXPECT_EQ(b.total_samples(), a.total_samples());
  EXPECT_EQ(b.bytes(), a.bytes());
  // Same keys, priorities and sample counts: compare by sampling with priority 0 elsewhere.
  ASSERT_TRUE((*restored)->UpdatePriorities(*keys, std::vector<double>(10, 0.0)).ok());
  ASSERT_TRUE((*restored)->UpdatePriorities({(*keys)[3]}, {1.0}).ok());
  auto s = (*restored)->Sample(1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[0].key, (*keys)[3]);
  EXPECT_EQ(FirstValue(*(*s)[0].item), 3.f);
  // Restored keys continue after the old ones.
  auto more = (*restored)->Insert(MakeItems(1));
  ASSERT_TRUE(more.ok());
  EXPECT_GT((*more)[0], keys->back());
}

// A checkpoint stream written by hand: a header, then one CheckpointedItem per
// key (as Table::Checkpoint writes them).
std::string CraftedCheckpoint(const TableConfig& config, const std::vector<uint64_t>& keys,
                              uint64_t next_key) {
  std::string buffer;
  google::protobuf::io::StringOutputStream raw(&buffer);
  google::protobuf::io::CodedOutputStream out(&raw);
  TableCheckpointHeader header;
  *header.mutable_config() = config;
  header.set_num_items(static_cast<int64_t>(keys.size()));
  header.set_inserts(static_cast<int64_t>(keys.size()));
  header.set_next_key(next_key);
  out.WriteVarint32(static_cast<uint32_t>(header.ByteSizeLong()));
  header.SerializeWithCachedSizes(&out);
  for (uint64_t key : keys) {
    CheckpointedItem ci;
    ci.set_key(key);
    *ci.mutable_item() = MakeItem(static_cast<float>(key));
    ci.set_priority(1.0);
    out.WriteVarint32(static_cast<uint32_t>(ci.ByteSizeLong()));
    ci.SerializeWithCachedSizes(&out);
  }
  out.Trim();
  return buffer;
}

absl::StatusOr<std::unique_ptr<Table>> RestoreFrom(const std::string& buffer) {
  return RestoreTable(buffer);
}

TEST(TableTest, RestoreRejectsKeysThatAreNotStrictlyIncreasing) {
  const TableConfig c = UniformTable("u", 100);
  ASSERT_TRUE(RestoreFrom(CraftedCheckpoint(c, {1, 2, 5}, 6)).ok());
  for (const std::vector<uint64_t>& keys :
       std::vector<std::vector<uint64_t>>{{1, 5, 3}, {1, 4, 4}, {0, 2}}) {
    auto restored = RestoreFrom(CraftedCheckpoint(c, keys, 10));
    EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  }
  auto restored = RestoreFrom(CraftedCheckpoint(c, {1, 5, 3}, 10));
  EXPECT_THAT(std::string(restored.status().message()),
              ::testing::HasSubstr("key 3 is not greater than the previous key 5"));
  // Rows that share a restore chunk (256 items) and rows of different chunks alike.
  std::vector<uint64_t> many;
  for (uint64_t k = 1; k <= 300; ++k) many.push_back(k);
  many[280] = 100;
  EXPECT_EQ(RestoreFrom(CraftedCheckpoint(c, many, 1000)).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(TableTest, RestoreNeverReusesAKeyWhenTheHeaderIsBehind) {
  // next_key 2 in the header, but key 9 is stored: new keys start at 10.
  auto restored = RestoreFrom(CraftedCheckpoint(UniformTable("u", 100), {3, 9}, 2));
  ASSERT_TRUE(restored.ok()) << restored.status();
  auto keys = (*restored)->Insert(MakeItems(2));
  ASSERT_TRUE(keys.ok());
  EXPECT_THAT(*keys, ::testing::ElementsAre(10u, 11u));
  // Every key is still found (the binary search over insertion order holds).
  auto missing = (*restored)->UpdatePriorities({3, 9, 10, 11}, {1, 1, 1, 1});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
}

TEST(TableTest, FastSamplePathRecordsTheSamplesItTook) {
  // A ratio limiter lets 10 samples go; a sample of 25 takes them (partial) and
  // the limiter counts exactly those.
  TableConfig c = UniformTable("u", 100);
  auto* ratio = c.mutable_rate_limiter()->mutable_sample_to_insert_ratio();
  ratio->set_samples_per_insert(1.0);
  ratio->set_min_size_to_sample(1);
  ratio->set_error_buffer(10.0);
  auto table = MakeTable(c);
  ASSERT_TRUE(table->Insert(MakeItems(10)).ok());
  auto taken = table->Sample(25, /*partial=*/true);
  ASSERT_TRUE(taken.ok()) << taken.status();
  const TableInfo info = table->Info();
  EXPECT_EQ(info.total_samples(), static_cast<int64_t>(taken->size()));
  EXPECT_EQ(info.rate_limiter().samples(), static_cast<int64_t>(taken->size()));
  EXPECT_GT(taken->size(), 0u);
  EXPECT_LT(taken->size(), 25u);
}

TEST(TableTest, ChunksOfManyDistinctSignaturesStayApartAndSameOnesMatch) {
  // More distinct signatures than the old interning table held (4096): every
  // pair is still told apart, and equal signatures in different chunks match.
  std::vector<ItemBatch> batches(5000);
  std::vector<ChunkPtr> chunks;
  for (size_t i = 0; i < batches.size(); ++i) {
    ItemBatch& b = batches[i];
    b.set_num_rows(1);
    b.set_job_id(absl::StrCat("job", i));
    TensorColumn* col = b.add_columns();
    col->set_name("x");
    col->set_dtype(DTYPE_FLOAT32);
    col->set_data(std::string(4, '\0'));
    chunks.push_back(Chunk::FromBatch(nullptr, &b));
  }
  for (size_t i = 1; i < chunks.size(); ++i) {
    ASSERT_FALSE(Chunk::SameSignature(*chunks[i - 1], 0, *chunks[i], 0)) << i;
  }
  ItemBatch copy = batches[4500];
  ChunkPtr same = Chunk::FromBatch(nullptr, &copy);
  EXPECT_TRUE(Chunk::SameSignature(*chunks[4500], 0, *same, 0));
  copy.mutable_columns(0)->add_shape(1);  // same bytes, different shape
  copy.mutable_columns(0)->set_data(std::string(4, '\0'));
  ChunkPtr shaped = Chunk::FromBatch(nullptr, &copy);
  EXPECT_FALSE(Chunk::SameSignature(*chunks[4500], 0, *shaped, 0));
  // A batch row and the Item it stands for have the same signature.
  Item item;
  item.mutable_metadata()->set_job_id("job7");
  NamedTensor* t = item.add_tensors();
  t->set_name("x");
  t->mutable_tensor()->set_dtype(DTYPE_FLOAT32);
  t->mutable_tensor()->set_data(std::string(4, '\0'));
  ChunkPtr items = Chunk::FromItems(nullptr, {&item});
  EXPECT_TRUE(Chunk::SameSignature(*chunks[7], 0, *items, 0));
  EXPECT_FALSE(Chunk::SameSignature(*chunks[8], 0, *items, 0));
}

TEST(TableStressTest, QueueModeLosesAndDuplicatesNothingWithFourWritersAndFourSamplers) {
  auto table = MakeTable(QueueTable("q", 64));
  constexpr int kWriters = 4, kSamplers = 4, kPerWriter = 5000;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; i += 10) {
        ASSERT_TRUE(table->Insert(MakeItems(10, w, i), absl::Now() + absl::Seconds(30)).ok());
      }
    });
  }
  absl::Mutex mu;
  std::vector<std::vector<int64_t>> seen(kWriters);  // per writer, in sampling order
  std::atomic<int> total{0};
  for (int s = 0; s < kSamplers; ++s) {
    threads.emplace_back([&] {
      while (total.load() < kWriters * kPerWriter) {
        auto r = table->Sample(7, /*partial=*/true, absl::Now() + absl::Milliseconds(200));
        if (!r.ok()) continue;
        absl::MutexLock lock(&mu);
        for (const auto& e : *r) {
          seen[e.item->metadata().actor_id()].push_back(e.item->metadata().step_index());
        }
        total += static_cast<int>(r->size());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(total.load(), kWriters * kPerWriter);
  for (int w = 0; w < kWriters; ++w) {
    std::set<int64_t> unique(seen[w].begin(), seen[w].end());
    EXPECT_EQ(unique.size(), static_cast<size_t>(kPerWriter)) << "writer " << w;
    EXPECT_EQ(seen[w].size(), static_cast<size_t>(kPerWriter)) << "writer " << w;
  }
  EXPECT_EQ(table->size(), 0);
}

}  // namespace
}  // namespace rlx
