// Table: one named store of replay items with a sampler, a remover (which
// item goes when the table is full: max_size or its byte budget), a
// max_times_sampled remover, a byte budget and a rate limiter.
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
// Cancel(), and with the close reason when the table is closed (UNAVAILABLE
// at shutdown, CANCELLED when the table is deleted).
//
// Room (max_size, max_bytes): before storing a row that would exceed either,
// a table whose limiter is not a queue removes items chosen by its remover
// (TableConfig.remover: fifo by default, lifo, uniform, lowest_priority)
// until the row fits; a queue table parks the insert instead (backpressure,
// like a full queue). Bytes are Chunk::PayloadBytes. An insert whose rows
// together exceed the table's byte budget can never be stored and fails at
// once with RESOURCE_EXHAUSTED (nothing stored). With a server budget
// (ByteBudget, shared by the server's tables) an insert reserves all its
// bytes there before storing anything; when the reservation fails an evicting
// table removes its own items (never other tables') until it succeeds, and a
// queue table (or an empty one) fails the insert with RESOURCE_EXHAUSTED
// naming --max_server_bytes, nothing stored.
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
#include "replay/byte_budget.h"
#include "replay/chunk.h"
#include "replay/gates/gate.h"
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

// What a server gives a table besides its config.
struct TableOptions {
  // The byte budget of a table whose config.max_bytes is 0 (the server's
  // --max_table_bytes); 0 = no budget.
  int64_t default_max_bytes = 0;
  // The server's total budget, shared by its tables; null = none.
  std::shared_ptr<ByteBudget> server_bytes;
  // Which creation of the named table this is (TableRegistry); written to
  // checkpoints. Restore takes the checkpoint's instead.
  uint64_t incarnation = 0;
};

class Table {
 public:
  using OpId = uint64_t;
  using InsertCallback = std::function<void(absl::StatusOr<std::vector<uint64_t>>)>;
  using SampleCallback = std::function<void(absl::StatusOr<std::vector<SampledEntry>>)>;

  // Validates the config (INVALID_ARGUMENT naming the field). metrics may be
  // null (no metrics); otherwise it must outlive the table.
  static absl::StatusOr<std::unique_ptr<Table>> Create(const TableConfig& config, uint64_t seed,
                                                       TableMetrics* metrics = nullptr,
                                                       TableOptions options = {});
  // Releases the table's bytes from the server budget.
  ~Table();

  const std::string& name() const { return config_.name(); }
  const TableConfig& config() const { return config_; }
  uint64_t incarnation() const;
  // Gives a table restored from a checkpoint without one its incarnation.
  void set_incarnation(uint64_t incarnation);
  // The byte budget in force (INT64_MAX when none).
  int64_t max_bytes() const { return max_bytes_; }

  // Checks one item against the table: priority finite and >= 0, episode
  // return finite when present (and present when the sampler needs it).
  // Tensors are validated by the caller (core/tensor_codec.h).
  absl::Status ValidateItem(const Item& item, const std::string& field) const;

  // Checks every row of a batch (which passed ValidateItemBatch) against the
  // table: the episode returns the return-weighted sampler needs.
  absl::Status ValidateBatch(const ItemBatch& batch, const std::string& field) const;

  // Inserts every row of the chunks in order; done gets their keys once all
  // are stored. Rows are not validated here: call ValidateItem/ValidateBatch.
  // RESOURCE_EXHAUSTED (done runs inline, nothing stored) when the rows can
  // never fit the table's byte budget or the server's (see the top comment).
  OpId InsertChunksAsync(std::vector<ChunkPtr> chunks, absl::Time deadline,
                         InsertCallback done);
  // The same for items (one chunk holding them all).
  OpId InsertAsync(std::vector<ItemPtr> items, absl::Time deadline,
                   InsertCallback done);
  // Samples up to max_items (>= 1; less is INVALID_ARGUMENT). With partial,
  // completes as soon as at least one item is taken and no more can be taken
  // right now.
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
  // Removes every item (releasing its bytes) and zeroes the counters;
  // waiting operations go on waiting.
  void Reset();
  // Fails every waiting operation with UNAVAILABLE ("closed (server shutting
  // down)") and refuses new ones the same way, then ends the deadline thread.
  // Must not be called from a table callback.
  void Close();
  // The same with another reason (e.g. CANCELLED when the table is deleted).
  // reason must not be OK. Only the first Close counts.
  void Close(absl::Status reason);

  // Attaches (or replaces) the metrics this table updates; may be null.
  void AttachMetrics(TableMetrics* metrics);

  TableInfo Info() const;
  int64_t size() const;

  // Writes the table (header + items) to out, and reads it back. Restore
  // makes a new table with the checkpoint's config, counters, incarnation and
  // items (options.incarnation is ignored); restored bytes count against
  // options.server_bytes without a check.
  absl::Status Checkpoint(google::protobuf::io::CodedOutputStream* out) const;
  static absl::StatusOr<std::unique_ptr<Table>> Restore(
      google::protobuf::io::CodedInputStream* in, uint64_t seed, TableMetrics* metrics,
      TableOptions options = {});

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
    // Bytes reserved in the server budget for rows not stored yet.
    int64_t reserved = 0;
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

  Table(TableConfig config, std::unique_ptr<Sampler> sampler, std::unique_ptr<Sampler> remover,
        RateLimiter limiter, std::unique_ptr<ItemGate> gate, TableMetrics* metrics,
        TableOptions options);
  // Items the sampler can choose: all but those the gate holds.
  int64_t SampleableLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return gate_ == nullptr ? size_ : size_ - gate_->held();
  }

  // Reserves an insert's bytes in the server budget, evicting this table's
  // items when that makes room (not for queue tables); RESOURCE_EXHAUSTED
  // naming the limit when it cannot.
  absl::Status ReserveServerBytesLocked(int64_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives back what a failed insert had reserved and not stored.
  void ReleaseReservationLocked(PendingInsert& op) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the item the remover chooses; requires size_ > 0.
  void EvictOneLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

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
  // Stores one row of `bytes` (its PayloadBytes), evicting first at max_size.
  void InsertOneLocked(const ChunkPtr& chunk, int row, int64_t bytes, std::vector<uint64_t>* keys)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stores a row under `key` (insert and restore).
  absl::Status StoreLocked(uint64_t key, const ChunkPtr& chunk, int row, int64_t bytes,
                           double priority, int32_t times_sampled)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
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
  const int64_t max_bytes_;           // INT64_MAX = no table budget
  const bool max_bytes_from_server_;  // max_bytes_ is --max_table_bytes
  const std::shared_ptr<ByteBudget> server_bytes_;  // may be null
  // TableConfig.gate's extension (null: items are sampleable when stored).
  // The pointer never changes; the gate's state is touched under mu_ only
  // (Check reads none).
  const std::unique_ptr<ItemGate> gate_;

  mutable absl::Mutex mu_;
  TableMetrics* metrics_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Sampler> sampler_ ABSL_GUARDED_BY(mu_);
  // The remover's selector (slot numbers, valued by priority); null for the
  // fifo remover, which uses order_.
  std::unique_ptr<Sampler> remover_ ABSL_GUARDED_BY(mu_);
  RateLimiter limiter_ ABSL_GUARDED_BY(mu_);
  // Stored items by slot (the samplers' keys are slot numbers), free slots,
  // and (key, slot) in insertion order for the fifo remover, key lookups and
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
  uint64_t incarnation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status close_reason_ ABSL_GUARDED_BY(mu_);  // set with closed_
  bool stop_deadline_thread_ ABSL_GUARDED_BY(mu_) = false;
  std::thread deadline_thread_;
};

}  // namespace rlx

#endif  // RLX_REPLAY_TABLE_H_
