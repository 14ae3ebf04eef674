// Helpers of the replay fuzz targets (item_batch, replay_checkpoint): table
// operations that never wait, and the invariants of what a server sends.
#ifndef RLX_TESTS_FUZZ_REPLAY_FUZZ_UTIL_H_
#define RLX_TESTS_FUZZ_REPLAY_FUZZ_UTIL_H_

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/arena.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "core/tensor_codec.h"
#include "replay.pb.h"
#include "replay/item_batch.h"
#include "replay/table.h"
#include "replay/wire.h"
#include "tests/fuzz/fuzz_target.h"

namespace rlx::fuzz {

// Inserts chunks; an insert the table would park (full queue, rate limiter)
// is cancelled instead of waited for.
inline absl::StatusOr<std::vector<uint64_t>> InsertNow(Table& table,
                                                       std::vector<ChunkPtr> chunks) {
  std::optional<absl::StatusOr<std::vector<uint64_t>>> result;
  const Table::OpId id = table.InsertChunksAsync(
      std::move(chunks), absl::InfiniteFuture(),
      [&result](absl::StatusOr<std::vector<uint64_t>> keys) { result = std::move(keys); });
  if (!result.has_value()) table.Cancel(id);
  RLX_FUZZ_CHECK(result.has_value(), "Cancel did not complete a parked insert");
  return *std::move(result);
}

// Samples up to max_items of what can be taken now (partial; never waits).
inline absl::StatusOr<std::vector<SampledEntry>> SampleNow(Table& table, int64_t max_items) {
  std::optional<absl::StatusOr<std::vector<SampledEntry>>> result;
  const Table::OpId id = table.SampleAsync(
      max_items, /*partial=*/true, absl::InfiniteFuture(),
      [&result](absl::StatusOr<std::vector<SampledEntry>> entries) {
        result = std::move(entries);
      });
  if (!result.has_value()) table.Cancel(id);
  RLX_FUZZ_CHECK(result.has_value(), "Cancel did not complete a parked sample");
  return *std::move(result);
}

// What a client accepts of an item (the checks of ValidateItemBatch, for one row).
inline void CheckClientItem(const Item& item, absl::string_view what) {
  for (int t = 0; t < item.tensors_size(); ++t) {
    const absl::Status s = ValidateTensor(item.tensors(t).tensor(), absl::StrCat(what, ".tensors[", t, "]"));
    RLX_FUZZ_CHECK(s.ok(), s.ToString());
  }
  RLX_FUZZ_CHECK(std::isfinite(item.priority()) && item.priority() >= 0,
                 absl::StrCat(what, ".priority ", item.priority()));
  RLX_FUZZ_CHECK(!item.metadata().has_episode_return() ||
                     std::isfinite(item.metadata().episode_return()),
                 absl::StrCat(what, ".metadata.episode_return ", item.metadata().episode_return()));
}

// Sampled rows as the server sends them, in both formats: the response must be
// one its own client accepts (AppendSampledItems), with every row intact, and
// the client must be able to send the rows on as batches.
inline void CheckSampleResponses(absl::Span<const SampledEntry> entries) {
  for (const bool batch_format : {false, true}) {
    google::protobuf::Arena arena;
    auto* response = google::protobuf::Arena::CreateMessage<SampleResponse>(&arena);
    FillSampleResponse(entries, batch_format, response);
    RLX_FUZZ_CHECK(SampledCount(*response) == static_cast<int64_t>(entries.size()),
                   absl::StrCat(SampledCount(*response), " rows sent for ", entries.size()));
    // Over the wire.
    std::string wire;
    RLX_FUZZ_CHECK(response->SerializeToString(&wire), "SampleResponse did not serialize");
    SampleResponse received;
    RLX_FUZZ_CHECK(received.ParseFromString(wire), "SampleResponse did not parse back");
    std::vector<SampledItem> items;
    const absl::Status s = AppendSampledItems(received, &items);
    RLX_FUZZ_CHECK(s.ok(), absl::StrCat(batch_format ? "batch" : "item",
                                        " format: the client rejects the server's response: ",
                                        s.ToString()));
    RLX_FUZZ_CHECK(items.size() == entries.size(), "AppendSampledItems lost rows");
    std::vector<Item> rows;
    rows.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      RLX_FUZZ_CHECK(items[i].key() == entries[i].key, "sampled keys out of order");
      CheckClientItem(items[i].item(), absl::StrCat("sampled[", i, "].item"));
      rows.push_back(items[i].item());
    }
    InsertRequest again;
    const absl::Status b = AppendItemsAsBatches(rows, &again);
    RLX_FUZZ_CHECK(b.ok(), absl::StrCat("AppendItemsAsBatches of sampled rows: ", b.ToString()));
    for (int i = 0; i < again.batches_size(); ++i) {
      const absl::Status v = ValidateItemBatch(again.batches(i), "again");
      RLX_FUZZ_CHECK(v.ok(), absl::StrCat("a batch built from sampled rows: ", v.ToString()));
    }
  }
}

// A table's checkpoint must restore, with the same items.
inline void CheckCheckpointRoundTrip(const Table& table) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream out(&raw);
    const absl::Status s = table.Checkpoint(&out);
    RLX_FUZZ_CHECK(s.ok(), s.ToString());
  }
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream in(&raw);
  absl::StatusOr<std::unique_ptr<Table>> restored = Table::Restore(&in, 7, nullptr);
  RLX_FUZZ_CHECK(restored.ok(), absl::StrCat("a table's own checkpoint does not restore: ",
                                             restored.status().ToString()));
  RLX_FUZZ_CHECK((*restored)->size() == table.size(),
                 absl::StrCat("restored ", (*restored)->size(), " of ", table.size(), " items"));
}

}  // namespace rlx::fuzz

#endif  // RLX_TESTS_FUZZ_REPLAY_FUZZ_UTIL_H_
