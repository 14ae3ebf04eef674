// Columnar item batches (ItemBatch, SampledBatch in proto/replay.proto):
// checking them, building them from rows, and reading rows back without
// copying. Used by the server (validation), the client and the benchmarks.
//
// A batch's signature is its columns' names, dtypes and per-row shapes plus
// its job_id; items with different signatures go in different batches.
//
// Thread-compatible: a builder or reader is used by one thread at a time.
#ifndef RLX_REPLAY_ITEM_BATCH_H_
#define RLX_REPLAY_ITEM_BATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "replay.pb.h"

namespace rlx {

// Bytes of one row of a column: prod(shape) x sizeof(dtype); -1 for an
// unknown dtype, a negative dimension or overflow.
int64_t ColumnRowBytes(const TensorColumn& column);

// Checks the structure of a batch: num_rows >= 0; every column has a known
// dtype, a valid shape, at most max_row_bytes per row (all columns together)
// and exactly num_rows x row bytes of data; every per-row array has 0 or
// num_rows values; priorities are finite and >= 0; present episode returns are
// finite. INVALID_ARGUMENT naming the field under `field` (e.g.
// "batches[2].priorities[7]", "batches[0].columns[1].data").
absl::Status ValidateItemBatch(const ItemBatch& batch, absl::string_view field,
                               int64_t max_row_bytes = INT64_MAX);

// Value `row` of a per-row array that holds either no values (every row has
// the default) or one value per row, as every per-row array of ItemBatch and
// SampledBatch does once checked (ValidateItemBatch, ValidateSampledBatch).
template <typename T>
T RowValueOr(const google::protobuf::RepeatedField<T>& values, int row) {
  return values.empty() ? T() : values.Get(row);
}

// Whether row `row` of a valid batch has an episode return.
inline bool BatchRowHasEpisodeReturn(const ItemBatch& batch, int row) {
  if (batch.episode_returns_size() == 0) return false;
  return batch.has_episode_returns_size() == 0 || batch.has_episode_returns(row);
}

// Row `row` of a valid batch: its metadata, and the whole Item (copies the
// tensor bytes; Item.priority is priorities[row]). `out` should be empty.
void BatchRowMetadata(const ItemBatch& batch, int row, ItemMetadata* out);
void BatchRowToItem(const ItemBatch& batch, int row, Item* out);

// Builds one ItemBatch row by row. The signature is fixed at construction.
// Per-row arrays stay empty while every row has the default value (so
// all-zero metadata costs nothing on the wire).
class ItemBatchBuilder {
 public:
  struct Column {
    std::string name;
    DType dtype = DTYPE_FLOAT32;
    std::vector<int64_t> shape;  // of one row
  };

  // INVALID_ARGUMENT for an unknown dtype or a bad shape.
  static absl::StatusOr<ItemBatchBuilder> Create(std::vector<Column> columns,
                                                 std::string job_id = "");
  // The signature of `item`: its tensors' names, dtypes and shapes, and its job_id.
  static absl::StatusOr<ItemBatchBuilder> ForItem(const Item& item);

  // Appends a row. tensors[c] holds column c's bytes for this row (exactly its
  // row bytes); metadata.job_id must be empty or the batch's job_id.
  absl::Status AddRow(absl::Span<const absl::string_view> tensors, const ItemMetadata& metadata,
                      double priority);
  // Appends an item with this builder's signature (INVALID_ARGUMENT naming what
  // differs otherwise).
  absl::Status AddItem(const Item& item);
  // Reserves room for n more rows in every column.
  void Reserve(int n);

  int num_rows() const { return batch_.num_rows(); }
  const ItemBatch& batch() const { return batch_; }
  // Moves the batch out (e.g. into InsertRequest::add_batches()) and starts an
  // empty one with the same signature.
  void TakeInto(ItemBatch* out);
  ItemBatch Take();

 private:
  ItemBatchBuilder() = default;

  ItemBatch batch_;
  std::vector<int64_t> row_bytes_;  // per column
};

// Appends items to request->batches, one batch per run of consecutive items
// with the same signature (order kept). INVALID_ARGUMENT for an invalid tensor.
absl::Status AppendItemsAsBatches(absl::Span<const Item> items, InsertRequest* request);

// Reads rows of a batch without copying. The batch must outlive the reader.
class ItemBatchReader {
 public:
  // Checks the batch's structure (ValidateItemBatch) first.
  static absl::StatusOr<ItemBatchReader> Create(const ItemBatch& batch);

  int num_rows() const { return batch_->num_rows(); }
  int num_columns() const { return batch_->columns_size(); }
  // Index of the column named `name`, or -1.
  int ColumnIndex(absl::string_view name) const;
  const TensorColumn& column(int c) const { return batch_->columns(c); }
  // Row `row`'s bytes of column c (row-major, little-endian).
  absl::string_view tensor(int row, int c) const {
    return absl::string_view(batch_->columns(c).data()).substr(
        static_cast<size_t>(row * row_bytes_[c]), static_cast<size_t>(row_bytes_[c]));
  }

  int64_t actor_id(int row) const { return RowValueOr(batch_->actor_ids(), row); }
  int64_t episode_id(int row) const { return RowValueOr(batch_->episode_ids(), row); }
  int64_t step_index(int row) const { return RowValueOr(batch_->step_indices(), row); }
  int64_t policy_version(int row) const { return RowValueOr(batch_->policy_versions(), row); }
  int32_t num_steps(int row) const { return RowValueOr(batch_->num_steps(), row); }
  int32_t agent_id(int row) const { return RowValueOr(batch_->agent_ids(), row); }
  int32_t group_size(int row) const { return RowValueOr(batch_->group_sizes(), row); }
  double priority(int row) const { return RowValueOr(batch_->priorities(), row); }
  bool has_episode_return(int row) const { return BatchRowHasEpisodeReturn(*batch_, row); }
  double episode_return(int row) const { return RowValueOr(batch_->episode_returns(), row); }
  absl::string_view context_id(int row) const {
    return batch_->context_ids_size() == 0 ? absl::string_view() : batch_->context_ids(row);
  }
  // Row `row` as metadata / as a whole Item (copies).
  ItemMetadata metadata(int row) const;
  Item ToItem(int row) const;

 private:
  // Skips the check: for batches already checked (AppendSampledItems).
  explicit ItemBatchReader(const ItemBatch* batch);
  friend absl::Status AppendSampledItems(const SampleResponse& response,
                                         std::vector<SampledItem>* out);

  const ItemBatch* batch_;
  std::vector<int64_t> row_bytes_;
};

// Checks a sampled batch: its items (ValidateItemBatch) and that keys,
// probabilities, weights, times_sampled and table_sizes each hold 0 or
// items.num_rows values. INVALID_ARGUMENT naming the field under `field`.
absl::Status ValidateSampledBatch(const SampledBatch& batch, absl::string_view field);
// Row `row` of a sampled batch that passed ValidateSampledBatch, read through
// `reader` (over batch.items()), as a SampledItem (copies).
SampledItem SampledItemFromBatch(const SampledBatch& batch, const ItemBatchReader& reader,
                                 int row);
// Appends the sampled items of a response as SampledItems, in the order the
// server sent them (its items, then every row of every batch; a response from
// the server has one or the other). INTERNAL for a malformed batch (one that
// fails ValidateSampledBatch); nothing of that batch is appended.
absl::Status AppendSampledItems(const SampleResponse& response, std::vector<SampledItem>* out);
// Number of sampled items in a response (items plus batch rows).
int64_t SampledCount(const SampleResponse& response);

}  // namespace rlx

#endif  // RLX_REPLAY_ITEM_BATCH_H_
