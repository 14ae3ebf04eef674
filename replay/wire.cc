#include "replay/wire.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include <google/protobuf/arena.h>

namespace rlx {
namespace {

// Resizes a packed array to n values and returns its storage.
template <typename T>
T* Packed(google::protobuf::RepeatedField<T>* field, int n) {
  field->Resize(n, T());
  return field->mutable_data();
}

// Gathers entries[begin, end) (one signature) into one SampledBatch.
void FillBatch(absl::Span<const SampledEntry> entries, size_t begin, size_t end,
               SampledBatch* out) {
  const int n = static_cast<int>(end - begin);
  const SampledEntry& first = entries[begin];
  const Chunk& proto_chunk = *first.chunk;
  ItemBatch* batch = out->mutable_items();
  batch->set_num_rows(n);
  batch->set_job_id(proto_chunk.job_id(first.row));

  // Columns: allocate each once, then copy row by row.
  const int num_columns = proto_chunk.num_tensors(first.row);
  std::vector<char*> dst(num_columns);
  std::vector<size_t> row_bytes(num_columns);
  batch->mutable_columns()->Reserve(num_columns);
  for (int c = 0; c < num_columns; ++c) {
    TensorColumn* col = batch->add_columns();
    col->set_name(proto_chunk.tensor_name(first.row, c));
    col->set_dtype(proto_chunk.tensor_dtype(first.row, c));
    *col->mutable_shape() = proto_chunk.tensor_shape(first.row, c);
    row_bytes[c] = proto_chunk.tensor_data(first.row, c).size();
    std::string* data = col->mutable_data();
    data->resize(row_bytes[c] * static_cast<size_t>(n));
    dst[c] = data->data();
  }

  uint64_t* keys = Packed(out->mutable_keys(), n);
  double* probabilities = Packed(out->mutable_probabilities(), n);
  double* weights = Packed(out->mutable_weights(), n);
  int32_t* times_sampled = Packed(out->mutable_times_sampled(), n);
  int64_t* table_sizes = Packed(out->mutable_table_sizes(), n);
  int64_t* actor_ids = Packed(batch->mutable_actor_ids(), n);
  int64_t* episode_ids = Packed(batch->mutable_episode_ids(), n);
  int64_t* step_indices = Packed(batch->mutable_step_indices(), n);
  int64_t* policy_versions = Packed(batch->mutable_policy_versions(), n);
  int32_t* num_steps = Packed(batch->mutable_num_steps(), n);
  int32_t* agent_ids = Packed(batch->mutable_agent_ids(), n);
  int32_t* group_sizes = Packed(batch->mutable_group_sizes(), n);
  double* priorities = Packed(batch->mutable_priorities(), n);
  double* episode_returns = Packed(batch->mutable_episode_returns(), n);
  bool* has_returns = Packed(batch->mutable_has_episode_returns(), n);
  // Which arrays carry something (the others are dropped: all defaults).
  bool any_actor = false, any_episode = false, any_step = false, any_policy = false,
       any_num_steps = false, any_agent = false, any_group = false, any_priority = false,
       any_return = false, all_return = true, any_context = false;

  Chunk::RowMetadata m;
  constexpr int kPrefetchAhead = 8;  // rows of random chunks: overlap the misses
  for (int i = 0; i < std::min(n, kPrefetchAhead); ++i) {
    entries[begin + static_cast<size_t>(i)].chunk->PrefetchRow(
        entries[begin + static_cast<size_t>(i)].row);
  }
  for (int i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) {
      const SampledEntry& ahead = entries[begin + static_cast<size_t>(i + kPrefetchAhead)];
      ahead.chunk->PrefetchRow(ahead.row);
    }
    const SampledEntry& e = entries[begin + static_cast<size_t>(i)];
    const Chunk& chunk = *e.chunk;
    for (int c = 0; c < num_columns; ++c) {
      std::memcpy(dst[c] + row_bytes[c] * static_cast<size_t>(i),
                  chunk.tensor_data(e.row, c).data(), row_bytes[c]);
    }
    chunk.GetMetadata(e.row, &m);
    keys[i] = e.key;
    probabilities[i] = e.probability;
    weights[i] = e.weight;
    times_sampled[i] = e.times_sampled;
    table_sizes[i] = e.table_size;
    actor_ids[i] = m.actor_id;
    episode_ids[i] = m.episode_id;
    step_indices[i] = m.step_index;
    policy_versions[i] = m.policy_version;
    num_steps[i] = m.num_steps;
    agent_ids[i] = m.agent_id;
    group_sizes[i] = m.group_size;
    priorities[i] = e.priority;
    episode_returns[i] = m.has_episode_return ? m.episode_return : 0.0;
    has_returns[i] = m.has_episode_return;
    any_actor |= m.actor_id != 0;
    any_episode |= m.episode_id != 0;
    any_step |= m.step_index != 0;
    any_policy |= m.policy_version != 0;
    any_num_steps |= m.num_steps != 0;
    any_agent |= m.agent_id != 0;
    any_group |= m.group_size != 0;
    any_priority |= e.priority != 0.0;
    any_return |= m.has_episode_return;
    all_return &= m.has_episode_return;
    any_context |= !m.context_id->empty();
  }
  if (!any_actor) batch->clear_actor_ids();
  if (!any_episode) batch->clear_episode_ids();
  if (!any_step) batch->clear_step_indices();
  if (!any_policy) batch->clear_policy_versions();
  if (!any_num_steps) batch->clear_num_steps();
  if (!any_agent) batch->clear_agent_ids();
  if (!any_group) batch->clear_group_sizes();
  if (!any_priority) batch->clear_priorities();
  if (!any_return) batch->clear_episode_returns();
  if (!any_return || all_return) batch->clear_has_episode_returns();
  if (any_context) {
    auto* contexts = batch->mutable_context_ids();
    contexts->Reserve(n);
    for (size_t i = begin; i < end; ++i) {
      entries[i].chunk->GetMetadata(entries[i].row, &m);
      contexts->Add()->assign(*m.context_id);
    }
  }
}

}  // namespace

std::vector<ChunkPtr> ChunksOfRequest(std::shared_ptr<const void> owner,
                                      const InsertRequest& request) {
  std::vector<ChunkPtr> chunks;
  chunks.reserve(1 + request.batches_size());
  if (request.items_size() > 0) {
    std::vector<const Item*> items;
    items.reserve(request.items_size());
    for (const Item& item : request.items()) items.push_back(&item);
    chunks.push_back(Chunk::FromItems(owner, std::move(items)));
  }
  for (const ItemBatch& batch : request.batches()) {
    if (batch.num_rows() > 0) chunks.push_back(Chunk::FromBatch(owner, &batch));
  }
  return chunks;
}

void FillSampleResponse(absl::Span<const SampledEntry> entries, bool batch_format,
                        SampleResponse* response) {
  if (!batch_format) {
    auto* items = response->mutable_items();
    items->Reserve(static_cast<int>(entries.size()));
    for (const SampledEntry& e : entries) {
      SampledItem* out = items->Add();
      out->set_key(e.key);
      // Item.priority is the current priority, as in the batch format.
      if (e.item != nullptr && e.item->priority() == e.priority) {
        // Referenced, not copied; an arena-allocated response never deletes it.
        out->unsafe_arena_set_allocated_item(const_cast<Item*>(e.item));
      } else {
        // A batch row, or an item whose priority changed since it was stored:
        // copied onto the response's arena.
        e.chunk->ToItem(e.row, out->mutable_item());
        out->mutable_item()->set_priority(e.priority);
      }
      out->set_probability(e.probability);
      out->set_weight(e.weight);
      out->set_times_sampled(e.times_sampled);
      out->set_table_size(e.table_size);
    }
    return;
  }
  size_t begin = 0;
  while (begin < entries.size()) {
    size_t end = begin + 1;
    const SampledEntry& first = entries[begin];
    while (end < entries.size() &&
           (entries[end].chunk == first.chunk && first.chunk->batch() != nullptr
                ? true
                : Chunk::SameSignature(*first.chunk, first.row, *entries[end].chunk,
                                       entries[end].row))) {
      ++end;
    }
    FillBatch(entries, begin, end, response->add_batches());
    begin = end;
  }
}

}  // namespace rlx
