#include "replay/table.h"

#include <cmath>
#include <utility>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "core/status_macros.h"

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
  if (config->sampler().kind_case() == SamplerConfig::KIND_NOT_SET) {
    config->mutable_sampler()->mutable_uniform();
  }
  if (config->rate_limiter().kind_case() == RateLimiterConfig::kQueue) {
    if (config->sampler().kind_case() != SamplerConfig::kFifo) {
      return absl::InvalidArgumentError(absl::StrCat(
          "table ", config->name(), ": a queue rate_limiter needs the fifo sampler"));
    }
    if (config->max_times_sampled() > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "table ", config->name(), ": a queue table samples each item once (max_times_sampled <= 1)"));
    }
    config->set_max_times_sampled(1);
  }
  return absl::OkStatus();
}

// Tensor bytes plus a fixed per-item allowance for metadata and framing: a
// cheap stand-in for ByteSizeLong (a full traversal) on the insert path.
int64_t PayloadBytes(const Item& item) {
  int64_t bytes = 64;
  for (const NamedTensor& t : item.tensors()) {
    bytes += static_cast<int64_t>(t.tensor().data().size()) + 16;
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Table>> Table::Create(const TableConfig& config, uint64_t seed,
                                                     TableMetrics* metrics) {
  TableConfig checked = config;
  RETURN_IF_ERROR(ValidateConfig(&checked));
  auto sampler = CreateSampler(checked.sampler(), seed);
  if (!sampler.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("table ", checked.name(), ": ", sampler.status().message()));
  }
  auto limiter = RateLimiter::Create(checked.rate_limiter(), checked.max_size());
  if (!limiter.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("table ", checked.name(), ": ", limiter.status().message()));
  }
  return std::unique_ptr<Table>(
      new Table(std::move(checked), std::move(*sampler), std::move(*limiter), metrics));
}

Table::Table(TableConfig config, std::unique_ptr<Sampler> sampler, RateLimiter limiter,
             TableMetrics* metrics)
    : config_(std::move(config)),
      uses_return_(config_.sampler().kind_case() == SamplerConfig::kReturnWeighted),
      metrics_(metrics),
      sampler_(std::move(sampler)),
      limiter_(std::move(limiter)) {
  deadline_thread_ = std::thread([this] { DeadlineLoop(); });
  AttachMetrics(metrics);
}

void Table::AttachMetrics(TableMetrics* metrics) {
  absl::MutexLock lock(&mu_);
  metrics_ = metrics;
  if (metrics_ != nullptr) UpdateGaugesLocked();
}

Table::~Table() {
  Close();
  {
    absl::MutexLock lock(&mu_);
    stop_deadline_thread_ = true;
  }
  deadline_thread_.join();
}

absl::Status Table::ValidateItem(const Item& item, const std::string& field) const {
  if (!std::isfinite(item.priority()) || item.priority() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".priority must be finite and >= 0, got ", item.priority()));
  }
  if (uses_return_) {
    if (!item.metadata().has_episode_return()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".metadata.episode_return is required by table ", name(),
          " (return_weighted sampler)"));
    }
    if (!std::isfinite(item.metadata().episode_return())) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".metadata.episode_return must be finite, got ",
          item.metadata().episode_return()));
    }
  }
  return absl::OkStatus();
}

double Table::SamplerValue(const Item& item) const {
  return uses_return_ ? item.metadata().episode_return() : item.priority();
}

void Table::InsertOneLocked(ItemPtr item, std::vector<uint64_t>* keys) {
  if (static_cast<int64_t>(entries_.size()) >= config_.max_size()) {
    TrimOrderLocked();
    RemoveLocked(entries_.find(order_.front()));
  }
  const uint64_t key = next_key_++;
  Entry entry;
  entry.priority = item->priority();
  entry.bytes = PayloadBytes(*item);
  absl::Status s = sampler_->Insert(key, SamplerValue(*item));
  (void)s;  // Values were validated by ValidateItem; keys are fresh.
  entry.item = std::move(item);
  bytes_ += entry.bytes;
  entries_.emplace(key, std::move(entry));
  order_.push_back(key);
  limiter_.RecordInsert();
  keys->push_back(key);
}

void Table::SampleOneLocked(std::vector<SampledEntry>* out) {
  absl::StatusOr<SampleChoice> choice = sampler_->Sample();
  if (!choice.ok()) return;
  auto it = entries_.find(choice->key);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  ++e.times_sampled;
  limiter_.RecordSample();
  out->push_back(SampledEntry{it->first, e.item, choice->probability, choice->weight,
                              e.times_sampled, static_cast<int64_t>(entries_.size())});
  if (config_.max_times_sampled() > 0 && e.times_sampled >= config_.max_times_sampled()) {
    RemoveLocked(it);
  }
}

void Table::RemoveLocked(absl::flat_hash_map<uint64_t, Entry>::iterator it) {
  (void)sampler_->Delete(it->first);
  bytes_ -= it->second.bytes;
  limiter_.RecordDelete();
  ++total_removals_;
  if (metrics_ != nullptr) metrics_->removals.Increment();
  const uint64_t key = it->first;
  entries_.erase(it);
  if (!order_.empty() && order_.front() == key) TrimOrderLocked();
}

void Table::TrimOrderLocked() {
  while (!order_.empty() && !entries_.contains(order_.front())) order_.pop_front();
  if (order_.size() > 2 * entries_.size() + 1024) {
    std::deque<uint64_t> live;
    for (uint64_t k : order_) {
      if (entries_.contains(k)) live.push_back(k);
    }
    order_.swap(live);
  }
}

bool Table::AdvanceInsertLocked(PendingInsert* op) {
  while (op->next < op->items.size() &&
         limiter_.CanInsert(static_cast<int64_t>(entries_.size()))) {
    InsertOneLocked(std::move(op->items[op->next]), &op->keys);
    ++op->next;
  }
  return op->next == op->items.size();
}

bool Table::AdvanceSampleLocked(PendingSample* op) {
  while (static_cast<int64_t>(op->taken.size()) < op->max_items &&
         limiter_.CanSample(static_cast<int64_t>(entries_.size()))) {
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
      const size_t before = op.next;
      const bool finished = AdvanceInsertLocked(&op);
      progress |= op.next != before;
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
  metrics_->size_items.Set(static_cast<double>(entries_.size()));
  metrics_->size_bytes.Set(static_cast<double>(bytes_));
}

Table::OpId Table::InsertAsync(std::vector<ItemPtr> items, absl::Time deadline,
                               InsertCallback done) {
  std::vector<Completion> completions;
  OpId id;
  {
    absl::MutexLock lock(&mu_);
    id = next_op_++;
    if (closed_) {
      completions.push_back([done = std::move(done), n = name()] {
        done(absl::UnavailableError(absl::StrCat("table ", n, " is closed")));
      });
    } else {
      const absl::Time now = absl::Now();
      PendingInsert op{id, std::move(items), 0, {}, deadline, now, std::move(done)};
      op.keys.reserve(op.items.size());
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
      completions.push_back([done = std::move(done), n = name()] {
        done(absl::UnavailableError(absl::StrCat("table ", n, " is closed")));
      });
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
  absl::Notification done;
  absl::StatusOr<std::vector<uint64_t>> result;
  InsertAsync(std::move(items), deadline, [&](absl::StatusOr<std::vector<uint64_t>> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

absl::StatusOr<std::vector<SampledEntry>> Table::Sample(int64_t max_items, bool partial,
                                                        absl::Time deadline) {
  absl::Notification done;
  absl::StatusOr<std::vector<SampledEntry>> result;
  SampleAsync(max_items, partial, deadline, [&](absl::StatusOr<std::vector<SampledEntry>> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
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
    auto it = entries_.find(keys[i]);
    if (it == entries_.end()) {
      missing.push_back(keys[i]);
      continue;
    }
    it->second.priority = priorities[i];
    if (prioritized) (void)sampler_->Update(keys[i], priorities[i]);
  }
  return missing;
}

void Table::Reset() {
  std::vector<Completion> completions;
  {
    absl::MutexLock lock(&mu_);
    sampler_->Clear();
    entries_.clear();
    order_.clear();
    bytes_ = 0;
    total_removals_ = 0;
    limiter_.Reset();
    ProcessPendingLocked(&completions);
  }
  for (auto& c : completions) c();
}

void Table::Close() {
  std::vector<Completion> completions;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
    for (auto& op : pending_inserts_) {
      completions.push_back([done = std::move(op.done), n = name()] {
        done(absl::UnavailableError(absl::StrCat("table ", n, " closed (server shutting down)")));
      });
    }
    for (auto& op : pending_samples_) {
      completions.push_back(EndSample(
          op, absl::UnavailableError(absl::StrCat("table ", name(), " closed (server shutting down)"))));
    }
    pending_inserts_.clear();
    pending_samples_.clear();
  }
  for (auto& c : completions) c();
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
          const size_t stored = it->next;
          const size_t total = it->items.size();
          completions.push_back([done = std::move(it->done), stored, total] {
            done(absl::DeadlineExceededError(absl::StrCat(
                "insert timed out waiting for the rate limiter after storing ", stored, " of ",
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

int64_t Table::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(entries_.size());
}

TableInfo Table::Info() const {
  TableInfo info;
  absl::MutexLock lock(&mu_);
  *info.mutable_config() = config_;
  info.set_size(static_cast<int64_t>(entries_.size()));
  info.set_bytes(bytes_);
  info.set_total_inserts(limiter_.inserts());
  info.set_total_samples(limiter_.samples());
  info.set_total_removals(total_removals_);
  RateLimiterInfo* rl = info.mutable_rate_limiter();
  rl->set_inserts(limiter_.inserts());
  rl->set_samples(limiter_.samples());
  rl->set_deletes(limiter_.deletes());
  rl->set_can_insert(limiter_.CanInsert(static_cast<int64_t>(entries_.size())));
  rl->set_can_sample(limiter_.CanSample(static_cast<int64_t>(entries_.size())));
  rl->set_blocked_inserts(static_cast<int64_t>(pending_inserts_.size()));
  rl->set_blocked_samples(static_cast<int64_t>(pending_samples_.size()));
  rl->set_blocked_seconds_total(blocked_seconds_);
  return info;
}

absl::Status Table::Checkpoint(CodedOutputStream* out) const {
  struct Snapshot {
    uint64_t key;
    std::shared_ptr<const Item> item;
    int32_t times_sampled;
    double priority;
  };
  std::vector<Snapshot> items;
  TableCheckpointHeader header;
  {
    absl::MutexLock lock(&mu_);
    *header.mutable_config() = config_;
    header.set_num_items(static_cast<int64_t>(entries_.size()));
    header.set_inserts(limiter_.inserts());
    header.set_samples(limiter_.samples());
    header.set_deletes(limiter_.deletes());
    header.set_next_key(next_key_);
    items.reserve(entries_.size());
    for (uint64_t key : order_) {  // insertion order
      auto it = entries_.find(key);
      if (it == entries_.end()) continue;
      const Entry& e = it->second;
      items.push_back(Snapshot{key, e.item, e.times_sampled, e.priority});
    }
  }
  out->WriteVarint32(static_cast<uint32_t>(header.ByteSizeLong()));
  header.SerializeWithCachedSizes(out);
  for (const Snapshot& s : items) {
    // A CheckpointedItem written field by field so the stored item is not copied.
    const uint32_t item_size = static_cast<uint32_t>(s.item->ByteSizeLong());
    const size_t msg_size = 1 + CodedOutputStream::VarintSize64(s.key) + 1 +
                            CodedOutputStream::VarintSize32(item_size) + item_size + 1 +
                            CodedOutputStream::VarintSize32SignExtended(s.times_sampled) + 1 + 8;
    out->WriteVarint32(static_cast<uint32_t>(msg_size));
    WireFormatLite::WriteUInt64(1, s.key, out);
    WireFormatLite::WriteTag(2, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, out);
    out->WriteVarint32(item_size);
    s.item->SerializeWithCachedSizes(out);
    WireFormatLite::WriteInt32(3, s.times_sampled, out);
    WireFormatLite::WriteDouble(4, s.priority, out);
  }
  if (out->HadError()) return absl::InternalError("checkpoint write failed");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Table>> Table::Restore(CodedInputStream* in, uint64_t seed,
                                                      TableMetrics* metrics) {
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
  ASSIGN_OR_RETURN(std::unique_ptr<Table> table, Create(header.config(), seed, metrics));
  absl::MutexLock lock(&table->mu_);
  for (int64_t i = 0; i < header.num_items(); ++i) {
    CheckpointedItem ci;
    if (!read_message(&ci)) {
      return absl::DataLossError(absl::StrCat("corrupt checkpoint item ", i, " of table ",
                                              header.config().name()));
    }
    Entry e;
    e.priority = ci.priority();
    e.times_sampled = ci.times_sampled();
    auto item = std::make_shared<Item>(std::move(*ci.mutable_item()));
    item->set_priority(ci.priority());
    e.bytes = PayloadBytes(*item);
    RETURN_IF_ERROR(table->sampler_->Insert(ci.key(), table->SamplerValue(*item)));
    e.item = std::move(item);
    table->bytes_ += e.bytes;
    table->entries_.emplace(ci.key(), std::move(e));
    table->order_.push_back(ci.key());
  }
  table->limiter_.Restore(header.inserts(), header.samples(), header.deletes());
  table->next_key_ = header.next_key();
  if (metrics != nullptr) table->UpdateGaugesLocked();
  return table;
}

}  // namespace rlx
