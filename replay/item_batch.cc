#include "replay/item_batch.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/tensor_codec.h"

namespace rlx {
namespace {

int64_t ShapeRowBytes(DType dtype, absl::Span<const int64_t> shape) {
  const int64_t elem = DTypeSize(dtype);
  if (elem == 0) return -1;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return -1;
    n *= d;
  }
  if (n > std::numeric_limits<int64_t>::max() / elem) return -1;
  return n * elem;
}

template <typename Array>
absl::Status CheckLength(const Array& values, int num_rows, absl::string_view field,
                         absl::string_view name) {
  if (values.empty() || values.size() == num_rows) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ".", name, ": ", values.size(),
                                                 " values, expected 0 or num_rows (", num_rows,
                                                 ")"));
}

// Appends value for the next row (rows() rows so far), keeping the array empty
// while every value is the default.
template <typename Array, typename T>
void AddValue(Array* values, int rows, const T& value) {
  if (values->empty()) {
    if (value == T()) return;
    for (int i = 0; i < rows; ++i) values->Add(T());
  }
  values->Add(value);
}

void AddString(google::protobuf::RepeatedPtrField<std::string>* values, int rows,
               const std::string& value) {
  if (values->empty()) {
    if (value.empty()) return;
    for (int i = 0; i < rows; ++i) values->Add();
  }
  values->Add()->assign(value);
}

absl::Status SignatureMismatch(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("item does not match the batch's signature: ", what));
}

}  // namespace

int64_t ColumnRowBytes(const TensorColumn& column) {
  return ShapeRowBytes(column.dtype(), column.shape());
}

absl::Status ValidateItemBatch(const ItemBatch& batch, absl::string_view field,
                               int64_t max_row_bytes) {
  const int rows = batch.num_rows();
  if (rows < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".num_rows must be >= 0, got ", rows));
  }
  int64_t row_total = 0;
  for (int c = 0; c < batch.columns_size(); ++c) {
    const TensorColumn& col = batch.columns(c);
    if (DTypeSize(col.dtype()) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".columns[", c, "].dtype: unknown dtype ", static_cast<int>(col.dtype())));
    }
    const int64_t row_bytes = ColumnRowBytes(col);
    if (row_bytes < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".columns[", c, "].shape: invalid shape [",
                       absl::StrJoin(col.shape(), ","), "] (negative dimension or overflow)"));
    }
    const int64_t bytes = static_cast<int64_t>(col.data().size());
    if ((row_bytes > 0 && rows > std::numeric_limits<int64_t>::max() / row_bytes) ||
        row_bytes * rows != bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".columns[", c, "].data: ", rows, " rows of shape [",
          absl::StrJoin(col.shape(), ","), "] ", DTypeName(col.dtype()), " need ",
          row_bytes, " bytes each, got ", bytes, " bytes in all"));
    }
    // row_total <= max_row_bytes here, so the difference cannot overflow.
    if (row_bytes > max_row_bytes - row_total) {
      const std::string total =
          row_bytes > std::numeric_limits<int64_t>::max() - row_total
              ? std::string("more than 2^63-1")
              : absl::StrCat(row_total + row_bytes);
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", total,
                                                     " bytes per row (columns[0..", c,
                                                     "]) exceeds --max_item_bytes=",
                                                     max_row_bytes));
    }
    row_total += row_bytes;
  }
  absl::Status s;
  if (!(s = CheckLength(batch.actor_ids(), rows, field, "actor_ids")).ok()) return s;
  if (!(s = CheckLength(batch.episode_ids(), rows, field, "episode_ids")).ok()) return s;
  if (!(s = CheckLength(batch.step_indices(), rows, field, "step_indices")).ok()) return s;
  if (!(s = CheckLength(batch.policy_versions(), rows, field, "policy_versions")).ok()) return s;
  if (!(s = CheckLength(batch.num_steps(), rows, field, "num_steps")).ok()) return s;
  if (!(s = CheckLength(batch.agent_ids(), rows, field, "agent_ids")).ok()) return s;
  if (!(s = CheckLength(batch.context_ids(), rows, field, "context_ids")).ok()) return s;
  if (!(s = CheckLength(batch.group_sizes(), rows, field, "group_sizes")).ok()) return s;
  if (!(s = CheckLength(batch.priorities(), rows, field, "priorities")).ok()) return s;
  if (!(s = CheckLength(batch.episode_returns(), rows, field, "episode_returns")).ok()) return s;
  if (!(s = CheckLength(batch.has_episode_returns(), rows, field, "has_episode_returns")).ok()) {
    return s;
  }
  if (!batch.has_episode_returns().empty() && batch.episode_returns().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".episode_returns: empty, but has_episode_returns is set (needs num_rows values)"));
  }
  for (int r = 0; r < batch.priorities_size(); ++r) {
    const double p = batch.priorities(r);
    if (!(p >= 0) || !std::isfinite(p)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".priorities[", r, "] must be finite and >= 0, got ", p));
    }
  }
  for (int r = 0; r < batch.episode_returns_size(); ++r) {
    if (!BatchRowHasEpisodeReturn(batch, r)) continue;
    const double g = batch.episode_returns(r);
    if (!std::isfinite(g)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".episode_returns[", r, "] must be finite, got ", g));
    }
  }
  return absl::OkStatus();
}

// ---- ItemBatchBuilder ----------------------------------------------------------

absl::StatusOr<ItemBatchBuilder> ItemBatchBuilder::Create(std::vector<Column> columns,
                                                          std::string job_id) {
  ItemBatchBuilder b;
  b.batch_.set_job_id(std::move(job_id));
  for (size_t c = 0; c < columns.size(); ++c) {
    const int64_t row_bytes = ShapeRowBytes(columns[c].dtype, columns[c].shape);
    if (row_bytes < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "columns[", c, "] (", columns[c].name, "): unknown dtype or invalid shape"));
    }
    TensorColumn* col = b.batch_.add_columns();
    col->set_name(std::move(columns[c].name));
    col->set_dtype(columns[c].dtype);
    for (int64_t d : columns[c].shape) col->add_shape(d);
    b.row_bytes_.push_back(row_bytes);
  }
  return b;
}

absl::StatusOr<ItemBatchBuilder> ItemBatchBuilder::ForItem(const Item& item) {
  std::vector<Column> columns;
  columns.reserve(item.tensors_size());
  for (const NamedTensor& t : item.tensors()) {
    columns.push_back(Column{t.name(), t.tensor().dtype(),
                             std::vector<int64_t>(t.tensor().shape().begin(),
                                                  t.tensor().shape().end())});
  }
  return Create(std::move(columns), item.metadata().job_id());
}

void ItemBatchBuilder::Reserve(int n) {
  for (int c = 0; c < batch_.columns_size(); ++c) {
    std::string* data = batch_.mutable_columns(c)->mutable_data();
    data->reserve(data->size() + static_cast<size_t>(n * row_bytes_[c]));
  }
}

absl::Status ItemBatchBuilder::AddRow(absl::Span<const absl::string_view> tensors,
                                      const ItemMetadata& metadata, double priority) {
  if (static_cast<int>(tensors.size()) != batch_.columns_size()) {
    return absl::InvalidArgumentError(absl::StrCat("row has ", tensors.size(),
                                                   " tensors, the batch has ",
                                                   batch_.columns_size(), " columns"));
  }
  for (int c = 0; c < batch_.columns_size(); ++c) {
    if (static_cast<int64_t>(tensors[c].size()) != row_bytes_[c]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor ", c, " (", batch_.columns(c).name(), ") has ", tensors[c].size(),
          " bytes, the column needs ", row_bytes_[c]));
    }
  }
  if (!metadata.job_id().empty() && metadata.job_id() != batch_.job_id()) {
    return SignatureMismatch(
        absl::StrCat("job_id '", metadata.job_id(), "' != '", batch_.job_id(), "'"));
  }
  const int rows = batch_.num_rows();
  for (int c = 0; c < batch_.columns_size(); ++c) {
    batch_.mutable_columns(c)->mutable_data()->append(tensors[c].data(), tensors[c].size());
  }
  AddValue(batch_.mutable_actor_ids(), rows, metadata.actor_id());
  AddValue(batch_.mutable_episode_ids(), rows, metadata.episode_id());
  AddValue(batch_.mutable_step_indices(), rows, metadata.step_index());
  AddValue(batch_.mutable_policy_versions(), rows, metadata.policy_version());
  AddValue(batch_.mutable_num_steps(), rows, metadata.num_steps());
  AddValue(batch_.mutable_agent_ids(), rows, metadata.agent_id());
  AddString(batch_.mutable_context_ids(), rows, metadata.context_id());
  AddValue(batch_.mutable_group_sizes(), rows, metadata.group_size());
  AddValue(batch_.mutable_priorities(), rows, priority);
  // Episode returns: values plus the presence mask, each kept empty while
  // it would say nothing (no row has a return / every row has one).
  const bool has = metadata.has_episode_return();
  auto* returns = batch_.mutable_episode_returns();
  auto* mask = batch_.mutable_has_episode_returns();
  if (has && returns->empty() && rows > 0) {
    for (int i = 0; i < rows; ++i) {
      returns->Add(0.0);
      mask->Add(false);
    }
  }
  if (!returns->empty() || has) {
    returns->Add(has ? metadata.episode_return() : 0.0);
    if (!has && mask->empty()) {
      for (int i = 0; i < rows; ++i) mask->Add(true);
    }
    if (!mask->empty()) mask->Add(has);
  }
  batch_.set_num_rows(rows + 1);
  return absl::OkStatus();
}

absl::Status ItemBatchBuilder::AddItem(const Item& item) {
  if (item.tensors_size() != batch_.columns_size()) {
    return SignatureMismatch(absl::StrCat(item.tensors_size(), " tensors, the batch has ",
                                          batch_.columns_size(), " columns"));
  }
  absl::string_view views[16];
  std::vector<absl::string_view> more;
  absl::string_view* tensors = views;
  if (item.tensors_size() > 16) {
    more.resize(item.tensors_size());
    tensors = more.data();
  }
  for (int c = 0; c < item.tensors_size(); ++c) {
    const NamedTensor& t = item.tensors(c);
    const TensorColumn& col = batch_.columns(c);
    if (t.name() != col.name() || t.tensor().dtype() != col.dtype() ||
        !std::equal(t.tensor().shape().begin(), t.tensor().shape().end(), col.shape().begin(),
                    col.shape().end())) {
      return SignatureMismatch(absl::StrCat("tensors[", c, "] (", t.name(), ") differs from column ",
                                            c, " (", col.name(), ") in name, dtype or shape"));
    }
    tensors[c] = t.tensor().data();
  }
  if (item.metadata().job_id() != batch_.job_id()) {
    return SignatureMismatch(
        absl::StrCat("job_id '", item.metadata().job_id(), "' != '", batch_.job_id(), "'"));
  }
  return AddRow(absl::MakeConstSpan(tensors, item.tensors_size()), item.metadata(),
                item.priority());
}

void ItemBatchBuilder::TakeInto(ItemBatch* out) {
  ItemBatch next;
  next.set_job_id(batch_.job_id());
  for (const TensorColumn& col : batch_.columns()) {
    TensorColumn* c = next.add_columns();
    c->set_name(col.name());
    c->set_dtype(col.dtype());
    *c->mutable_shape() = col.shape();
  }
  *out = std::move(batch_);
  batch_ = std::move(next);
}

ItemBatch ItemBatchBuilder::Take() {
  ItemBatch out;
  TakeInto(&out);
  return out;
}

absl::Status AppendItemsAsBatches(absl::Span<const Item> items, InsertRequest* request) {
  size_t i = 0;
  while (i < items.size()) {
    for (int j = 0; j < items[i].tensors_size(); ++j) {
      if (absl::Status s = ValidateTensor(items[i].tensors(j).tensor(),
                                          absl::StrCat("items[", i, "].tensors[", j, "]"));
          !s.ok()) {
        return s;
      }
    }
    absl::StatusOr<ItemBatchBuilder> builder = ItemBatchBuilder::ForItem(items[i]);
    if (!builder.ok()) return builder.status();
    // Extend the run while items share the signature.
    while (i < items.size()) {
      absl::Status s = builder->AddItem(items[i]);
      if (!s.ok()) {
        if (builder->num_rows() == 0) {
          return absl::InvalidArgumentError(absl::StrCat("items[", i, "]: ", s.message()));
        }
        break;
      }
      ++i;
    }
    builder->TakeInto(request->add_batches());
  }
  return absl::OkStatus();
}

// ---- ItemBatchReader -------------------------------------------------------------

ItemBatchReader::ItemBatchReader(const ItemBatch* batch) : batch_(batch) {
  row_bytes_.reserve(batch->columns_size());
  for (const TensorColumn& col : batch->columns()) row_bytes_.push_back(ColumnRowBytes(col));
}

absl::StatusOr<ItemBatchReader> ItemBatchReader::Create(const ItemBatch& batch) {
  if (absl::Status s = ValidateItemBatch(batch, "batch"); !s.ok()) return s;
  return ItemBatchReader(&batch);
}

int ItemBatchReader::ColumnIndex(absl::string_view name) const {
  for (int c = 0; c < batch_->columns_size(); ++c) {
    if (batch_->columns(c).name() == name) return c;
  }
  return -1;
}

ItemMetadata ItemBatchReader::metadata(int row) const {
  ItemMetadata m;
  BatchRowMetadata(*batch_, row, &m);
  return m;
}

Item ItemBatchReader::ToItem(int row) const {
  Item item;
  BatchRowToItem(*batch_, row, &item);
  return item;
}

void BatchRowMetadata(const ItemBatch& batch, int row, ItemMetadata* m) {
  m->set_job_id(batch.job_id());
  m->set_actor_id(RowValueOr(batch.actor_ids(), row));
  m->set_episode_id(RowValueOr(batch.episode_ids(), row));
  m->set_step_index(RowValueOr(batch.step_indices(), row));
  m->set_policy_version(RowValueOr(batch.policy_versions(), row));
  if (BatchRowHasEpisodeReturn(batch, row)) m->set_episode_return(batch.episode_returns(row));
  m->set_num_steps(RowValueOr(batch.num_steps(), row));
  if (batch.context_ids_size() > 0) m->set_context_id(batch.context_ids(row));
  m->set_group_size(RowValueOr(batch.group_sizes(), row));
  m->set_agent_id(RowValueOr(batch.agent_ids(), row));
}

void BatchRowToItem(const ItemBatch& batch, int row, Item* out) {
  out->mutable_tensors()->Reserve(batch.columns_size());
  for (const TensorColumn& col : batch.columns()) {
    NamedTensor* t = out->add_tensors();
    t->set_name(col.name());
    TensorProto* tensor = t->mutable_tensor();
    tensor->set_dtype(col.dtype());
    *tensor->mutable_shape() = col.shape();
    const size_t n = static_cast<size_t>(ColumnRowBytes(col));
    tensor->set_data(col.data().data() + n * static_cast<size_t>(row), n);
  }
  BatchRowMetadata(batch, row, out->mutable_metadata());
  out->set_priority(RowValueOr(batch.priorities(), row));
}

absl::Status ValidateSampledBatch(const SampledBatch& batch, absl::string_view field) {
  RETURN_IF_ERROR(ValidateItemBatch(batch.items(), absl::StrCat(field, ".items")));
  const int rows = batch.items().num_rows();
  RETURN_IF_ERROR(CheckLength(batch.keys(), rows, field, "keys"));
  RETURN_IF_ERROR(CheckLength(batch.probabilities(), rows, field, "probabilities"));
  RETURN_IF_ERROR(CheckLength(batch.weights(), rows, field, "weights"));
  RETURN_IF_ERROR(CheckLength(batch.times_sampled(), rows, field, "times_sampled"));
  RETURN_IF_ERROR(CheckLength(batch.table_sizes(), rows, field, "table_sizes"));
  return absl::OkStatus();
}

SampledItem SampledItemFromBatch(const SampledBatch& batch, const ItemBatchReader& reader,
                                 int row) {
  SampledItem s;
  s.set_key(RowValueOr(batch.keys(), row));
  *s.mutable_item() = reader.ToItem(row);
  s.set_probability(RowValueOr(batch.probabilities(), row));
  s.set_weight(RowValueOr(batch.weights(), row));
  s.set_times_sampled(RowValueOr(batch.times_sampled(), row));
  s.set_table_size(RowValueOr(batch.table_sizes(), row));
  return s;
}

absl::Status AppendSampledItems(const SampleResponse& response, std::vector<SampledItem>* out) {
  for (const SampledItem& item : response.items()) out->push_back(item);
  for (int b = 0; b < response.batches_size(); ++b) {
    const SampledBatch& batch = response.batches(b);
    if (absl::Status s = ValidateSampledBatch(batch, absl::StrCat("batches[", b, "]")); !s.ok()) {
      return absl::InternalError(
          absl::StrCat("bad sampled batch from the server: ", s.message()));
    }
    const ItemBatchReader reader(&batch.items());
    for (int r = 0; r < reader.num_rows(); ++r) {
      out->push_back(SampledItemFromBatch(batch, reader, r));
    }
  }
  return absl::OkStatus();
}

int64_t SampledCount(const SampleResponse& response) {
  int64_t n = response.items_size();
  for (const SampledBatch& b : response.batches()) n += b.items().num_rows();
  return n;
}

}  // namespace rlx
