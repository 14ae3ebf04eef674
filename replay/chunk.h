// Chunk: the unit of storage of a replay table. A chunk holds rows (items) in
// one of two forms, both left where the request was parsed (on its arena):
//   - a run of Items (items sent one message each, checkpoint restores): row r
//     is items[r];
//   - one ItemBatch (items sent in columnar form): row r is the batch's r-th
//     row, its tensors slices of the batch's columns.
// A table entry is (chunk, row), so storing a request of 256 items costs one
// chunk, not 256 allocations. A chunk lives while any entry or sample result
// refers to it: its memory is freed when its last row is removed and sent.
//
// A batch chunk also keeps, made once at creation: each row's metadata in one
// record (a sampled row's metadata is then one cache line, not one line per
// packed array), its columns' data pointers, and a 64-bit fingerprint of its
// signature (rows of two batch chunks have the same signature when their
// fingerprints are equal: one compare per sampled row). No state is
// shared between chunks.
//
// Immutable after creation; thread-safe to read. The accessors take a row in
// [0, num_rows()) and assume the data passed validation (the service checks
// requests before making chunks).
#ifndef RLX_REPLAY_CHUNK_H_
#define RLX_REPLAY_CHUNK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "replay.pb.h"

namespace rlx {

class Chunk;
using ChunkPtr = std::shared_ptr<const Chunk>;

class Chunk {
 public:
  // Rows are *items[0..n); owner keeps them alive (an arena, a vector, ...).
  static ChunkPtr FromItems(std::shared_ptr<const void> owner, std::vector<const Item*> items);
  // Rows of a batch that passed ValidateItemBatch; owner keeps it alive.
  static ChunkPtr FromBatch(std::shared_ptr<const void> owner, const ItemBatch* batch);

  // Use the factories.
  Chunk(std::shared_ptr<const void> owner, std::vector<const Item*> items,
        const ItemBatch* batch);

  int num_rows() const { return num_rows_; }
  // The stored Item of a row of an items chunk; nullptr for batch rows.
  const Item* item(int row) const { return batch_ == nullptr ? items_[row] : nullptr; }
  const ItemBatch* batch() const { return batch_; }

  // Item.priority as inserted.
  double priority(int row) const;
  bool has_episode_return(int row) const;
  double episode_return(int row) const;
  // Tensor bytes plus a fixed allowance per tensor and per item (the table's
  // byte count; the same for a row and the Item it stands for).
  int64_t PayloadBytes(int row) const;
  // The sum of PayloadBytes over all rows.
  int64_t TotalPayloadBytes() const;

  // Tensors of a row.
  int num_tensors(int row) const;
  const std::string& tensor_name(int row, int t) const;
  DType tensor_dtype(int row, int t) const;
  const google::protobuf::RepeatedField<int64_t>& tensor_shape(int row, int t) const;
  absl::string_view tensor_data(int row, int t) const;

  // Metadata of a row.
  const std::string& job_id(int row) const;
  struct RowMetadata {
    int64_t actor_id = 0;
    int64_t episode_id = 0;
    int64_t step_index = 0;
    int64_t policy_version = 0;
    int32_t num_steps = 0;
    int32_t agent_id = 0;
    int32_t group_size = 0;
    bool has_episode_return = false;
    double episode_return = 0.0;
    const std::string* context_id = nullptr;  // never null once filled
  };
  void GetMetadata(int row, RowMetadata* out) const;
  // Hints the CPU to fetch what sampling a row reads (its first data line and
  // metadata record); a no-op for items chunks.
  void PrefetchRow(int row) const;

  // Writes a row as an Item (copies the tensor bytes); `out` should be empty.
  // Item.priority is the priority as inserted.
  void ToItem(int row, Item* out) const;

  // Whether two rows have the same signature (tensor names, dtypes, shapes and
  // job_id), i.e. can share one ItemBatch. Two batch chunks are compared by
  // their signature fingerprints (and cached column sizes).
  static bool SameSignature(const Chunk& a, int row_a, const Chunk& b, int row_b);

 private:
  std::shared_ptr<const void> owner_;
  std::vector<const Item*> items_;
  const ItemBatch* batch_ = nullptr;
  int num_rows_ = 0;
  // Batch: per column, its data and row size; inline (in the chunk's own
  // cache lines) for up to kInlineColumns columns.
  struct ColumnRef {
    const char* data;
    int64_t row_bytes;
  };
  static constexpr size_t kInlineColumns = 4;
  absl::InlinedVector<ColumnRef, kInlineColumns> columns_;
  std::vector<RowMetadata> row_metadata_;  // batch: per row
  uint64_t signature_fingerprint_ = 0;     // batch: hash of the signature
  int64_t batch_payload_bytes_ = 0;
};

}  // namespace rlx

#endif  // RLX_REPLAY_CHUNK_H_
