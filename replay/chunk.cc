#include "replay/chunk.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/types/span.h"

#include "replay/item_batch.h"

namespace rlx {
namespace {

const std::string& EmptyString() {
  static const std::string* empty = new std::string();
  return *empty;
}

// A batch's signature (job_id, then each column's name, dtype and row shape)
// as a 64-bit hash. Equal signatures give equal fingerprints; different ones
// almost always differ (SameSignature confirms a match field by field).
uint64_t SignatureFingerprint(const ItemBatch& batch) {
  size_t h = absl::HashOf(batch.job_id(), batch.columns_size());
  for (const TensorColumn& col : batch.columns()) {
    h = absl::HashOf(h, col.name(), static_cast<int>(col.dtype()),
                     absl::MakeConstSpan(col.shape().data(), col.shape().size()));
  }
  return static_cast<uint64_t>(h);
}

bool SameShape(const google::protobuf::RepeatedField<int64_t>& a,
               const google::protobuf::RepeatedField<int64_t>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

Chunk::Chunk(std::shared_ptr<const void> owner, std::vector<const Item*> items,
             const ItemBatch* batch)
    : owner_(std::move(owner)), items_(std::move(items)), batch_(batch) {
  if (batch_ != nullptr) {
    num_rows_ = batch_->num_rows();
    batch_payload_bytes_ = 64;
    columns_.reserve(static_cast<size_t>(batch_->columns_size()));
    for (const TensorColumn& col : batch_->columns()) {
      columns_.push_back(ColumnRef{col.data().data(), ColumnRowBytes(col)});
      batch_payload_bytes_ += columns_.back().row_bytes + 16;
    }
    signature_fingerprint_ = SignatureFingerprint(*batch_);
    const ItemBatch& b = *batch_;
    row_metadata_.resize(static_cast<size_t>(num_rows_));
    for (int row = 0; row < num_rows_; ++row) {
      RowMetadata& m = row_metadata_[static_cast<size_t>(row)];
      m.actor_id = RowValueOr(b.actor_ids(), row);
      m.episode_id = RowValueOr(b.episode_ids(), row);
      m.step_index = RowValueOr(b.step_indices(), row);
      m.policy_version = RowValueOr(b.policy_versions(), row);
      m.num_steps = RowValueOr(b.num_steps(), row);
      m.agent_id = RowValueOr(b.agent_ids(), row);
      m.group_size = RowValueOr(b.group_sizes(), row);
      m.has_episode_return = BatchRowHasEpisodeReturn(b, row);
      m.episode_return = m.has_episode_return ? b.episode_returns(row) : 0.0;
      m.context_id = b.context_ids().empty() ? &EmptyString() : &b.context_ids(row);
    }
  } else {
    num_rows_ = static_cast<int>(items_.size());
  }
}

ChunkPtr Chunk::FromItems(std::shared_ptr<const void> owner, std::vector<const Item*> items) {
  return std::make_shared<const Chunk>(std::move(owner), std::move(items), nullptr);
}

ChunkPtr Chunk::FromBatch(std::shared_ptr<const void> owner, const ItemBatch* batch) {
  return std::make_shared<const Chunk>(std::move(owner), std::vector<const Item*>(), batch);
}

double Chunk::priority(int row) const {
  return batch_ == nullptr ? items_[row]->priority() : RowValueOr(batch_->priorities(), row);
}

bool Chunk::has_episode_return(int row) const {
  return batch_ == nullptr ? items_[row]->metadata().has_episode_return()
                           : BatchRowHasEpisodeReturn(*batch_, row);
}

double Chunk::episode_return(int row) const {
  return batch_ == nullptr ? items_[row]->metadata().episode_return()
                           : RowValueOr(batch_->episode_returns(), row);
}

int64_t Chunk::PayloadBytes(int row) const {
  if (batch_ != nullptr) return batch_payload_bytes_;
  int64_t bytes = 64;
  for (const NamedTensor& t : items_[row]->tensors()) {
    bytes += static_cast<int64_t>(t.tensor().data().size()) + 16;
  }
  return bytes;
}

int64_t Chunk::TotalPayloadBytes() const {
  if (batch_ != nullptr) return batch_payload_bytes_ * num_rows_;
  int64_t bytes = 0;
  for (int row = 0; row < num_rows_; ++row) bytes += PayloadBytes(row);
  return bytes;
}

int Chunk::num_tensors(int row) const {
  return batch_ == nullptr ? items_[row]->tensors_size() : batch_->columns_size();
}

const std::string& Chunk::tensor_name(int row, int t) const {
  return batch_ == nullptr ? items_[row]->tensors(t).name() : batch_->columns(t).name();
}

DType Chunk::tensor_dtype(int row, int t) const {
  return batch_ == nullptr ? items_[row]->tensors(t).tensor().dtype() : batch_->columns(t).dtype();
}

const google::protobuf::RepeatedField<int64_t>& Chunk::tensor_shape(int row, int t) const {
  return batch_ == nullptr ? items_[row]->tensors(t).tensor().shape() : batch_->columns(t).shape();
}

absl::string_view Chunk::tensor_data(int row, int t) const {
  if (batch_ == nullptr) return items_[row]->tensors(t).tensor().data();
  const size_t n = static_cast<size_t>(columns_[t].row_bytes);
  return absl::string_view(columns_[t].data + n * row, n);
}

const std::string& Chunk::job_id(int row) const {
  return batch_ == nullptr ? items_[row]->metadata().job_id() : batch_->job_id();
}

void Chunk::GetMetadata(int row, RowMetadata* out) const {
  if (batch_ == nullptr) {
    const ItemMetadata& m = items_[row]->metadata();
    out->actor_id = m.actor_id();
    out->episode_id = m.episode_id();
    out->step_index = m.step_index();
    out->policy_version = m.policy_version();
    out->num_steps = m.num_steps();
    out->agent_id = m.agent_id();
    out->group_size = m.group_size();
    out->has_episode_return = m.has_episode_return();
    out->episode_return = m.episode_return();
    out->context_id = &m.context_id();
    return;
  }
  *out = row_metadata_[static_cast<size_t>(row)];
}

void Chunk::PrefetchRow(int row) const {
  if (batch_ == nullptr) return;
  for (const ColumnRef& c : columns_) __builtin_prefetch(c.data + c.row_bytes * row);
  __builtin_prefetch(&row_metadata_[static_cast<size_t>(row)]);
}

void Chunk::ToItem(int row, Item* out) const {
  if (batch_ == nullptr) {
    out->CopyFrom(*items_[row]);
  } else {
    BatchRowToItem(*batch_, row, out);
  }
}

bool Chunk::SameSignature(const Chunk& a, int row_a, const Chunk& b, int row_b) {
  if (a.batch_ != nullptr && b.batch_ != nullptr) {
    if (a.batch_ == b.batch_) return true;
    // Two batch chunks: the fingerprints decide (a 64-bit hash with a
    // per-process seed; confirming names and shapes field by field costs
    // several cache misses per sampled row, a quarter of random-sample
    // throughput). The cached column sizes are compared too, so that even a
    // collision could never build a malformed batch.
    if (a.signature_fingerprint_ != b.signature_fingerprint_) return false;
    if (a.columns_.size() != b.columns_.size()) return false;
    for (size_t t = 0; t < a.columns_.size(); ++t) {
      if (a.columns_[t].row_bytes != b.columns_[t].row_bytes) return false;
    }
    return true;
  }
  const int n = a.num_tensors(row_a);
  if (n != b.num_tensors(row_b)) return false;
  if (a.job_id(row_a) != b.job_id(row_b)) return false;
  for (int t = 0; t < n; ++t) {
    if (a.tensor_dtype(row_a, t) != b.tensor_dtype(row_b, t) ||
        !SameShape(a.tensor_shape(row_a, t), b.tensor_shape(row_b, t)) ||
        a.tensor_name(row_a, t) != b.tensor_name(row_b, t)) {
      return false;
    }
  }
  return true;
}

}  // namespace rlx
