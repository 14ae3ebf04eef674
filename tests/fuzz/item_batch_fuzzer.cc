// Fuzz target "item_batch": columnar item batches (replay/item_batch.h) and
// the server's insert path (replay/wire.h), from both ends of the wire.
//   1. The input as a SampleResponse a client receives: AppendSampledItems
//      (ValidateSampledBatch, ItemBatchReader), every row read back.
//   2. The input as an InsertRequest a replay server receives, parsed on an
//      arena like the server does: ReplayServiceImpl::ValidateInsert against
//      one of four tables (uniform, prioritized, return-weighted, queue), and
//      when valid, what the server then does: ChunksOfRequest, insert,
//      sample, FillSampleResponse in both formats, checkpoint. Whatever the
//      server accepts, it must serve in a form its own client accepts
//      (replay_fuzz_util.h).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/arena.h>

#include "absl/strings/str_cat.h"
#include "replay.pb.h"
#include "replay/item_batch.h"
#include "replay/replay_service.h"
#include "replay/table.h"
#include "replay/wire.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/replay_fuzz_util.h"

namespace rlx::fuzz {
namespace {

constexpr const char* kTables[] = {"uniform", "prioritized", "returns", "queue"};

ReplayConfig FuzzReplayConfig() {
  ReplayConfig config;
  auto add = [&config](const char* name) {
    TableConfig* t = config.add_tables();
    t->set_name(name);
    t->set_max_size(32);
    t->mutable_rate_limiter()->mutable_min_size()->set_min_size(1);
    return t;
  };
  add("uniform")->mutable_sampler()->mutable_uniform();
  TableConfig* prioritized = add("prioritized");
  prioritized->mutable_sampler()->mutable_prioritized()->set_priority_exponent(0.6);
  prioritized->mutable_sampler()->mutable_prioritized()->set_importance_exponent(0.4);
  prioritized->mutable_remover()->mutable_lowest_priority();
  prioritized->set_max_times_sampled(2);
  add("returns")->mutable_sampler()->mutable_return_weighted()->set_temperature(1.0);
  TableConfig* queue = add("queue");
  queue->mutable_sampler()->mutable_fifo();
  queue->mutable_rate_limiter()->mutable_queue();
  queue->set_max_size(8);
  queue->set_max_bytes(4096);
  return config;
}

ReplayServiceOptions FuzzServiceOptions() {
  ReplayServiceOptions options;
  options.max_item_bytes = 1 << 16;
  options.max_batch_rows = 512;
  options.max_table_bytes = 1 << 20;
  options.max_server_bytes = 4 << 20;
  options.seed = 1;
  return options;
}

// Client side: a response from a server.
void ClientReceives(const uint8_t* data, size_t size) {
  SampleResponse response;
  if (!response.ParseFromArray(data, static_cast<int>(size))) return;
  std::vector<SampledItem> items;
  const absl::Status s = AppendSampledItems(response, &items);
  if (!s.ok()) {
    RLX_FUZZ_CHECK(s.code() == absl::StatusCode::kInternal, s.ToString());
    return;
  }
  RLX_FUZZ_CHECK(static_cast<int64_t>(items.size()) == SampledCount(response),
                 "AppendSampledItems: row count");
  for (const SampledBatch& batch : response.batches()) {
    absl::StatusOr<ItemBatchReader> reader = ItemBatchReader::Create(batch.items());
    RLX_FUZZ_CHECK(reader.ok(), reader.status().ToString());
    for (int c = 0; c < reader->num_columns(); ++c) {
      const int found = reader->ColumnIndex(reader->column(c).name());
      RLX_FUZZ_CHECK(found >= 0 && found <= c, "ColumnIndex of a column's own name");
    }
    for (int r = 0; r < reader->num_rows(); ++r) {
      for (int c = 0; c < reader->num_columns(); ++c) {
        RLX_FUZZ_CHECK(static_cast<int64_t>(reader->tensor(r, c).size()) ==
                           ColumnRowBytes(reader->column(c)),
                       "ItemBatchReader::tensor: row size");
      }
      (void)reader->metadata(r);
      (void)reader->context_id(r);
      const Item item = reader->ToItem(r);
      CheckClientItem(item, absl::StrCat("row ", r));
    }
  }
}

// Server side: an insert request.
void ServerReceives(const uint8_t* data, size_t size) {
  auto arena = std::make_shared<google::protobuf::Arena>();
  auto* request = google::protobuf::Arena::CreateMessage<InsertRequest>(arena.get());
  if (!request->ParseFromArray(data, static_cast<int>(size))) return;
  absl::StatusOr<std::unique_ptr<ReplayServiceImpl>> service =
      ReplayServiceImpl::Create(FuzzReplayConfig(), FuzzServiceOptions(), nullptr);
  RLX_FUZZ_CHECK(service.ok(), service.status().ToString());
  std::shared_ptr<Table> table = (*service)->FindTable(request->table());
  if (table == nullptr) table = (*service)->FindTable(kTables[request->table().size() % 4]);
  const absl::Status valid = (*service)->ValidateInsert(*request, *table);
  if (!valid.ok()) {
    RLX_FUZZ_CHECK(valid.code() == absl::StatusCode::kInvalidArgument, valid.ToString());
    return;
  }
  // Everything the server accepted is a batch its readers can read.
  for (const ItemBatch& batch : request->batches()) {
    RLX_FUZZ_CHECK(ItemBatchReader::Create(batch).ok(), "valid batch, no reader");
  }
  std::vector<ChunkPtr> chunks = ChunksOfRequest(arena, *request);
  int64_t rows = 0;
  for (const ChunkPtr& chunk : chunks) {
    rows += chunk->num_rows();
    for (int r = 0; r < chunk->num_rows(); ++r) {
      RLX_FUZZ_CHECK(chunk->PayloadBytes(r) > 0, "PayloadBytes");
      Item item;
      chunk->ToItem(r, &item);
      RLX_FUZZ_CHECK(item.tensors_size() == chunk->num_tensors(r), "Chunk::ToItem");
    }
  }
  absl::StatusOr<std::vector<uint64_t>> keys = InsertNow(*table, std::move(chunks));
  if (keys.ok()) {
    RLX_FUZZ_CHECK(static_cast<int64_t>(keys->size()) == rows,
                   absl::StrCat(keys->size(), " keys for ", rows, " rows"));
  }
  absl::StatusOr<std::vector<SampledEntry>> sampled = SampleNow(*table, 64);
  if (sampled.ok()) CheckSampleResponses(*sampled);
  CheckCheckpointRoundTrip(*table);
  (*service)->Close();
}

}  // namespace
}  // namespace rlx::fuzz

RLX_FUZZ_TARGET(item_batch) {
  rlx::fuzz::ClientReceives(data, size);
  rlx::fuzz::ServerReceives(data, size);
  return 0;
}

RLX_FUZZ_SEEDS(item_batch) {
  using namespace rlx;
  std::vector<std::string> seeds;
  auto add = [&seeds](const google::protobuf::Message& m) {
    seeds.push_back(m.SerializeAsString());
  };
  auto item = [](float x, int64_t actor, std::optional<double> ret, double priority,
                 const std::string& context) {
    Item it;
    AddNamedTensor(it.mutable_tensors(), "observation", FloatTensor({x, x + 1, x + 2, x + 3}));
    AddNamedTensor(it.mutable_tensors(), "action", Int64Tensor({actor % 2}));
    it.mutable_metadata()->set_actor_id(actor);
    it.mutable_metadata()->set_episode_id(actor * 10);
    it.mutable_metadata()->set_step_index(static_cast<int64_t>(x));
    it.mutable_metadata()->set_num_steps(1);
    if (ret.has_value()) it.mutable_metadata()->set_episode_return(*ret);
    it.mutable_metadata()->set_context_id(context);
    it.set_priority(priority);
    return it;
  };
  std::vector<Item> items = {item(0, 1, 1.5, 1.0, ""), item(1, 2, std::nullopt, 0.5, "c1"),
                             item(2, 3, -2.0, 2.0, "c1")};
  std::vector<Item> with_returns = {item(0, 1, 1.5, 1.0, ""), item(4, 2, 3.0, 0.0, "")};
  // Items one message each, to each table.
  for (const char* table : rlx::fuzz::kTables) {
    InsertRequest request;
    request.set_table(table);
    for (const Item& it : std::string(table) == "returns" ? with_returns : items) {
      *request.add_items() = it;
    }
    add(request);
  }
  // The same rows as batches (AppendItemsAsBatches), and both in one request.
  for (const char* table : {"uniform", "returns"}) {
    InsertRequest request;
    request.set_table(table);
    (void)AppendItemsAsBatches(std::string(table) == "returns" ? with_returns : items, &request);
    add(request);
  }
  {
    InsertRequest request;
    request.set_table("prioritized");
    *request.add_items() = items[0];
    (void)AppendItemsAsBatches(items, &request);
    add(request);
  }
  // What a server sends back: sampled rows in both formats.
  {
    absl::StatusOr<std::unique_ptr<ReplayServiceImpl>> service = ReplayServiceImpl::Create(
        rlx::fuzz::FuzzReplayConfig(), rlx::fuzz::FuzzServiceOptions(), nullptr);
    if (service.ok()) {
      std::shared_ptr<Table> table = (*service)->FindTable("uniform");
      std::vector<ItemPtr> ptrs;
      for (const Item& it : items) ptrs.push_back(std::make_shared<Item>(it));
      if (table->Insert(ptrs).ok()) {
        absl::StatusOr<std::vector<SampledEntry>> sampled = table->Sample(4);
        if (sampled.ok()) {
          for (const bool batch_format : {false, true}) {
            SampleResponse response;
            google::protobuf::Arena arena;
            auto* on_arena = google::protobuf::Arena::CreateMessage<SampleResponse>(&arena);
            FillSampleResponse(*sampled, batch_format, on_arena);
            response.CopyFrom(*on_arena);
            add(response);
          }
        }
      }
      (*service)->Close();
    }
  }
  return seeds;
}
