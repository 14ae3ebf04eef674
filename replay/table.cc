#include "replay/table.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "core/status_macros.h"
#include "core/tensor_codec.h"
#include "replay/item_batch.h"

namespace rlx {
namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::internal::WireFormatLite;

absl::Status ValidateConfig(TableConfig* config) {
  if (config->name().empty()) return absl::InvalidArgumentError("name must not be empty");
  if (config->max_size() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("table ", config->name(), ": max_size must be >= 1, got ", config->max_size()));
  }
  if (config->max_times_sampled() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "table ", config->name(), ": max_times_sampled must be >= 0, got ",
        config->max_times_sampled()));
  }
  if (config->max_bytes() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "table ", config->name(), ": max_bytes must be >= 0 (0 = the server's default), got ",
        config->max_bytes()));
  }
  if (config->sampler().kind_case() == SamplerConfig::KIND_NOT_SET) {
    config->mutable_sampler()->mutable_uniform();
  }
  if (config->rate_limiter().kind_case() == RateLimiterConfig::kQueue) {
    // Each item is sampled once, in an order the sampler fixes: oldest first
    // (a queue) or newest first (a stack).
    const auto sampler = config->sampler().kind_case();
    if (sampler != SamplerConfig::kFifo && sampler != SamplerConfig::kLifo) {
      return absl::InvalidArgumentError(absl::StrCat(
          "table ", config->name(),
          ": a queue rate_limiter needs the fifo sampler (a queue) or the lifo sampler (a "
          "stack)"));
    }
    if (config->max_times_sampled() > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "table ", config->name(), ": a queue table samples each item once (max_times_sampled <= 1)"));
    }
    config->set_max_times_sampled(1);
  }
  return absl::OkStatus();
}

// One items chunk holding `items` (and sharing their ownership).
std::vector<ChunkPtr> ChunksOfItems(std::vector<ItemPtr> items) {
  auto owner = std::make_shared<std::vector<ItemPtr>>(std::move(items));
  std::vector<const Item*> rows;
  rows.reserve(owner->size());
  for (const ItemPtr& item : *owner) rows.push_back(item.get());
  std::vector<ChunkPtr> chunks;
  chunks.push_back(Chunk::FromItems(std::move(owner), std::move(rows)));
  return chunks;
}

// Runs start(done) and waits for done's result (the blocking wrappers).
template <typename T, typename Start>
absl::StatusOr<T> AwaitResult(Start start) {
  absl::Notification notified;
  absl::StatusOr<T> result;
  start([&](absl::StatusOr<T> r) {
    result = std::move(r);
    notified.Notify();
  });
  notified.WaitForNotification();
  return result;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Table>> Table::Create(const TableConfig& config, uint64_t seed,
                                                     TableMetrics* metrics,
                                                     TableOptions options) {
  TableConfig checked = config;
  // Fields this build does not know (sent by a newer client, or read from a
  // checkpoint) are dropped, as protobuf ignores them everywhere else: the
  // config is also written to the table registry in text format, which cannot
  // hold them, and the server would refuse its own registry at the next start.
  checked.DiscardUnknownFields();
  RETURN_IF_ERROR(ValidateConfig(&checked));
  auto sampler = CreateSampler(checked.sampler(), seed);
  if (!sampler.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("table ", checked.name(), ": ", sampler.status().message()));
  }
  // The fifo remover walks order_, which the table keeps anyway; the others
  // have their own selector. Queue tables never remove to make room (their
  // inserts wait), so they need none.
  std::unique_ptr<Sampler> remover;
  const auto remover_kind = checked.remover().kind_case();
  if (remover_kind != RemoverConfig::KIND_NOT_SET && remover_kind != RemoverConfig::kFifo &&
      checked.rate_limiter().kind_case() != RateLimiterConfig::kQueue) {
    auto r = CreateRemover(checked.remover(), seed ^ 0x9e3779b97f4a7c15ULL);
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("table ", checked.name(), ": ", r.status().message()));
    }
    remover = std::move(*r);
  }
  auto limiter = RateLimiter::Create(checked.rate_limiter(), checked.max_size());
  if (!limiter.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("table ", checked.name(), ": ", limiter.status().message()));
  }
  auto gate = CreateGate(checked.gate());
  if (!gate.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("table ", checked.name(), ": ", gate.status().message()));
  }
  return std::unique_ptr<Table>(new Table(std::move(checked), std::move(*sampler),
                                          std::move(remover), std::move(*limiter),
                                          std::move(*gate), metrics, std::move(options)));
}

Table::Table(TableConfig config, std::unique_ptr<Sampler> sampler,
             std::unique_ptr<Sampler> remover, RateLimiter limiter,
             std::unique_ptr<ItemGate> gate, TableMetrics* metrics, TableOptions options)
    : config_(std::move(config)),
      uses_return_(config_.sampler().kind_case() == SamplerConfig::kReturnWeighted),
      max_bytes_(config_.max_bytes() > 0         ? config_.max_bytes()
                 : options.default_max_bytes > 0 ? options.default_max_bytes
                                                 : INT64_MAX),
      max_bytes_from_server_(config_.max_bytes() == 0 && options.default_max_bytes > 0),
      server_bytes_(std::move(options.server_bytes)),
      gate_(std::move(gate)),
      metrics_(metrics),
      sampler_(std::move(sampler)),
      remover_(std::move(remover)),
      limiter_(std::move(limiter)),
      incarnation_(options.incarnation) {
  deadline_thread_ = std::thread([this] { DeadlineLoop(); });
  AttachMetrics(metrics);
}

void Table::AttachMetrics(TableMetrics* metrics) {
  absl::MutexLock lock(&mu_);
  metrics_ = metrics;
  if (metrics_ != nullptr) UpdateGaugesLocked();
}

Table::~Table() {
  Close();  // also ends the deadline thread
  absl::MutexLock lock(&mu_);
  if (server_bytes_ != nullptr) server_bytes_->Release(bytes_);
  bytes_ = 0;
}

absl::Status Table::ValidateItem(const Item& item, const std::string& field) const {
  if (!std::isfinite(item.priority()) || item.priority() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".priority must be finite and >= 0, got ", item.priority()));
  }
  if (uses_return_ && !item.metadata().has_episode_return()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".metadata.episode_return is required by table ", name(),
        " (return_weighted sampler)"));
  }
  // Whatever the sampler: a present return is finite, as in an ItemBatch
  // (ValidateItemBatch). The row may be sampled in batch format, and a client
  // refuses a batch with a non-finite return.
  if (item.metadata().has_episode_return() && !std::isfinite(item.metadata().episode_return())) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".metadata.episode_return must be finite, got ",
        item.metadata().episode_return()));
  }
  if (gate_ != nullptr) {
    Chunk::RowMetadata md;
    md.group_size = item.metadata().group_size();
    md.context_id = &item.metadata().context_id();
    RETURN_IF_ERROR(gate_->Check(md, config_.max_size(), field));
  }
  return absl::OkStatus();
}

absl::Status Table::ValidateBatch(const ItemBatch& batch, const std::string& field) const {
  if (gate_ != nullptr) {
    static const std::string kNone;
    for (int r = 0; r < batch.num_rows(); ++r) {
      Chunk::RowMetadata md;
      md.group_size = r < batch.group_sizes_size() ? batch.group_sizes(r) : 0;
      md.context_id = r < batch.context_ids_size() ? &batch.context_ids(r) : &kNone;
      RETURN_IF_ERROR(gate_->Check(md, config_.max_size(), absl::StrCat(field, ".rows[", r, "]")));
    }
  }
  if (!uses_return_) return absl::OkStatus();
  for (int r = 0; r < batch.num_rows(); ++r) {
    if (!BatchRowHasEpisodeReturn(batch, r)) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".episode_returns[", r, "] is required by table ", name(),
          " (return_weighted sampler)"));
    }
  }
  return absl::OkStatus();
}

double Table::SamplerValue(const Chunk& chunk, int row, double priority) const {
  return uses_return_ ? chunk.episode_return(row) : priority;
}

absl::Status Table::StoreLocked(uint64_t key, const ChunkPtr& chunk, int row, int64_t bytes,
                                double priority, int32_t times_sampled) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  // With a gate the sampler sees the item when the gate releases it (below).
  if (gate_ == nullptr) {
    if (absl::Status st = sampler_->Insert(slot, SamplerValue(*chunk, row, priority)); !st.ok()) {
      free_slots_.push_back(slot);
      return st;
    }
  }
  if (remover_ != nullptr) {
    if (absl::Status st = remover_->Insert(slot, priority); !st.ok()) {
      (void)sampler_->Delete(slot);
      free_slots_.push_back(slot);
      return st;
    }
  }
  Slot& s = slots_[slot];
  s.key = key;
  s.chunk = chunk;
  s.row = row;
  s.times_sampled = times_sampled;
  s.priority = priority;
  s.bytes = bytes;
  bytes_ += s.bytes;
  ++size_;
  order_.push_back(OrderEntry{key, slot});
  if (gate_ != nullptr) {
    Chunk::RowMetadata md;
    chunk->GetMetadata(row, &md);
    std::vector<uint32_t> release;
    gate_->OnStore(slot, md, &release);
    for (uint32_t r : release) {
      const Slot& released = slots_[r];
      // Values were validated when the items came in.
      (void)sampler_->Insert(r, SamplerValue(*released.chunk, released.row, released.priority));
    }
  }
  return absl::OkStatus();
}

void Table::InsertOneLocked(const ChunkPtr& chunk, int row, int64_t bytes,
                            std::vector<uint64_t>* keys) {
  if (size_ >= config_.max_size()) EvictOneLocked();
  const uint64_t key = next_key_++;
  // Values were validated (ValidateItem / ValidateBatch); slots are free.
  (void)StoreLocked(key, chunk, row, bytes, chunk->priority(row), 0);
  limiter_.RecordInsert();
  keys->push_back(key);
}

void Table::SampleOneLocked(std::vector<SampledEntry>* out) {
  absl::StatusOr<SampleChoice> choice = sampler_->Sample();
  if (!choice.ok()) return;
  const uint32_t slot = static_cast<uint32_t>(choice->key);
  Slot& s = slots_[slot];
  ++s.times_sampled;
  limiter_.RecordSample();
  out->push_back(EntryLocked(s, *choice));
  if (config_.max_times_sampled() > 0 && s.times_sampled >= config_.max_times_sampled()) {
    RemoveLocked(slot);
  }
}

SampledEntry Table::EntryLocked(const Slot& s, const SampleChoice& choice) const {
  return SampledEntry{s.key,         s.chunk,         s.row, s.chunk->item(s.row),
                      choice.probability, choice.weight, s.times_sampled, size_, s.priority};
}

void Table::EvictOneLocked() {
  uint32_t slot;
  if (remover_ == nullptr) {  // fifo: the oldest live entry of order_
    TrimOrderLocked();
    slot = order_.front().slot;
  } else {
    absl::StatusOr<SampleChoice> choice = remover_->Sample();
    if (!choice.ok()) return;  // empty; callers check size_ first
    slot = static_cast<uint32_t>(choice->key);
  }
  RemoveLocked(slot);
}

void Table::RemoveLocked(uint32_t slot) {
  Slot& s = slots_[slot];
  (void)sampler_->Delete(slot);  // NOT_FOUND for an item a gate still held
  if (remover_ != nullptr) (void)remover_->Delete(slot);
  if (gate_ != nullptr) gate_->OnRemove(slot);
  bytes_ -= s.bytes;
  if (server_bytes_ != nullptr) server_bytes_->Release(s.bytes);
  --size_;
  limiter_.RecordDelete();
  ++total_removals_;
  if (metrics_ != nullptr) ++unreported_removals_;
  const uint64_t key = s.key;
  s.key = 0;
  s.chunk.reset();
  free_slots_.push_back(slot);
  // Keep order_ short: drop the entry at either end, and compact when
  // removals elsewhere (lifo / uniform / lowest_priority removers,
  // max_times_sampled) leave it mostly stale.
  if (order_.empty()) return;
  if (order_.front().key == key) {
    TrimOrderLocked();
  } else if (order_.back().key == key) {
    order_.pop_back();
  } else if (static_cast<int64_t>(order_.size()) > 2 * size_ + 1024) {
    TrimOrderLocked();
  }
}

int64_t Table::FindLocked(uint64_t key) const {
  // Keys increase in insertion order, so order_ is sorted by key.
  auto it = std::lower_bound(order_.begin(), order_.end(), key,
                             [](const OrderEntry& e, uint64_t k) { return e.key < k; });
  if (it == order_.end() || it->key != key || !LiveLocked(*it)) return -1;
  return it->slot;
}

void Table::TrimOrderLocked() {
  while (!order_.empty() && !LiveLocked(order_.front())) order_.pop_front();
  if (static_cast<int64_t>(order_.size()) > 2 * size_ + 1024) {
    std::deque<OrderEntry> live;
    for (const OrderEntry& e : order_) {
      if (LiveLocked(e)) live.push_back(e);
    }
    order_.swap(live);
  }
}

bool Table::AdvanceInsertLocked(PendingInsert* op) {
  while (true) {
    while (op->chunk < op->chunks.size() && op->row >= op->chunks[op->chunk]->num_rows()) {
      op->chunks[op->chunk].reset();  // the table's slots hold what they need
      ++op->chunk;
      op->row = 0;
    }
    if (op->chunk == op->chunks.size()) return true;
    if (!limiter_.CanInsert(size_)) return false;
    const ChunkPtr& chunk = op->chunks[op->chunk];
    const int64_t row_bytes = chunk->PayloadBytes(op->row);
    if (row_bytes > max_bytes_ - bytes_) {
      // A queue table waits for samples to make room, like a full queue;
      // the others make room. Either way the row fits once the table is
      // empty: a request larger than the budget was refused at the start.
      if (limiter_.is_queue()) return false;
      while (row_bytes > max_bytes_ - bytes_ && size_ > 0) EvictOneLocked();
    }
    InsertOneLocked(chunk, op->row, row_bytes, &op->keys);
    op->reserved -= row_bytes;  // reserved bytes are now stored bytes
    ++op->row;
  }
}

bool Table::AdvanceSampleLocked(PendingSample* op) {
  if (config_.max_times_sampled() == 0) {
    // No sample removes an item: choose the whole run first (the same choices
    // one-by-one sampling makes), prefetching each slot, then read the slots.
    // Random samplers hit random memory; this overlaps the cache misses.
    // How many the limiter allows now (sampling changes no state it reads
    // but its own counter); the samples actually taken are recorded after.
    const int64_t want = op->max_items - static_cast<int64_t>(op->taken.size());
    const int64_t n = limiter_.SamplesAllowed(SampleableLocked(), want);
    choices_.clear();
    sampler_->SampleMany(n, &choices_);
    limiter_.RecordSamples(static_cast<int64_t>(choices_.size()));
    // Each pass's loads are independent, so their cache misses overlap: the
    // slots, then their chunks' headers, then (as each entry is made) the
    // rows' data and metadata for the response.
    for (const SampleChoice& choice : choices_) __builtin_prefetch(&slots_[choice.key]);
    for (const SampleChoice& choice : choices_) {
      __builtin_prefetch(slots_[choice.key].chunk.get());
    }
    for (const SampleChoice& choice : choices_) {
      Slot& s = slots_[choice.key];
      ++s.times_sampled;
      s.chunk->PrefetchRow(s.row);
      op->taken.push_back(EntryLocked(s, choice));
    }
  }
  while (static_cast<int64_t>(op->taken.size()) < op->max_items &&
         limiter_.CanSample(SampleableLocked())) {
    SampleOneLocked(&op->taken);
  }
  return static_cast<int64_t>(op->taken.size()) == op->max_items ||
         (op->partial && !op->taken.empty());
}

Table::Completion Table::CompleteInsertLocked(PendingInsert& op, bool waited) {
  const double seconds = absl::ToDoubleSeconds(absl::Now() - op.started);
  if (waited) blocked_seconds_ += seconds;
  if (metrics_ != nullptr) {
    if (waited) metrics_->insert_blocked_seconds.Increment(seconds);
    metrics_->inserts.Increment(static_cast<double>(op.keys.size()));
    metrics_->insert_latency_seconds.Observe(seconds);
  }
  return [done = std::move(op.done), keys = std::move(op.keys)]() mutable {
    done(std::move(keys));
  };
}

Table::Completion Table::CompleteSampleLocked(PendingSample& op, bool waited) {
  const double seconds = absl::ToDoubleSeconds(absl::Now() - op.started);
  if (waited) blocked_seconds_ += seconds;
  if (metrics_ != nullptr) {
    if (waited) metrics_->sample_blocked_seconds.Increment(seconds);
    metrics_->samples.Increment(static_cast<double>(op.taken.size()));
    metrics_->sample_latency_seconds.Observe(seconds);
  }
  return [done = std::move(op.done), taken = std::move(op.taken)]() mutable {
    done(std::move(taken));
  };
}

absl::Status Table::ReserveServerBytesLocked(int64_t bytes) {
  if (server_bytes_ == nullptr) return absl::OkStatus();
  if (bytes > server_bytes_->limit()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "table ", name(), ": an insert of ", bytes,
        " bytes can never fit the server's byte budget --max_server_bytes=",
        server_bytes_->limit()));
  }
  // Only this table's own items are evicted to make room, and only where the
  // remover may remove them (not in a queue, whose items wait for their one
  // sample); nothing is evicted for an insert that would not fit even then.
  const bool can_evict = !limiter_.is_queue();
  const int64_t room_if_emptied =
      server_bytes_->limit() - (server_bytes_->used() - (can_evict ? bytes_ : 0));
  while (bytes > room_if_emptied || !server_bytes_->TryReserve(bytes)) {
    if (!can_evict || size_ == 0 || bytes > room_if_emptied) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "table ", name(), ": the server's byte budget --max_server_bytes=",
          server_bytes_->limit(), " is exhausted (", server_bytes_->used(),
          " bytes stored or reserved by all tables); an insert of ", bytes,
          " bytes does not fit",
          can_evict ? " even if this table's items were all removed"
                    : " (a queue table does not remove items to make room)"));
    }
    EvictOneLocked();
  }
  return absl::OkStatus();
}

void Table::ReleaseReservationLocked(PendingInsert& op) {
  if (server_bytes_ != nullptr && op.reserved > 0) server_bytes_->Release(op.reserved);
  op.reserved = 0;
}

Table::Completion Table::EndSample(PendingSample& op, absl::Status error) {
  if (!op.taken.empty()) {
    return [done = std::move(op.done), taken = std::move(op.taken)]() mutable {
      done(std::move(taken));
    };
  }
  return [done = std::move(op.done), error = std::move(error)] { done(error); };
}

void Table::ProcessPendingLocked(std::vector<Completion>* completions) {
  bool progress = true;
  while (progress) {
    progress = false;
    if (!pending_inserts_.empty()) {
      PendingInsert& op = pending_inserts_.front();
      const size_t before = op.keys.size();
      const bool finished = AdvanceInsertLocked(&op);
      progress |= op.keys.size() != before;
      if (finished) {
        completions->push_back(CompleteInsertLocked(op, /*waited=*/true));
        pending_inserts_.pop_front();
        progress = true;
      }
    }
    if (!pending_samples_.empty()) {
      PendingSample& op = pending_samples_.front();
      const size_t before = op.taken.size();
      const bool finished = AdvanceSampleLocked(&op);
      progress |= op.taken.size() != before;
      if (finished) {
        completions->push_back(CompleteSampleLocked(op, /*waited=*/true));
        pending_samples_.pop_front();
        progress = true;
      }
    }
  }
  if (metrics_ != nullptr) UpdateGaugesLocked();
}

void Table::UpdateGaugesLocked() {
  if (unreported_removals_ > 0) {
    metrics_->removals.Increment(static_cast<double>(unreported_removals_));
    unreported_removals_ = 0;
  }
  metrics_->size_items.Set(static_cast<double>(size_));
  metrics_->size_bytes.Set(static_cast<double>(bytes_));
  metrics_->max_bytes.Set(max_bytes_ == INT64_MAX ? 0.0 : static_cast<double>(max_bytes_));
  if (server_bytes_ != nullptr) {
    metrics_->server_bytes.Set(static_cast<double>(server_bytes_->used()));
  }
}

Table::OpId Table::InsertAsync(std::vector<ItemPtr> items, absl::Time deadline,
                               InsertCallback done) {
  return InsertChunksAsync(ChunksOfItems(std::move(items)), deadline, std::move(done));
}

Table::OpId Table::InsertChunksAsync(std::vector<ChunkPtr> chunks, absl::Time deadline,
                                     InsertCallback done) {
  std::vector<Completion> completions;
  OpId id;
  int64_t total_rows = 0;
  int64_t total_bytes = 0;
  for (const ChunkPtr& c : chunks) {
    total_rows += c->num_rows();
    total_bytes += c->TotalPayloadBytes();
  }
  {
    absl::MutexLock lock(&mu_);
    id = next_op_++;
    absl::Status refused;
    if (closed_) {
      refused = close_reason_;
    } else if (total_bytes > max_bytes_) {
      refused = absl::ResourceExhaustedError(absl::StrCat(
          "table ", name(), ": an insert of ", total_bytes,
          " bytes can never fit the table's byte budget max_bytes=", max_bytes_,
          max_bytes_from_server_ ? " (the server's --max_table_bytes)" : "",
          "; send fewer or smaller items per request"));
    } else {
      refused = ReserveServerBytesLocked(total_bytes);
    }
    if (!refused.ok()) {
      completions.push_back(
          [done = std::move(done), refused = std::move(refused)] { done(refused); });
      // Evictions made for the reservation may unblock waiting operations.
      if (!closed_) ProcessPendingLocked(&completions);
    } else {
      const absl::Time now = absl::Now();
      PendingInsert op{id,   std::move(chunks), 0,   0,  total_rows, total_bytes,
                       {},   deadline,          now, std::move(done)};
      op.keys.reserve(static_cast<size_t>(total_rows));
      if (pending_inserts_.empty() && AdvanceInsertLocked(&op)) {
        // Fast path: everything stored without waiting.
        completions.push_back(CompleteInsertLocked(op, /*waited=*/false));
      } else {
        pending_inserts_.push_back(std::move(op));
      }
      ProcessPendingLocked(&completions);
    }
  }
  for (auto& c : completions) c();
  return id;
}

Table::OpId Table::SampleAsync(int64_t max_items, bool partial, absl::Time deadline,
                               SampleCallback done) {
  std::vector<Completion> completions;
  OpId id;
  {
    absl::MutexLock lock(&mu_);
    id = next_op_++;
    if (closed_) {
      completions.push_back([done = std::move(done), reason = close_reason_] { done(reason); });
    } else if (max_items < 1) {
      completions.push_back([done = std::move(done), max_items] {
        done(absl::InvalidArgumentError(absl::StrCat("num_items must be >= 1, got ", max_items)));
      });
    } else {
      const absl::Time now = absl::Now();
      PendingSample op{id, max_items, partial, {}, deadline, now, std::move(done)};
      op.taken.reserve(std::min<int64_t>(max_items, 4096));
      if (pending_samples_.empty() && AdvanceSampleLocked(&op)) {
        completions.push_back(CompleteSampleLocked(op, /*waited=*/false));
      } else {
        pending_samples_.push_back(std::move(op));
      }
      ProcessPendingLocked(&completions);
    }
  }
  for (auto& c : completions) c();
  return id;
}

void Table::Cancel(OpId id) {
  std::vector<Completion> completions;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = pending_inserts_.begin(); it != pending_inserts_.end(); ++it) {
      if (it->id == id) {
        ReleaseReservationLocked(*it);
        completions.push_back([done = std::move(it->done)] {
          done(absl::CancelledError("insert cancelled"));
        });
        pending_inserts_.erase(it);
        break;
      }
    }
    for (auto it = pending_samples_.begin(); it != pending_samples_.end(); ++it) {
      if (it->id == id) {
        completions.push_back(EndSample(*it, absl::CancelledError("sample cancelled")));
        pending_samples_.erase(it);
        break;
      }
    }
    // A removed head may unblock the next waiting operation.
    ProcessPendingLocked(&completions);
  }
  for (auto& c : completions) c();
}

absl::StatusOr<std::vector<uint64_t>> Table::Insert(std::vector<ItemPtr> items,
                                                    absl::Time deadline) {
  return InsertChunks(ChunksOfItems(std::move(items)), deadline);
}

absl::StatusOr<std::vector<uint64_t>> Table::InsertChunks(std::vector<ChunkPtr> chunks,
                                                          absl::Time deadline) {
  return AwaitResult<std::vector<uint64_t>>([&](InsertCallback done) {
    InsertChunksAsync(std::move(chunks), deadline, std::move(done));
  });
}

absl::StatusOr<std::vector<SampledEntry>> Table::Sample(int64_t max_items, bool partial,
                                                        absl::Time deadline) {
  return AwaitResult<std::vector<SampledEntry>>([&](SampleCallback done) {
    SampleAsync(max_items, partial, deadline, std::move(done));
  });
}

absl::StatusOr<std::vector<uint64_t>> Table::UpdatePriorities(
    const std::vector<uint64_t>& keys, const std::vector<double>& priorities) {
  if (keys.size() != priorities.size()) {
    return absl::InvalidArgumentError(absl::StrCat("keys (", keys.size(),
                                                   ") and priorities (", priorities.size(),
                                                   ") must have the same length"));
  }
  for (size_t i = 0; i < priorities.size(); ++i) {
    if (!std::isfinite(priorities[i]) || priorities[i] < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "priorities[", i, "] must be finite and >= 0, got ", priorities[i]));
    }
  }
  const bool prioritized = config_.sampler().kind_case() == SamplerConfig::kPrioritized;
  std::vector<uint64_t> missing;
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < keys.size(); ++i) {
    const int64_t slot = FindLocked(keys[i]);
    if (slot < 0) {
      missing.push_back(keys[i]);
      continue;
    }
    slots_[slot].priority = priorities[i];
    if (prioritized) (void)sampler_->Update(static_cast<uint64_t>(slot), priorities[i]);
    if (remover_ != nullptr) (void)remover_->Update(static_cast<uint64_t>(slot), priorities[i]);
  }
  return missing;
}

void Table::Reset() {
  std::vector<Completion> completions;
  {
    absl::MutexLock lock(&mu_);
    sampler_->Clear();
    if (remover_ != nullptr) remover_->Clear();
    if (gate_ != nullptr) gate_->Clear();
    slots_.clear();
    free_slots_.clear();
    size_ = 0;
    order_.clear();
    if (server_bytes_ != nullptr) server_bytes_->Release(bytes_);
    bytes_ = 0;
    total_removals_ = 0;
    limiter_.Reset();
    ProcessPendingLocked(&completions);
  }
  for (auto& c : completions) c();
}

void Table::Close() {
  Close(absl::UnavailableError(absl::StrCat("table ", name(), " closed (server shutting down)")));
}

void Table::Close(absl::Status reason) {
  std::vector<Completion> completions;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
    close_reason_ = reason.ok() ? absl::UnknownError("table closed") : std::move(reason);
    for (auto& op : pending_inserts_) {
      ReleaseReservationLocked(op);
      completions.push_back([done = std::move(op.done), reason = close_reason_] { done(reason); });
    }
    for (auto& op : pending_samples_) completions.push_back(EndSample(op, close_reason_));
    pending_inserts_.clear();
    pending_samples_.clear();
    // A closed table parks nothing, so its deadline thread has no more work.
    stop_deadline_thread_ = true;
  }
  for (auto& c : completions) c();
  // Joined here rather than in the destructor: the last reference to a
  // deleted table may be dropped by a callback running on any thread.
  deadline_thread_.join();
}

void Table::DeadlineLoop() {
  mu_.Lock();
  while (!stop_deadline_thread_) {
    absl::Time earliest = absl::InfiniteFuture();
    for (const auto& op : pending_inserts_) earliest = std::min(earliest, op.deadline);
    for (const auto& op : pending_samples_) earliest = std::min(earliest, op.deadline);
    const absl::Time now = absl::Now();
    if (earliest <= now) {
      std::vector<Completion> completions;
      for (auto it = pending_inserts_.begin(); it != pending_inserts_.end();) {
        if (it->deadline <= now) {
          ReleaseReservationLocked(*it);
          const size_t stored = it->keys.size();
          const int64_t total = it->total_rows;
          completions.push_back([done = std::move(it->done), stored, total] {
            done(absl::DeadlineExceededError(absl::StrCat(
                "insert timed out waiting for the rate limiter or for room (full queue) after "
                "storing ", stored, " of ",
                total, " items")));
          });
          it = pending_inserts_.erase(it);
        } else {
          ++it;
        }
      }
      for (auto it = pending_samples_.begin(); it != pending_samples_.end();) {
        if (it->deadline <= now) {
          completions.push_back(EndSample(
              *it, absl::DeadlineExceededError(
                       "sample timed out waiting for items (rate limiter or empty table)")));
          it = pending_samples_.erase(it);
        } else {
          ++it;
        }
      }
      ProcessPendingLocked(&completions);
      mu_.Unlock();
      for (auto& c : completions) c();
      mu_.Lock();
      continue;
    }
    // Sleep until the earliest deadline, a new operation, or shutdown.
    const OpId seen = next_op_;
    struct Wake {
      const Table* table;
      OpId seen;
      static bool Ready(Wake* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return w->table->stop_deadline_thread_ || w->table->next_op_ != w->seen;
      }
    } wake{this, seen};
    mu_.AwaitWithDeadline(absl::Condition(&Wake::Ready, &wake), earliest);
  }
  mu_.Unlock();
}

uint64_t Table::incarnation() const {
  absl::MutexLock lock(&mu_);
  return incarnation_;
}

void Table::set_incarnation(uint64_t incarnation) {
  absl::MutexLock lock(&mu_);
  incarnation_ = incarnation;
}

int64_t Table::size() const {
  absl::MutexLock lock(&mu_);
  return size_;
}

TableInfo Table::Info() const {
  TableInfo info;
  absl::MutexLock lock(&mu_);
  *info.mutable_config() = config_;
  info.set_size(size_);
  if (gate_ != nullptr) info.set_held(gate_->held());
  info.set_bytes(bytes_);
  info.set_max_bytes(max_bytes_ == INT64_MAX ? 0 : max_bytes_);
  info.set_total_inserts(limiter_.inserts());
  info.set_total_samples(limiter_.samples());
  info.set_total_removals(total_removals_);
  RateLimiterInfo* rl = info.mutable_rate_limiter();
  rl->set_inserts(limiter_.inserts());
  rl->set_samples(limiter_.samples());
  rl->set_deletes(limiter_.deletes());
  rl->set_can_insert(limiter_.CanInsert(size_) && (!limiter_.is_queue() || bytes_ < max_bytes_));
  rl->set_can_sample(limiter_.CanSample(SampleableLocked()));
  rl->set_blocked_inserts(static_cast<int64_t>(pending_inserts_.size()));
  rl->set_blocked_samples(static_cast<int64_t>(pending_samples_.size()));
  rl->set_blocked_seconds_total(blocked_seconds_);
  return info;
}

absl::Status Table::Checkpoint(CodedOutputStream* out) const {
  struct Snapshot {
    uint64_t key;
    ChunkPtr chunk;
    int32_t row;
    int32_t times_sampled;
    double priority;
  };
  std::vector<Snapshot> items;
  TableCheckpointHeader header;
  {
    absl::MutexLock lock(&mu_);
    *header.mutable_config() = config_;
    header.set_num_items(size_);
    header.set_inserts(limiter_.inserts());
    header.set_samples(limiter_.samples());
    header.set_deletes(limiter_.deletes());
    header.set_next_key(next_key_);
    header.set_incarnation(incarnation_);
    items.reserve(static_cast<size_t>(size_));
    for (const OrderEntry& e : order_) {  // insertion order
      if (!LiveLocked(e)) continue;
      const Slot& s = slots_[e.slot];
      items.push_back(Snapshot{e.key, s.chunk, s.row, s.times_sampled, s.priority});
    }
  }
  out->WriteVarint32(static_cast<uint32_t>(header.ByteSizeLong()));
  header.SerializeWithCachedSizes(out);
  // Every row is written as a CheckpointedItem; rows of batches are turned
  // into Items here (one at a time), stored Items are written in place.
  Item converted;
  for (const Snapshot& s : items) {
    const Item* item = s.chunk->item(s.row);
    if (item == nullptr) {
      converted.Clear();
      s.chunk->ToItem(s.row, &converted);
      item = &converted;
    }
    // A CheckpointedItem written field by field so the stored item is not copied.
    const uint32_t item_size = static_cast<uint32_t>(item->ByteSizeLong());
    const size_t msg_size = 1 + CodedOutputStream::VarintSize64(s.key) + 1 +
                            CodedOutputStream::VarintSize32(item_size) + item_size + 1 +
                            CodedOutputStream::VarintSize32SignExtended(s.times_sampled) + 1 + 8;
    out->WriteVarint32(static_cast<uint32_t>(msg_size));
    WireFormatLite::WriteUInt64(1, s.key, out);
    WireFormatLite::WriteTag(2, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, out);
    out->WriteVarint32(item_size);
    item->SerializeWithCachedSizes(out);
    WireFormatLite::WriteInt32(3, s.times_sampled, out);
    WireFormatLite::WriteDouble(4, s.priority, out);
  }
  if (out->HadError()) return absl::InternalError("checkpoint write failed");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Table>> Table::Restore(CodedInputStream* in, uint64_t seed,
                                                      TableMetrics* metrics,
                                                      TableOptions options) {
  auto read_message = [in](google::protobuf::MessageLite* msg) {
    uint32_t size;
    if (!in->ReadVarint32(&size)) return false;
    const auto limit = in->PushLimit(static_cast<int>(size));
    const bool ok = msg->ParseFromCodedStream(in) && in->ConsumedEntireMessage();
    in->PopLimit(limit);
    return ok;
  };
  TableCheckpointHeader header;
  if (!read_message(&header)) return absl::DataLossError("corrupt table checkpoint header");
  // A table never holds more than max_size items (inserts evict or wait
  // first), so a checkpoint that says it does is corrupt: restored as is, the
  // table would stay over its size for good.
  if (header.num_items() > header.config().max_size()) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint of table ", header.config().name(), " holds ", header.num_items(),
        " items, more than its max_size ", header.config().max_size()));
  }
  options.incarnation = header.incarnation();
  ASSIGN_OR_RETURN(std::unique_ptr<Table> table,
                   Create(header.config(), seed, metrics, std::move(options)));
  absl::MutexLock lock(&table->mu_);
  // Items are read onto one arena per group of kRestoreChunk and stored as
  // one chunk per group.
  constexpr int kRestoreChunk = 256;
  std::shared_ptr<google::protobuf::Arena> arena;
  std::vector<CheckpointedItem*> group;
  // Keys must be strictly increasing (FindLocked binary-searches order_) and
  // >= 1 (key 0 marks a free slot).
  uint64_t last_key = 0;
  auto store_group = [&]() -> absl::Status {
    if (group.empty()) return absl::OkStatus();
    std::vector<const Item*> rows;
    rows.reserve(group.size());
    for (CheckpointedItem* ci : group) rows.push_back(&ci->item());
    ChunkPtr chunk = Chunk::FromItems(arena, std::move(rows));
    for (size_t r = 0; r < group.size(); ++r) {
      const int64_t bytes = chunk->PayloadBytes(static_cast<int>(r));
      RETURN_IF_ERROR(table->StoreLocked(group[r]->key(), chunk, static_cast<int>(r), bytes,
                                         group[r]->priority(), group[r]->times_sampled()));
      // Restored items count against the server budget unchecked.
      if (table->server_bytes_ != nullptr) table->server_bytes_->Add(bytes);
    }
    group.clear();
    return absl::OkStatus();
  };
  for (int64_t i = 0; i < header.num_items(); ++i) {
    if (group.empty()) arena = std::make_shared<google::protobuf::Arena>();
    auto* ci = google::protobuf::Arena::CreateMessage<CheckpointedItem>(arena.get());
    if (!read_message(ci)) {
      return absl::DataLossError(absl::StrCat("corrupt checkpoint item ", i, " of table ",
                                              header.config().name()));
    }
    if (ci->key() <= last_key) {
      return absl::DataLossError(absl::StrCat(
          "checkpoint item ", i, " of table ", header.config().name(), ": key ", ci->key(),
          ci->key() == 0 ? " is 0 (keys start at 1)"
                         : absl::StrCat(" is not greater than the previous key ", last_key,
                                        " (keys must be strictly increasing)")));
    }
    last_key = ci->key();
    ci->mutable_item()->set_priority(ci->priority());
    // The checks of an insert (ReplayServiceImpl::ValidateInsert): a stored
    // row is trusted from here on (sampling copies each tensor's bytes by its
    // shape, a batch-format response carries its priority and return).
    const Item& item = ci->item();
    for (int t = 0; t < item.tensors_size(); ++t) {
      if (absl::Status s = ValidateTensor(item.tensors(t).tensor(), absl::StrCat("tensors[", t, "]"));
          !s.ok()) {
        return absl::DataLossError(absl::StrCat("checkpoint item ", i, " of table ",
                                                header.config().name(), ": ", s.message()));
      }
    }
    if (absl::Status s = table->ValidateItem(item, "item"); !s.ok()) {
      return absl::DataLossError(absl::StrCat("checkpoint item ", i, " of table ",
                                              header.config().name(), ": ", s.message()));
    }
    group.push_back(ci);
    if (static_cast<int>(group.size()) == kRestoreChunk) RETURN_IF_ERROR(store_group());
  }
  RETURN_IF_ERROR(store_group());
  table->limiter_.Restore(header.inserts(), header.samples(), header.deletes());
  // Never reuse a restored key, whatever the header says.
  table->next_key_ = std::max<uint64_t>({header.next_key(), last_key + 1, 1});
  if (metrics != nullptr) table->UpdateGaugesLocked();
  return table;
}

}  // namespace rlx
