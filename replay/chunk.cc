#include "replay/chunk.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

#include "replay/item_batch.h"

namespace rlx {
namespace {

const std::string& EmptyString() {
  static const std::string* empty = new std::string();
  return *empty;
}

template <typename T>
T ValueOr(const google::protobuf::RepeatedField<T>& values, int row) {
  return values.empty() ? T() : values.Get(row);
}

// Interns batch signatures (column names, dtypes, shapes and job_id) as small
// ids. Bounded: past kMaxSignatures distinct ones, new signatures get id 0 and
// are compared field by field.
uint64_t InternSignature(const ItemBatch& batch) {
  constexpr size_t kMaxSignatures = 4096;
  static absl::Mutex mu(absl::kConstInit);
  static auto* ids = new absl::flat_hash_map<std::string, uint64_t>();
  std::string key;
  absl::StrAppend(&key, batch.job_id().size(), ":", batch.job_id());
  for (const TensorColumn& col : batch.columns()) {
    absl::StrAppend(&key, "|", col.name().size(), ":", col.name(), ":", col.dtype());
    for (int64_t d : col.shape()) absl::StrAppend(&key, ",", d);
  }
  absl::MutexLock lock(&mu);
  auto it = ids->find(key);
  if (it != ids->end()) return it->second;
  if (ids->size() >= kMaxSignatures) return 0;
  const uint64_t id = ids->size() + 1;
  ids->emplace(std::move(key), id);
  return id;
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
    signature_id_ = InternSignature(*batch_);
    const ItemBatch& b = *batch_;
    row_metadata_.resize(static_cast<size_t>(num_rows_));
    for (int row = 0; row < num_rows_; ++row) {
      RowMetadata& m = row_metadata_[static_cast<size_t>(row)];
      m.actor_id = ValueOr(b.actor_ids(), row);
      m.episode_id = ValueOr(b.episode_ids(), row);
      m.step_index = ValueOr(b.step_indices(), row);
      m.policy_version = ValueOr(b.policy_versions(), row);
      m.num_steps = ValueOr(b.num_steps(), row);
      m.agent_id = ValueOr(b.agent_ids(), row);
      m.group_size = ValueOr(b.group_sizes(), row);
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
  return batch_ == nullptr ? items_[row]->priority() : ValueOr(batch_->priorities(), row);
}

bool Chunk::has_episode_return(int row) const {
  return batch_ == nullptr ? items_[row]->metadata().has_episode_return()
                           : BatchRowHasEpisodeReturn(*batch_, row);
}

double Chunk::episode_return(int row) const {
  return batch_ == nullptr ? items_[row]->metadata().episode_return()
                           : ValueOr(batch_->episode_returns(), row);
}

int64_t Chunk::PayloadBytes(int row) const {
  if (batch_ != nullptr) return batch_payload_bytes_;
  int64_t bytes = 64;
  for (const NamedTensor& t : items_[row]->tensors()) {
    bytes += static_cast<int64_t>(t.tensor().data().size()) + 16;
  }
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
    return;
  }
  for (int c = 0; c < batch_->columns_size(); ++c) {
    const TensorColumn& col = batch_->columns(c);
    NamedTensor* t = out->add_tensors();
    t->set_name(col.name());
    TensorProto* tensor = t->mutable_tensor();
    tensor->set_dtype(col.dtype());
    *tensor->mutable_shape() = col.shape();
    const absl::string_view data = tensor_data(row, c);
    tensor->set_data(data.data(), data.size());
  }
  RowMetadata m;
  GetMetadata(row, &m);
  ItemMetadata* md = out->mutable_metadata();
  md->set_job_id(batch_->job_id());
  md->set_actor_id(m.actor_id);
  md->set_episode_id(m.episode_id);
  md->set_step_index(m.step_index);
  md->set_policy_version(m.policy_version);
  if (m.has_episode_return) md->set_episode_return(m.episode_return);
  md->set_num_steps(m.num_steps);
  md->set_context_id(*m.context_id);
  md->set_group_size(m.group_size);
  md->set_agent_id(m.agent_id);
  out->set_priority(priority(row));
}

bool Chunk::SameSignature(const Chunk& a, int row_a, const Chunk& b, int row_b) {
  if (a.batch_ != nullptr && b.batch_ != nullptr && a.signature_id_ != 0 &&
      b.signature_id_ != 0) {
    return a.signature_id_ == b.signature_id_;
  }
  if (&a == &b && a.batch_ != nullptr) return true;
  const int n = a.num_tensors(row_a);
  if (n != b.num_tensors(row_b)) return false;
  if (a.job_id(row_a) != b.job_id(row_b)) return false;
  if (a.batch_ != nullptr && b.batch_ != nullptr) {
    for (int t = 0; t < n; ++t) {
      const TensorColumn& x = a.batch_->columns(t);
      const TensorColumn& y = b.batch_->columns(t);
      if (x.dtype() != y.dtype() || !SameShape(x.shape(), y.shape()) || x.name() != y.name()) {
        return false;
      }
    }
    return true;
  }
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
