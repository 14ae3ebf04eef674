// The columnar wire format (ItemBatch / SampledBatch) through the service over
// an in-process channel: round trips, mixing with per-item messages,
// validation of every bad-input case, checkpoints, and a queue stress.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "replay/client.h"
#include "replay/item_batch.h"
#include "replay/replay_service.h"
#include "tests/replay/replay_test_util.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

// An item with a float32[3] "obs" and an int32 scalar "action"; every metadata
// field depends on i (row 3k has no episode return).
Item RowItem(int i) {
  Item item;
  NamedTensor* obs = item.add_tensors();
  obs->set_name("obs");
  *obs->mutable_tensor() = FloatTensor({1.f * i, -2.f * i, 0.5f});
  NamedTensor* action = item.add_tensors();
  action->set_name("action");
  action->mutable_tensor()->set_dtype(DTYPE_INT32);
  const int32_t a = 7 * i;
  action->mutable_tensor()->set_data(std::string(reinterpret_cast<const char*>(&a), 4));
  ItemMetadata* m = item.mutable_metadata();
  m->set_job_id("job");
  m->set_actor_id(i % 4);
  m->set_episode_id(i / 10);
  m->set_step_index(i);
  m->set_policy_version(100 + i);
  if (i % 3 != 0) m->set_episode_return(1.5 * i);
  m->set_num_steps(1);
  m->set_context_id(absl::StrCat("c", i % 2));
  m->set_group_size(2);
  m->set_agent_id(i % 5);
  item.set_priority(1.0 + i);
  return item;
}

std::vector<Item> RowItems(int first, int n) {
  std::vector<Item> items;
  for (int i = first; i < first + n; ++i) items.push_back(RowItem(i));
  return items;
}

ItemBatch BatchOf(const std::vector<Item>& items) {
  InsertRequest request;
  EXPECT_TRUE(AppendItemsAsBatches(items, &request).ok());
  EXPECT_EQ(request.batches_size(), 1);
  return request.batches(0);
}

float ObsValue(const Item& item) {
  float v;
  std::memcpy(&v, item.tensors(0).tensor().data().data(), 4);
  return v;
}

class ReplayBatchServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("replay_batch");
    Start();
  }
  void TearDown() override { Stop(); }

  void Start() {
    ReplayConfig config;
    *config.add_tables() = UniformTable("uniform", 1000);
    *config.add_tables() = QueueTable("queue", 1000);
    TableConfig prio = UniformTable("prio", 1000);
    prio.mutable_sampler()->mutable_prioritized()->set_priority_exponent(1.0);
    *config.add_tables() = prio;
    TableConfig ret = UniformTable("ret", 1000);
    ret.mutable_sampler()->mutable_return_weighted()->set_temperature(1.0);
    *config.add_tables() = ret;
    ReplayServiceOptions options;
    options.max_item_bytes = 1024;
    options.max_batch_rows = max_batch_rows_;
    options.seed = 1;
    options.checkpoint_dir = dir_;
    auto service = ReplayServiceImpl::Create(config, options, nullptr);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = std::move(*service);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    client_ = std::make_unique<ReplayClient>(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void Stop() {
    client_.reset();
    service_->Close();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    server_.reset();
    service_.reset();
  }

  // A bad request: its status, and nothing of it stored.
  absl::Status InsertBad(const std::string& table, std::vector<ItemBatch> batches) {
    const int64_t before = service_->FindTable(table)->size();
    auto r = client_->InsertBatches(table, std::move(batches));
    EXPECT_EQ(service_->FindTable(table)->size(), before);
    return r.status();
  }
  void ExpectStillServing() {
    auto keys = client_->InsertBatches("uniform", {BatchOf(RowItems(0, 2))});
    ASSERT_TRUE(keys.ok()) << keys.status();
    auto sampled = client_->SampleBatches("uniform", 3);
    ASSERT_TRUE(sampled.ok()) << sampled.status();
  }

  int64_t max_batch_rows_ = ReplayServiceOptions().max_batch_rows;
  std::string dir_;
  std::unique_ptr<ReplayServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<ReplayClient> client_;
};

TEST_F(ReplayBatchServiceTest, InsertedBatchComesBackAsSampledBatchWithEveryField) {
  const std::vector<Item> items = RowItems(0, 40);
  auto keys = client_->InsertBatches("queue", {BatchOf(items)});
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 40u);
  EXPECT_TRUE(std::is_sorted(keys->begin(), keys->end()));
  auto batches = client_->SampleBatches("queue", 40);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 1u);  // max_batch 256, one signature
  const SampledBatch& sampled = (*batches)[0];
  auto reader = ItemBatchReader::Create(sampled.items());
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_EQ(reader->num_rows(), 40);
  for (int r = 0; r < 40; ++r) {
    EXPECT_EQ(reader->ToItem(r).SerializeAsString(), items[r].SerializeAsString()) << "row " << r;
    EXPECT_EQ(sampled.keys(r), (*keys)[r]);
    EXPECT_EQ(sampled.probabilities(r), 1.0);
    EXPECT_EQ(sampled.weights(r), 1.0);
    EXPECT_EQ(sampled.times_sampled(r), 1);
  }
  EXPECT_EQ(service_->FindTable("queue")->size(), 0);
}

TEST_F(ReplayBatchServiceTest, ItemsAndBatchesMixInBothDirectionsInOrder) {
  // One request: two items, then a batch of three rows; then a request with
  // only items. Keys and queue order follow items-then-batches.
  InsertRequest request;
  request.set_table("queue");
  *request.add_items() = RowItem(0);
  *request.add_items() = RowItem(1);
  *request.add_batches() = BatchOf(RowItems(2, 3));
  auto stream = client_->NewInsertStream(4, /*keep_keys=*/true);
  ASSERT_TRUE(stream->Send(request).ok());
  InsertRequest more;
  more.set_table("queue");
  *more.add_items() = RowItem(5);
  *more.add_batches() = BatchOf(RowItems(6, 2));
  ASSERT_TRUE(stream->Send(more).ok());
  ASSERT_TRUE(stream->Finish().ok());
  const std::vector<uint64_t> keys = stream->TakeKeys();
  ASSERT_EQ(keys.size(), 8u);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));

  // Per-item sampling sees batch rows as Items; batch sampling sees items as rows.
  auto first = client_->Sample("queue", 4);
  ASSERT_TRUE(first.ok()) << first.status();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ((*first)[i].item().SerializeAsString(), RowItem(i).SerializeAsString());
    EXPECT_EQ((*first)[i].key(), keys[i]);
  }
  auto rest = client_->SampleBatches("queue", 4);
  ASSERT_TRUE(rest.ok()) << rest.status();
  std::vector<SampledItem> rows;
  SampleResponse response;
  for (const SampledBatch& b : *rest) *response.add_batches() = b;
  ASSERT_TRUE(AppendSampledItems(response, &rows).ok());
  ASSERT_EQ(rows.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(rows[i].item().SerializeAsString(), RowItem(4 + i).SerializeAsString());
    EXPECT_EQ(rows[i].key(), keys[4 + i]);
  }
}

TEST_F(ReplayBatchServiceTest, SampledBatchesSplitWhereTheSignatureChanges) {
  // Rows of two signatures, alternating in runs: RowItem (obs, action) and
  // MakeItem (x).
  ASSERT_TRUE(client_->InsertBatches("queue", {BatchOf(RowItems(0, 3))}).ok());
  ASSERT_TRUE(client_->Insert("queue", {MakeItem(1.f), MakeItem(2.f)}).ok());
  ASSERT_TRUE(client_->InsertBatches("queue", {BatchOf(RowItems(3, 2))}).ok());
  auto batches = client_->SampleBatches("queue", 7);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 3u);
  EXPECT_EQ((*batches)[0].items().num_rows(), 3);
  EXPECT_EQ((*batches)[1].items().num_rows(), 2);
  EXPECT_EQ((*batches)[1].items().columns(0).name(), "x");
  EXPECT_EQ((*batches)[2].items().num_rows(), 2);
  EXPECT_EQ((*batches)[2].items().columns_size(), 2);
}

TEST_F(ReplayBatchServiceTest, StreamWithBatchFormatStillServesNext) {
  ASSERT_TRUE(client_->InsertBatches("uniform", {BatchOf(RowItems(0, 5))}).ok());
  SampleStreamOptions options;
  options.credit = 16;
  options.max_batch = 8;
  options.batch_format = true;
  auto stream = client_->NewSampleStream("uniform", options);
  std::vector<SampledItem> batch;
  int received = 0;
  while (received < 40) {
    ASSERT_TRUE(stream->Next(&batch).ok());
    EXPECT_LE(batch.size(), 8u);
    for (const SampledItem& s : batch) {
      EXPECT_NEAR(s.probability(), 0.2, 1e-12);
      EXPECT_EQ(s.table_size(), 5);
      EXPECT_EQ(s.item().tensors_size(), 2);
    }
    received += static_cast<int>(batch.size());
  }
}

TEST_F(ReplayBatchServiceTest, UnknownTableIsNotFound) {
  absl::Status s = client_->InsertBatches("nope", {BatchOf(RowItems(0, 2))}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr("nope"));
  EXPECT_EQ(client_->SampleBatches("nope", 1).status().code(), absl::StatusCode::kNotFound);
  ExpectStillServing();
}

TEST_F(ReplayBatchServiceTest, EveryBadBatchIsInvalidArgumentNamingTheField) {
  const ItemBatch good = BatchOf(RowItems(0, 4));
  struct Case {
    std::string name;
    std::function<void(ItemBatch*)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"unknown dtype", [](ItemBatch* b) { b->mutable_columns(1)->set_dtype(static_cast<DType>(99)); },
       "batches[1].columns[1].dtype: unknown dtype 99"},
      {"negative dim", [](ItemBatch* b) { b->mutable_columns(0)->set_shape(0, -1); },
       "batches[1].columns[0].shape"},
      {"column bytes", [](ItemBatch* b) { b->mutable_columns(0)->mutable_data()->append("x"); },
       "batches[1].columns[0].data"},
      {"rows vs bytes", [](ItemBatch* b) { b->set_num_rows(3); }, "batches[1].columns[0].data"},
      {"row over max_item_bytes",
       [](ItemBatch* b) {
         b->mutable_columns(0)->set_shape(0, 300);
         b->mutable_columns(0)->set_data(std::string(4 * 300 * 4, '\0'));
       },
       "batches[1]: 1200 bytes per row"},
      {"nan priority", [](ItemBatch* b) { b->set_priorities(3, std::nan("")); },
       "batches[1].priorities[3] must be finite and >= 0, got nan"},
      {"array length", [](ItemBatch* b) { b->mutable_step_indices()->RemoveLast(); },
       "batches[1].step_indices: 3 values, expected 0 or num_rows (4)"},
      {"context ids length", [](ItemBatch* b) { b->add_context_ids("x"); },
       "batches[1].context_ids"},
      {"negative rows", [](ItemBatch* b) { b->set_num_rows(-4); }, "batches[1].num_rows"},
  };
  for (const Case& c : cases) {
    ItemBatch bad = good;
    c.mutate(&bad);
    // A good first batch in the same request is not stored either.
    absl::Status s = InsertBad("uniform", {good, bad});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name << ": " << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.field)) << c.name;
  }
  EXPECT_EQ(service_->FindTable("uniform")->size(), 0);
  ExpectStillServing();
}

TEST_F(ReplayBatchServiceTest, RowCountsAreCappedBeforeAnythingIsAllocated) {
  // Rows of zero bytes cost nothing on the wire: 2^31-1 of them (no column, or
  // a zero-byte column) must be refused, not stored.
  ItemBatch no_columns;
  no_columns.set_num_rows(INT32_MAX);
  ItemBatch empty_column;
  empty_column.set_num_rows(INT32_MAX);
  TensorColumn* col = empty_column.add_columns();
  col->set_name("x");
  col->set_dtype(DTYPE_FLOAT32);
  col->add_shape(0);
  for (const ItemBatch& huge : {no_columns, empty_column}) {
    absl::Status s = InsertBad("uniform", {huge});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("batches[0].num_rows: 2147483647 exceeds --max_batch_rows=1048576"));
  }
  ItemBatch empty;  // num_rows 0
  absl::Status s = InsertBad("uniform", {BatchOf(RowItems(0, 2)), empty});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("batches[1].num_rows must be >= 1, got 0"));
  ExpectStillServing();

  // A small cap counts items and batch rows together.
  Stop();
  max_batch_rows_ = 8;
  Start();
  auto keys = client_->InsertBatches("uniform", {BatchOf(RowItems(0, 3)), BatchOf(RowItems(3, 5))});
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 8u);
  s = InsertBad("uniform", {BatchOf(RowItems(0, 9))});
  EXPECT_THAT(std::string(s.message()), HasSubstr("batches[0].num_rows: 9 exceeds --max_batch_rows=8"));
  s = InsertBad("uniform", {BatchOf(RowItems(0, 5)), BatchOf(RowItems(5, 4))});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("batches[1]: the request's rows"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("total 9, exceeds --max_batch_rows=8"));
  InsertRequest mixed;
  mixed.set_table("uniform");
  for (int i = 0; i < 6; ++i) *mixed.add_items() = RowItem(i);
  *mixed.add_batches() = BatchOf(RowItems(6, 3));
  auto stream = client_->NewInsertStream(1, true);
  (void)stream->Send(mixed);
  s = stream->Finish();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("batches[0]: the request's rows"));
  s = client_->Insert("uniform", RowItems(0, 9)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("items: 9 items exceeds --max_batch_rows=8"));
  EXPECT_EQ(service_->FindTable("uniform")->size(), 8);
}

TEST_F(ReplayBatchServiceTest, SampleMaxBatchIsCappedAndCreditSaturates) {
  Stop();
  max_batch_rows_ = 8;
  Start();
  ASSERT_TRUE(client_->InsertBatches("uniform", {BatchOf(RowItems(0, 4))}).ok());
  SampleStreamOptions options;
  options.credit = 100;
  options.max_batch = 9;
  options.batch_format = true;
  auto stream = client_->NewSampleStream("uniform", options);
  std::vector<SampledItem> items;
  absl::Status s = stream->Next(&items);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("max_batch: 9 exceeds --max_batch_rows=8"));
  // max_batch 0: the server default, never above the cap.
  options.max_batch = 0;
  options.partial_batches = false;
  stream = client_->NewSampleStream("uniform", options);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(stream->Next(&items).ok());
    EXPECT_EQ(items.size(), 8u);
  }
  stream.reset();

  // Credit of 2^63-1, twice: it saturates (no overflow), the stream keeps going.
  auto stub = ReplayService::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  grpc::ClientContext ctx;
  auto raw = stub->Sample(&ctx);
  SampleRequest first;
  first.set_table("uniform");
  first.set_num_items(INT64_MAX);
  first.set_max_batch(2);
  ASSERT_TRUE(raw->Write(first));
  SampleRequest more;
  more.set_num_items(INT64_MAX);
  ASSERT_TRUE(raw->Write(more));
  SampleResponse response;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(raw->Read(&response));
    EXPECT_EQ(response.items_size(), 2);
  }
  ctx.TryCancel();
  while (raw->Read(&response)) {
  }
  (void)raw->Finish();
}

// A server that answers every sample stream with one SampledItem, whatever the
// format asked for, then waits for the client to go.
class ItemsOnlySampleService final : public ReplayService::Service {
 public:
  grpc::Status Sample(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<SampleResponse, SampleRequest>* stream) override {
    SampleRequest request;
    if (!stream->Read(&request)) return grpc::Status::OK;
    SampleResponse response;
    SampledItem* item = response.add_items();
    item->set_key(1);
    *item->mutable_item() = RowItem(0);
    stream->Write(response);
    while (stream->Read(&request)) {
    }
    return grpc::Status::OK;
  }
};

TEST(ReplayClientTest, SampleBatchesFailsOnAnItemsResponseInsteadOfWaitingForever) {
  ItemsOnlySampleService fake;
  grpc::ServerBuilder builder;
  builder.RegisterService(&fake);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  {
    ReplayClient client(server->InProcessChannel(grpc::ChannelArguments()));
    auto batches = client.SampleBatches("t", 2);
    EXPECT_EQ(batches.status().code(), absl::StatusCode::kInternal) << batches.status();
    EXPECT_THAT(std::string(batches.status().message()), HasSubstr("SampledItems"));
  }
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
}

TEST_F(ReplayBatchServiceTest, SampledItemsCarryTheCurrentPriorityInBothFormats) {
  // Key 0 inserted as an Item, key 1 as a batch row; both updated. Key 2 (an
  // Item) keeps its inserted priority.
  auto item_keys = client_->Insert("prio", {RowItem(0), RowItem(2)});
  ASSERT_TRUE(item_keys.ok());
  auto batch_keys = client_->InsertBatches("prio", {BatchOf(RowItems(1, 1))});
  ASSERT_TRUE(batch_keys.ok());
  std::map<uint64_t, double> want = {
      {(*item_keys)[0], 5.0}, {(*batch_keys)[0], 7.0}, {(*item_keys)[1], RowItem(2).priority()}};
  ASSERT_TRUE(client_->UpdatePriorities("prio", {(*item_keys)[0], (*batch_keys)[0]}, {5.0, 7.0})
                  .ok());
  auto sampled = client_->Sample("prio", 30);
  ASSERT_TRUE(sampled.ok()) << sampled.status();
  for (const SampledItem& s : *sampled) {
    ASSERT_EQ(want.count(s.key()), 1u);
    EXPECT_EQ(s.item().priority(), want[s.key()]) << "key " << s.key();
  }
  auto batches = client_->SampleBatches("prio", 30);
  ASSERT_TRUE(batches.ok()) << batches.status();
  for (const SampledBatch& b : *batches) {
    for (int r = 0; r < b.items().num_rows(); ++r) {
      EXPECT_EQ(b.items().priorities(r), want[b.keys(r)]) << "key " << b.keys(r);
    }
  }
}

TEST_F(ReplayBatchServiceTest, ReturnWeightedTableNeedsEveryRowsReturn) {
  ItemBatch batch = BatchOf(RowItems(1, 2));  // rows 1 and 2 have returns
  ASSERT_TRUE(client_->InsertBatches("ret", {batch}).ok());
  absl::Status s = InsertBad("ret", {BatchOf(RowItems(1, 3))});  // row 3 has none
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("batches[0].episode_returns[2] is required by table ret"));
  ExpectStillServing();
}

TEST_F(ReplayBatchServiceTest, BadBatchEndsOnlyItsStreamAndKeepsAcknowledgedData) {
  auto other = client_->NewInsertStream(2, true);
  InsertRequest good;
  good.set_table("queue");
  *good.add_batches() = BatchOf(RowItems(0, 3));
  ASSERT_TRUE(other->Send(good).ok());
  ASSERT_TRUE(other->Flush().ok());

  auto stream = client_->NewInsertStream(1, true);
  ASSERT_TRUE(stream->Send(good).ok());
  ASSERT_TRUE(stream->Flush().ok());
  InsertRequest bad = good;
  bad.mutable_batches(0)->set_priorities(1, -1.0);
  (void)stream->Send(bad);
  absl::Status s = stream->Finish();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("batches[0].priorities[1]"));

  ASSERT_TRUE(other->Send(good).ok());
  ASSERT_TRUE(other->Finish().ok());
  auto rows = client_->SampleBatches("queue", 9);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(service_->FindTable("queue")->size(), 0);
}

TEST_F(ReplayBatchServiceTest, CheckpointRestartKeepsBatchRowsPrioritiesAndSampleCounts) {
  // Queue: data and order. Prio: priorities and sample counts.
  ASSERT_TRUE(client_->InsertBatches("queue", {BatchOf(RowItems(0, 30))}).ok());
  ASSERT_TRUE(client_->Insert("queue", {RowItem(30)}).ok());
  auto keys = client_->InsertBatches("prio", {BatchOf(RowItems(0, 10))});
  ASSERT_TRUE(keys.ok());
  ASSERT_TRUE(client_->UpdatePriorities("prio", {(*keys)[4]}, {50.0}).ok());
  // Sample only key 4 (the others at priority 0) three times.
  std::vector<double> zero(10, 0.0);
  zero[4] = 50.0;
  ASSERT_TRUE(client_->UpdatePriorities("prio", *keys, zero).ok());
  auto s1 = client_->SampleBatches("prio", 3);
  ASSERT_TRUE(s1.ok());
  // Put the priorities back to a known, distinct state.
  std::vector<double> priorities;
  for (int i = 0; i < 10; ++i) priorities.push_back(i == 4 ? 50.0 : 0.0);
  ASSERT_TRUE(client_->UpdatePriorities("prio", *keys, priorities).ok());
  const TableInfo before = service_->FindTable("prio")->Info();
  auto written = service_->CheckpointNow();
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, 41);

  Stop();
  Start();
  const TableInfo after = service_->FindTable("prio")->Info();
  EXPECT_EQ(after.size(), 10);
  EXPECT_EQ(after.bytes(), before.bytes());
  EXPECT_EQ(after.total_samples(), 3);
  auto sampled = client_->SampleBatches("prio", 1);
  ASSERT_TRUE(sampled.ok()) << sampled.status();
  const SampledBatch& b = (*sampled)[0];
  EXPECT_EQ(b.keys(0), (*keys)[4]);
  EXPECT_EQ(b.times_sampled(0), 4);  // three before the restart, one now
  EXPECT_EQ(b.items().priorities(0), 50.0);
  auto reader = ItemBatchReader::Create(b.items());
  ASSERT_TRUE(reader.ok());
  Item expected = RowItem(4);
  expected.set_priority(50.0);
  EXPECT_EQ(reader->ToItem(0).SerializeAsString(), expected.SerializeAsString());

  auto queue = client_->Sample("queue", 31);
  ASSERT_TRUE(queue.ok()) << queue.status();
  for (int i = 0; i < 31; ++i) {
    EXPECT_EQ((*queue)[i].item().SerializeAsString(), RowItem(i).SerializeAsString()) << i;
  }
  // New keys continue after the restored ones.
  auto more = client_->InsertBatches("prio", {BatchOf(RowItems(0, 1))});
  ASSERT_TRUE(more.ok());
  EXPECT_GT((*more)[0], keys->back());
}

TEST_F(ReplayBatchServiceTest, QueueLosesAndDuplicatesNothingWithBatchWritersAndReaders) {
  constexpr int kWriters = 3, kReaders = 3, kPerWriter = 3000, kRows = 50;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      auto stream = client_->NewInsertStream(4);
      for (int i = 0; i < kPerWriter; i += kRows) {
        std::vector<Item> items;
        for (int j = i; j < i + kRows; ++j) items.push_back(MakeItem(1.f * j, 4, w, j));
        InsertRequest r;
        r.set_table("queue");
        ASSERT_TRUE(AppendItemsAsBatches(items, &r).ok());
        ASSERT_TRUE(stream->Send(r).ok());
      }
      ASSERT_TRUE(stream->Finish().ok());
    });
  }
  absl::Mutex mu;
  std::vector<std::vector<int64_t>> seen(kWriters);
  std::atomic<int> total{0};
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      while (total.load() < kWriters * kPerWriter) {
        SampleStreamOptions options;
        options.credit = 64;
        options.max_batch = 37;
        options.timeout_ms = 200;
        options.batch_format = true;
        auto stream = client_->NewSampleStream("queue", options);
        while (true) {
          auto response = stream->NextResponse();
          if (!response.ok()) break;
          absl::MutexLock lock(&mu);
          for (const SampledBatch& b : (*response)->batches()) {
            auto reader = ItemBatchReader::Create(b.items());
            ASSERT_TRUE(reader.ok());
            for (int row = 0; row < reader->num_rows(); ++row) {
              seen[reader->actor_id(row)].push_back(reader->step_index(row));
              EXPECT_EQ(ObsValue(reader->ToItem(row)), 1.f * reader->step_index(row));
            }
            total += reader->num_rows();
          }
          if (total.load() >= kWriters * kPerWriter) break;
        }
        std::vector<SampledItem> leftovers;
        (void)stream->Close(&leftovers);
        absl::MutexLock lock(&mu);
        for (const SampledItem& s : leftovers) {
          seen[s.item().metadata().actor_id()].push_back(s.item().metadata().step_index());
        }
        total += static_cast<int>(leftovers.size());
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
  EXPECT_EQ(service_->FindTable("queue")->size(), 0);
}

}  // namespace
}  // namespace rlx
