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
// Storage: items live in chunks (replay/chunk.h: a request's run of Items or
// one columnar ItemBatch, left where the request was parsed); an entry is
// (chunk, row) in a slot of a dense slot array. Samplers index entries by slot
// number, so a sample reaches its entry without a hash lookup; keys (what
// clients see) map to slots through the insertion-order list (keys increase
// with insertion, so a key is found by binary search there).
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

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "replay.pb.h"
#include "replay/chunk.h"
#include "replay/rate_limiter.h"
#include "replay/samplers/interface.h"
#include "replay/table_metrics.h"

namespace google::protobuf::io {
class CodedInputStream;
class CodedOutputStream;
}  // namespace google::protobuf::io

namespace rlx {

// Items given to Insert / InsertAsync (tests, benchmarks, in-process callers);
// the table stores them as one items chunk that shares their ownership. The
// service does not use them: it stores each request's chunks in place
// (ChunksOfRequest in replay/wire.h).
using ItemPtr = std::shared_ptr<const Item>;

struct SampledEntry {
  uint64_t key = 0;
  // The sampled row: row `row` of `chunk` (which keeps it alive).
  ChunkPtr chunk;
  int32_t row = 0;
  // The stored Item when the row was inserted as an Item (chunk->item(row));
  // nullptr for rows inserted in an ItemBatch (read them through chunk).
  const Item* item = nullptr;
  double probability = 1.0;
  double weight = 1.0;
  int32_t times_sampled = 0;
  int64_t table_size = 0;
  // The row's current priority (as inserted, or as last updated).
  double priority = 0.0;
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

  // Checks every row of a batch (which passed ValidateItemBatch) against the
  // table: the episode returns the return-weighted sampler needs.
  absl::Status ValidateBatch(const ItemBatch& batch, const std::string& field) const;

  // Inserts every row of the chunks in order; done gets their keys once all
  // are stored. Rows are not validated here: call ValidateItem/ValidateBatch.
  OpId InsertChunksAsync(std::vector<ChunkPtr> chunks, absl::Time deadline,
                         InsertCallback done);
  // The same for items (one chunk holding them all).
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
  absl::StatusOr<std::vector<uint64_t>> InsertChunks(
      std::vector<ChunkPtr> chunks, absl::Time deadline = absl::InfiniteFuture());
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
  // One stored item; free slots have key 0 (keys start at 1).
  struct Slot {
    uint64_t key = 0;
    ChunkPtr chunk;
    int32_t row = 0;
    int32_t times_sampled = 0;
    double priority = 0.0;
    int64_t bytes = 0;
  };
  // A key in insertion order and the slot it was given; stale once the slot
  // is freed (the slot's key differs then).
  struct OrderEntry {
    uint64_t key;
    uint32_t slot;
  };
  struct PendingInsert {
    OpId id;
    std::vector<ChunkPtr> chunks;
    size_t chunk = 0;  // next row to store: chunks[chunk], row `row`
    int row = 0;
    int64_t total_rows = 0;
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
  void InsertOneLocked(const ChunkPtr& chunk, int row, std::vector<uint64_t>* keys)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stores a row under `key` (insert and restore).
  absl::Status StoreLocked(uint64_t key, const ChunkPtr& chunk, int row, double priority,
                           int32_t times_sampled) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SampleOneLocked(std::vector<SampledEntry>* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The entry handed out for slot s chosen by `choice` (after its
  // times_sampled was counted).
  SampledEntry EntryLocked(const Slot& s, const SampleChoice& choice) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveLocked(uint32_t slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool LiveLocked(const OrderEntry& e) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return slots_[e.slot].key == e.key;
  }
  // The slot holding key, or -1 when the key is not stored.
  int64_t FindLocked(uint64_t key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops keys of removed items from the front of order_, and compacts it
  // when removed keys elsewhere make up most of it.
  void TrimOrderLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  double SamplerValue(const Chunk& chunk, int row, double priority) const;
  void UpdateGaugesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DeadlineLoop();

  const TableConfig config_;
  const bool uses_return_;

  mutable absl::Mutex mu_;
  TableMetrics* metrics_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Sampler> sampler_ ABSL_GUARDED_BY(mu_);
  RateLimiter limiter_ ABSL_GUARDED_BY(mu_);
  // Stored items by slot (the samplers' keys are slot numbers), free slots,
  // and (key, slot) in insertion order for the FIFO remover, key lookups and
  // checkpoints; order_ may hold entries of removed items.
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> free_slots_ ABSL_GUARDED_BY(mu_);
  int64_t size_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<OrderEntry> order_ ABSL_GUARDED_BY(mu_);
  std::vector<SampleChoice> choices_ ABSL_GUARDED_BY(mu_);  // AdvanceSampleLocked's scratch
  uint64_t next_key_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t total_removals_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t unreported_removals_ ABSL_GUARDED_BY(mu_) = 0;  // not yet in metrics_
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
