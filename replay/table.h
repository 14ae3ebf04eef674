// Table: one named store of replay items with a sampler, a FIFO remover
// (max_size), a max_times_sampled remover and a rate limiter.
//
// Who calls it: the ReplayService reactors (through the asynchronous calls, so
// no gRPC thread ever blocks), the in-process benchmark and tests (through the
// blocking wrappers), and the checkpointer.
//
// Blocking behaviour: InsertAsync / SampleAsync never block. When the rate
// limiter (or a full queue) stops an operation it is parked in a FIFO of
// waiting operations and resumed, in arrival order, by whichever call next
// changes the table's state. A parked operation ends with DEADLINE_EXCEEDED
// when its deadline passes (a sample that already holds items completes with
// them instead, so no sampled item is dropped), with CANCELLED through
// Cancel(), and with UNAVAILABLE when the table is closed.
//
// Callbacks run exactly once, never under the table's lock: either inline in
// the calling thread (the operation completed immediately) or in the thread
// that unblocked it (another caller or the table's deadline thread). They must
// not block for long.
//
// Thread-safe. Items are immutable once stored and shared with samplers'
// results by shared_ptr, so a sampled item stays valid after it is removed.
#ifndef RLX_REPLAY_TABLE_H_
#define RLX_REPLAY_TABLE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replay.pb.h"
#include "replay/rate_limiter.h"
#include "replay/samplers/interface.h"
#include "replay/table_metrics.h"

namespace google::protobuf::io {
class CodedInputStream;
class CodedOutputStream;
}  // namespace google::protobuf::io

namespace rlx {

// Stored items are immutable and shared: the service parses a request's items
// onto one arena and hands out aliasing pointers that keep that arena alive.
using ItemPtr = std::shared_ptr<const Item>;

struct SampledEntry {
  uint64_t key = 0;
  std::shared_ptr<const Item> item;
  double probability = 1.0;
  double weight = 1.0;
  int32_t times_sampled = 0;
  int64_t table_size = 0;
};

class Table {
 public:
  using OpId = uint64_t;
  using InsertCallback = std::function<void(absl::StatusOr<std::vector<uint64_t>>)>;
  using SampleCallback = std::function<void(absl::StatusOr<std::vector<SampledEntry>>)>;

  // Validates the config (INVALID_ARGUMENT naming the field). metrics may be
  // null (no metrics); otherwise it must outlive the table.
  static absl::StatusOr<std::unique_ptr<Table>> Create(const TableConfig& config, uint64_t seed,
                                                       TableMetrics* metrics = nullptr);
  ~Table();

  const std::string& name() const { return config_.name(); }
  const TableConfig& config() const { return config_; }

  // Checks one item against the table (priority / episode return the sampler
  // needs). Tensors are validated by the caller (core/tensor_codec.h).
  absl::Status ValidateItem(const Item& item, const std::string& field) const;

  // Inserts the items in order; done gets their keys once all are stored.
  // Items are not validated here: call ValidateItem first.
  OpId InsertAsync(std::vector<ItemPtr> items, absl::Time deadline,
                   InsertCallback done);
  // Samples up to max_items (>= 1). With partial, completes as soon as at least
  // one item is taken and no more can be taken right now.
  OpId SampleAsync(int64_t max_items, bool partial, absl::Time deadline, SampleCallback done);
  // Ends a waiting operation with CANCELLED (its callback runs in this thread);
  // a sample that already took items completes with them instead. No effect
  // if it already completed.
  void Cancel(OpId op);

  // Blocking wrappers around the asynchronous calls.
  absl::StatusOr<std::vector<uint64_t>> Insert(std::vector<ItemPtr> items,
                                               absl::Time deadline = absl::InfiniteFuture());
  absl::StatusOr<std::vector<SampledEntry>> Sample(int64_t max_items, bool partial = false,
                                                   absl::Time deadline = absl::InfiniteFuture());

  // Sets priorities of existing keys; returns the keys that are gone.
  absl::StatusOr<std::vector<uint64_t>> UpdatePriorities(const std::vector<uint64_t>& keys,
                                                         const std::vector<double>& priorities);
  // Removes every item and zeroes the counters; waiting operations go on waiting.
  void Reset();
  // Fails every waiting operation with UNAVAILABLE and refuses new ones.
  void Close();

  // Attaches (or replaces) the metrics this table updates; may be null.
  void AttachMetrics(TableMetrics* metrics);

  TableInfo Info() const;
  int64_t size() const;

  // Writes the table (header + items) to out, and reads it back. Restore
  // replaces the table's contents.
  absl::Status Checkpoint(google::protobuf::io::CodedOutputStream* out) const;
  static absl::StatusOr<std::unique_ptr<Table>> Restore(
      google::protobuf::io::CodedInputStream* in, uint64_t seed, TableMetrics* metrics);

 private:
  struct Entry {
    std::shared_ptr<const Item> item;
    double priority = 0.0;
    int32_t times_sampled = 0;
    int64_t bytes = 0;
  };
  struct PendingInsert {
    OpId id;
    std::vector<ItemPtr> items;
    size_t next = 0;
    std::vector<uint64_t> keys;
    absl::Time deadline;
    absl::Time started;
    InsertCallback done;
  };
  struct PendingSample {
    OpId id;
    int64_t max_items;
    bool partial;
    std::vector<SampledEntry> taken;
    absl::Time deadline;
    absl::Time started;
    SampleCallback done;
  };
  // A completed operation whose callback runs after the lock is released.
  using Completion = std::function<void()>;

  Table(TableConfig config, std::unique_ptr<Sampler> sampler, RateLimiter limiter,
        TableMetrics* metrics);

  // The completion of a finished insert / sample, recording its metrics;
  // `waited` says whether it was parked (blocked time counts only then).
  Completion CompleteInsertLocked(PendingInsert& op, bool waited)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Completion CompleteSampleLocked(PendingSample& op, bool waited)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends a parked sample early: with the items it already took (never
  // dropped), or with `error` when it took none.
  static Completion EndSample(PendingSample& op, absl::Status error);
  // Advances waiting operations as far as the state allows, oldest first.
  void ProcessPendingLocked(std::vector<Completion>* completions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves insert op items into the table while allowed; true when finished.
  bool AdvanceInsertLocked(PendingInsert* op) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AdvanceSampleLocked(PendingSample* op) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void InsertOneLocked(ItemPtr item, std::vector<uint64_t>* keys)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SampleOneLocked(std::vector<SampledEntry>* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveLocked(absl::flat_hash_map<uint64_t, Entry>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops keys of removed items from the front of order_, and compacts it
  // when removed keys elsewhere make up most of it.
  void TrimOrderLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  double SamplerValue(const Item& item) const;
  void UpdateGaugesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DeadlineLoop();

  const TableConfig config_;
  const bool uses_return_;

  mutable absl::Mutex mu_;
  TableMetrics* metrics_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Sampler> sampler_ ABSL_GUARDED_BY(mu_);
  RateLimiter limiter_ ABSL_GUARDED_BY(mu_);
  // Items by key (one probe per sample), and keys in insertion order for the
  // FIFO remover and checkpoints; order_ may hold keys of removed items.
  absl::flat_hash_map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<uint64_t> order_ ABSL_GUARDED_BY(mu_);
  uint64_t next_key_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t total_removals_ ABSL_GUARDED_BY(mu_) = 0;
  double blocked_seconds_ ABSL_GUARDED_BY(mu_) = 0.0;
  std::deque<PendingInsert> pending_inserts_ ABSL_GUARDED_BY(mu_);
  std::deque<PendingSample> pending_samples_ ABSL_GUARDED_BY(mu_);
  OpId next_op_ ABSL_GUARDED_BY(mu_) = 1;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_deadline_thread_ ABSL_GUARDED_BY(mu_) = false;
  std::thread deadline_thread_;
};

}  // namespace rlx

#endif  // RLX_REPLAY_TABLE_H_
