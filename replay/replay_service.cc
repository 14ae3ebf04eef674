#include "replay/replay_service.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>
#include <random>

#include <google/protobuf/arena.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/text_format.h>

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "core/file_util.h"
#include "core/grpc_status.h"
#include "core/status_macros.h"
#include "core/tensor_codec.h"
#include "replay/item_batch.h"
#include "replay/wire.h"

namespace rlx {
namespace {

constexpr char kCheckpointMagic[] = "RLXREPLAY1";
constexpr size_t kMaxQueuedAcks = 16;
constexpr int64_t kDefaultMaxBatch = 256;

google::protobuf::ArenaOptions RequestArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 512;  // a one-item request retains little
  options.max_block_size = 64 << 10;
  return options;
}

absl::Time RpcDeadline(const grpc::CallbackServerContext* ctx) {
  const auto deadline = ctx->deadline();
  const auto far = std::chrono::system_clock::now() + std::chrono::hours(24 * 365);
  if (deadline > far) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* ctx,
                                      const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* ctx, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// Insert stream. Steps:
//  1. StartRead(request).
//  2. OnReadDone: validate the whole request (nothing stored on error), hand its
//     chunks (items, then each batch; replay/wire.h) to Table::InsertChunksAsync.
//  3. Insert callback: queue the ack (keys), start writing it if no write is in
//     flight, and read the next request while fewer than kMaxQueuedAcks acks wait.
//  4. OnWriteDone: write the next queued ack; resume a held read.
//  Finish once the client half-closed and every ack is written, or after an
//  error (queued acks are written first), or on cancellation. Finish never
//  happens while a table operation is pending, so callbacks never outlive us.
class InsertReactor : public grpc::ServerBidiReactor<InsertRequest, InsertResponse> {
 public:
  // grant: what the stream may write (set when the server checks grants).
  InsertReactor(ReplayServiceImpl* service, grpc::CallbackServerContext* ctx,
                std::optional<WriteGrant> grant)
      : service_(service), ctx_(ctx), grant_(std::move(grant)) {
    NewRequest();
    StartRead(request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      absl::MutexLock lock(&mu_);
      reads_done_ = true;
      MaybeFinishLocked();
      return;
    }
    std::shared_ptr<Table> table = service_->FindTable(request_->table());
    absl::Status status;
    if (grant_.has_value()) status = CheckInsertAgainstGrant(*request_, *grant_);
    if (!status.ok()) {
      // Refused before the table is looked at: nothing about it is revealed.
    } else if (table == nullptr) {
      status = absl::NotFoundError(absl::StrCat("table: unknown table '", request_->table(), "'"));
    } else {
      status = service_->ValidateInsert(*request_, *table);
    }
    if (!status.ok()) {
      if (service_->metrics() != nullptr) service_->metrics()->invalid_requests().Increment();
      absl::MutexLock lock(&mu_);
      reads_done_ = true;
      if (final_status_.ok()) final_status_ = status;
      MaybeFinishLocked();
      return;
    }
    // The items stay where they were parsed: the request's chunks share
    // ownership of its arena (no copy, no per-item allocation).
    std::vector<ChunkPtr> chunks = ChunksOfRequest(arena_, *request_);
    NewRequest();
    {
      absl::MutexLock lock(&mu_);
      op_pending_ = true;
    }
    const Table::OpId id = table->InsertChunksAsync(
        std::move(chunks), RpcDeadline(ctx_),
        [this](absl::StatusOr<std::vector<uint64_t>> keys) { OnInserted(std::move(keys)); });
    bool cancel = false;
    {
      absl::MutexLock lock(&mu_);
      if (op_pending_) {
        op_id_ = id;
        table_ = table;
        cancel = cancelled_;
      }
    }
    if (cancel) table->Cancel(id);
  }

  void OnInserted(absl::StatusOr<std::vector<uint64_t>> keys) {
    bool read = false;
    absl::MutexLock lock(&mu_);
    op_pending_ = false;
    op_id_ = 0;
    table_.reset();
    if (!keys.ok()) {
      reads_done_ = true;
      if (final_status_.ok()) final_status_ = keys.status();
    } else if (!cancelled_) {
      InsertResponse response;
      *response.mutable_keys() = {keys->begin(), keys->end()};
      acks_.push_back(std::move(response));
      StartNextWriteLocked();
      if (acks_.size() < kMaxQueuedAcks) {
        read = true;
      } else {
        read_held_ = true;
      }
    }
    if (read) StartRead(request_);
    MaybeFinishLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    if (!acks_.empty()) acks_.pop_front();
    if (!ok) {
      cancelled_ = true;
      acks_.clear();
    } else {
      StartNextWriteLocked();
      if (read_held_ && acks_.size() < kMaxQueuedAcks) {
        read_held_ = false;
        StartRead(request_);
      }
    }
    MaybeFinishLocked();
  }

  void OnCancel() override {
    std::shared_ptr<Table> table;
    Table::OpId id = 0;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      acks_.clear();
      if (op_pending_ && op_id_ != 0) {
        table = table_;
        id = op_id_;
      }
      MaybeFinishLocked();
    }
    if (table != nullptr) table->Cancel(id);
  }

  // gRPC runs OnDone after every other reaction (OnCancel included) has
  // returned; taking the lock once makes that order visible to ThreadSanitizer
  // too (gRPC's own hand-over is not instrumented; docs/testing.md).
  void OnDone() override {
    { absl::MutexLock lock(&mu_); }
    delete this;
  }

 private:
  // A fresh arena-allocated request for the next read. Called only when no
  // read is outstanding.
  void NewRequest() {
    arena_ = std::make_shared<google::protobuf::Arena>(RequestArenaOptions());
    request_ = google::protobuf::Arena::CreateMessage<InsertRequest>(arena_.get());
  }

  void StartNextWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (write_in_flight_ || acks_.empty() || cancelled_) return;
    write_in_flight_ = true;
    StartWrite(&acks_.front());
  }

  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || op_pending_ || write_in_flight_) return;
    if (cancelled_) {
      finished_ = true;
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "insert stream cancelled"));
    } else if (reads_done_ && acks_.empty()) {
      finished_ = true;
      Finish(ToGrpcStatus(final_status_));
    }
  }

  ReplayServiceImpl* const service_;
  grpc::CallbackServerContext* const ctx_;
  const std::optional<WriteGrant> grant_;
  std::shared_ptr<google::protobuf::Arena> arena_;
  InsertRequest* request_ = nullptr;  // on arena_
  absl::Mutex mu_;
  std::deque<InsertResponse> acks_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Table> table_ ABSL_GUARDED_BY(mu_);
  Table::OpId op_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool op_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool read_held_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

// Sample stream. Steps:
//  1. StartRead(request); the first request names the table (NOT_FOUND ends
//     the stream), every request adds num_items of credit. A read is always
//     outstanding until the client half-closes.
//  2. While credit > 0 and no sample or write is in flight: Table::SampleAsync
//     for min(credit, max_batch) items (deadline: timeout_ms or the RPC's).
//  3. Sample callback: build the response, StartWrite; OnWriteDone goes to 2.
//  Finish when the client half-closed and the credit is spent, on a table
//  error (DEADLINE_EXCEEDED on timeout), or on cancellation; never while a
//  table operation is pending.
class SampleReactor : public grpc::ServerBidiReactor<SampleRequest, SampleResponse> {
 public:
  SampleReactor(ReplayServiceImpl* service, grpc::CallbackServerContext* ctx)
      : service_(service), ctx_(ctx) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // Half-close: the client wants nothing more. A waiting sample is
      // cancelled (a partial one holds no items; a batch one hands over what
      // it took, which is still written), and unused credit is dropped. A
      // sample still being started (op_id_ == 0) is cancelled by MaybeSample
      // once SampleAsync returns, as it sees reads_done_.
      std::shared_ptr<Table> table;
      Table::OpId id = 0;
      {
        absl::MutexLock lock(&mu_);
        reads_done_ = true;
        credit_ = 0;
        if (op_pending_ && op_id_ != 0) {
          table = table_;
          id = op_id_;
        }
        MaybeFinishLocked();
      }
      if (table != nullptr) table->Cancel(id);
      return;
    }
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      const bool first = table_ == nullptr;
      if (first) {
        table_ = service_->FindTable(request_.table());
        if (table_ == nullptr) {
          status = absl::NotFoundError(
              absl::StrCat("table: unknown table '", request_.table(), "'"));
        }
      }
      if (status.ok() && request_.num_items() < 0) {
        status = absl::InvalidArgumentError(
            absl::StrCat("num_items must be >= 0, got ", request_.num_items()));
      }
      if (status.ok() && (request_.max_batch() < 0 || request_.timeout_ms() < 0)) {
        status = absl::InvalidArgumentError("max_batch and timeout_ms must be >= 0");
      }
      // max_batch bounds one table operation (its loop under the table's lock
      // and the vectors it fills), so it is capped like an insert's rows.
      if (status.ok() && first && request_.max_batch() > service_->options().max_batch_rows) {
        status = absl::InvalidArgumentError(
            absl::StrCat("max_batch: ", request_.max_batch(), " exceeds --max_batch_rows=",
                         service_->options().max_batch_rows));
      }
      if (!status.ok()) {
        reads_done_ = true;
        if (final_status_.ok()) final_status_ = status;
        MaybeFinishLocked();
      } else {
        // Credit saturates instead of overflowing; one sample takes at most
        // max_batch_ of it.
        credit_ = request_.num_items() > INT64_MAX - credit_ ? INT64_MAX
                                                             : credit_ + request_.num_items();
        if (first) {  // later requests only add credit
          max_batch_ = request_.max_batch() > 0
                           ? request_.max_batch()
                           : std::min(kDefaultMaxBatch, service_->options().max_batch_rows);
          partial_ = request_.partial_batches();
          timeout_ms_ = request_.timeout_ms();
          batch_format_ = request_.batch_format();
        }
      }
    }
    if (!status.ok()) {
      if (service_->metrics() != nullptr) service_->metrics()->invalid_requests().Increment();
      return;
    }
    StartRead(&request_);
    MaybeSample();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      write_in_flight_ = false;
      if (!ok) cancelled_ = true;
      MaybeFinishLocked();
    }
    MaybeSample();
  }

  void OnCancel() override {
    std::shared_ptr<Table> table;
    Table::OpId id = 0;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      if (op_pending_ && op_id_ != 0) {
        table = table_;
        id = op_id_;
      }
      MaybeFinishLocked();
    }
    if (table != nullptr) table->Cancel(id);
  }

  // gRPC runs OnDone after every other reaction (OnCancel included) has
  // returned; taking the lock once makes that order visible to ThreadSanitizer
  // too (gRPC's own hand-over is not instrumented; docs/testing.md).
  void OnDone() override {
    { absl::MutexLock lock(&mu_); }
    delete this;
  }

 private:
  void MaybeSample() {
    std::shared_ptr<Table> table;
    int64_t n = 0;
    bool partial = false;
    absl::Time deadline;
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || cancelled_ || op_pending_ || write_in_flight_ || credit_ <= 0 ||
          !final_status_.ok() || table_ == nullptr) {
        return;
      }
      op_pending_ = true;
      table = table_;
      n = std::min(credit_, max_batch_);
      partial = partial_;
      deadline = RpcDeadline(ctx_);
      if (timeout_ms_ > 0) deadline = std::min(deadline, absl::Now() + absl::Milliseconds(timeout_ms_));
    }
    const Table::OpId id = table->SampleAsync(
        n, partial, deadline,
        [this](absl::StatusOr<std::vector<SampledEntry>> r) { OnSampled(std::move(r)); });
    bool cancel = false;
    {
      absl::MutexLock lock(&mu_);
      if (op_pending_) {
        op_id_ = id;
        // A half-close (OnReadDone(false)) or a cancellation that came while
        // SampleAsync ran saw op_id_ == 0 and could not cancel the sample:
        // it is cancelled here, or a parked sample would keep the call open
        // forever (the client waits in Close for the end of the stream).
        cancel = cancelled_ || reads_done_;
      }
    }
    if (cancel) table->Cancel(id);
  }

  void OnSampled(absl::StatusOr<std::vector<SampledEntry>> result) {
    absl::MutexLock lock(&mu_);
    op_pending_ = false;
    op_id_ = 0;
    if (!result.ok()) {
      // A sample cancelled by the client's half-close ends the stream cleanly.
      if (final_status_.ok() && !(reads_done_ && absl::IsCancelled(result.status()))) {
        final_status_ = result.status();
      }
      MaybeFinishLocked();
      return;
    }
    if (cancelled_) {
      MaybeFinishLocked();
      return;
    }
    // An items response references the stored items instead of copying them;
    // the entries in taken_ keep them alive until the write completes, and the
    // arena-allocated response never deletes what it references. A batch
    // response gathers the rows into columns.
    taken_ = std::move(*result);
    arena_.Reset();
    response_ = google::protobuf::Arena::CreateMessage<SampleResponse>(&arena_);
    FillSampleResponse(taken_, batch_format_, response_);
    credit_ -= static_cast<int64_t>(taken_.size());
    write_in_flight_ = true;
    StartWrite(response_);
  }

  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || op_pending_ || write_in_flight_) return;
    if (cancelled_) {
      finished_ = true;
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "sample stream cancelled"));
    } else if (!final_status_.ok() || (reads_done_ && credit_ <= 0)) {
      finished_ = true;
      Finish(ToGrpcStatus(final_status_));
    }
  }

  ReplayServiceImpl* const service_;
  grpc::CallbackServerContext* const ctx_;
  SampleRequest request_;
  google::protobuf::Arena arena_;
  SampleResponse* response_ = nullptr;  // on arena_
  std::vector<SampledEntry> taken_;     // what response_ references
  absl::Mutex mu_;
  std::shared_ptr<Table> table_ ABSL_GUARDED_BY(mu_);
  int64_t credit_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t max_batch_ ABSL_GUARDED_BY(mu_) = kDefaultMaxBatch;
  bool partial_ ABSL_GUARDED_BY(mu_) = false;
  int64_t timeout_ms_ ABSL_GUARDED_BY(mu_) = 0;
  bool batch_format_ ABSL_GUARDED_BY(mu_) = false;
  Table::OpId op_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool op_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

ReplayServiceImpl::ReplayServiceImpl(ReplayServiceOptions options, prometheus::Registry* registry)
    : options_(std::move(options)),
      server_bytes_(options_.max_server_bytes > 0
                        ? std::make_shared<ByteBudget>(options_.max_server_bytes)
                        : nullptr) {
  if (registry != nullptr) {
    metrics_ = std::make_unique<ReplayMetrics>(*registry);
    metrics_->server_max_bytes().Set(static_cast<double>(options_.max_server_bytes));
  }
}

ReplayServiceImpl::~ReplayServiceImpl() { Close(); }

absl::StatusOr<std::unique_ptr<ReplayServiceImpl>> ReplayServiceImpl::Create(
    const ReplayConfig& config, const ReplayServiceOptions& options,
    prometheus::Registry* registry) {
  if (options.max_table_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_table_bytes must be >= 0 (0 = none), got ", options.max_table_bytes));
  }
  if (options.max_server_bytes < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max_server_bytes must be >= 0 (0 = none), got ", options.max_server_bytes));
  }
  std::unique_ptr<ReplayServiceImpl> service(new ReplayServiceImpl(options, registry));
  RETURN_IF_ERROR(service->RestoreTables(config));
  return service;
}

absl::Status ReplayServiceImpl::RestoreTables(const ReplayConfig& config) {
  absl::MutexLock registry_lock(&registry_mu_);
  if (!options_.checkpoint_dir.empty()) {
    RETURN_IF_ERROR(MakeDirs(options_.checkpoint_dir));
    std::map<std::string, std::unique_ptr<Table>> restored;
    if (FileExists(CheckpointPath())) {
      ASSIGN_OR_RETURN(restored, ReadCheckpoint(CheckpointPath()));
    }
    if (FileExists(RegistryPath())) {
      // The registry says which tables exist; the checkpoint has items for
      // those it has under the same incarnation. Others were deleted (or
      // deleted and created again) after the checkpoint.
      ASSIGN_OR_RETURN(std::string text, ReadFileToString(RegistryPath()));
      TableRegistry registry;
      if (!google::protobuf::TextFormat::ParseFromString(text, &registry)) {
        return absl::DataLossError(
            absl::StrCat(RegistryPath(), " is not a text-format TableRegistry"));
      }
      deleted_.assign(registry.deleted().begin(), registry.deleted().end());
      last_incarnation_ = registry.last_incarnation();
      for (const RegisteredTable& t : registry.tables()) {
        last_incarnation_ = std::max(last_incarnation_, t.incarnation());
        auto it = restored.find(t.config().name());
        if (it != restored.end() && it->second->incarnation() == t.incarnation()) {
          it->second->AttachMetrics(MetricsFor(t.config().name()));
          InstallTable(std::move(it->second));
          restored.erase(it);
          continue;
        }
        auto table = Table::Create(t.config(), NextSeed(), MetricsFor(t.config().name()),
                                   OptionsForNewTable(t.incarnation()));
        if (!table.ok()) {
          return absl::Status(table.status().code(),
                              absl::StrCat(RegistryPath(), ": ", table.status().message()));
        }
        InstallTable(std::move(*table));
      }
      // Tables left in `restored` no longer exist: dropped here (their bytes
      // go back to the server budget).
    } else {
      // No registry yet (first start, or a checkpoint from before the
      // registry): every checkpointed table exists.
      for (auto& [name, table] : restored) {
        if (table->incarnation() == 0) table->set_incarnation(++last_incarnation_);
        last_incarnation_ = std::max(last_incarnation_, table->incarnation());
        table->AttachMetrics(MetricsFor(name));
        InstallTable(std::move(table));
      }
    }
  }
  for (const TableConfig& table : config.tables()) {
    if (FindTable(table.name()) != nullptr) continue;  // restored
    if (std::find(deleted_.begin(), deleted_.end(), table.name()) != deleted_.end()) {
      std::fprintf(stderr,
                   "replay_server: table '%s' of the configuration was deleted with "
                   "DeleteTable; not creating it (CreateTable brings it back)\n",
                   table.name().c_str());
      continue;
    }
    auto created = Table::Create(table, NextSeed(), MetricsFor(table.name()),
                                 OptionsForNewTable(last_incarnation_ + 1));
    if (!created.ok()) return created.status();
    ++last_incarnation_;
    InstallTable(std::move(*created));
  }
  return WriteRegistryLocked(nullptr, "");
}

uint64_t ReplayServiceImpl::NextSeed() {
  absl::MutexLock lock(&mu_);
  if (options_.seed == 0) return std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32);
  return options_.seed + 7919 * (seed_counter_++);
}

std::string ReplayServiceImpl::CheckpointPath() const {
  return absl::StrCat(options_.checkpoint_dir, "/replay.ckpt");
}

std::string ReplayServiceImpl::RegistryPath() const {
  return absl::StrCat(options_.checkpoint_dir, "/replay_tables.textproto");
}

std::shared_ptr<Table> ReplayServiceImpl::FindTable(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : it->second;
}

TableMetrics* ReplayServiceImpl::MetricsFor(const std::string& name) {
  if (metrics_ == nullptr) return nullptr;
  absl::MutexLock lock(&mu_);
  auto& slot = table_metrics_[name];
  if (slot == nullptr) slot = metrics_->ForTable(name);
  return slot.get();
}

TableOptions ReplayServiceImpl::OptionsForNewTable(uint64_t incarnation) const {
  TableOptions options;
  options.default_max_bytes = options_.max_table_bytes;
  options.server_bytes = server_bytes_;
  options.incarnation = incarnation;
  return options;
}

void ReplayServiceImpl::InstallTable(std::unique_ptr<Table> table) {
  absl::MutexLock lock(&mu_);
  const std::string name = table->name();
  tables_[name] = std::move(table);
}

absl::Status ReplayServiceImpl::WriteRegistryLocked(const Table* extra,
                                                    const std::string& without) {
  if (options_.checkpoint_dir.empty()) return absl::OkStatus();
  TableRegistry registry;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, table] : tables_) {
      if (name == without) continue;
      RegisteredTable* t = registry.add_tables();
      *t->mutable_config() = table->config();
      t->set_incarnation(table->incarnation());
    }
  }
  if (extra != nullptr) {
    RegisteredTable* t = registry.add_tables();
    *t->mutable_config() = extra->config();
    t->set_incarnation(extra->incarnation());
  }
  for (const std::string& name : deleted_) {
    if (extra == nullptr || name != extra->name()) registry.add_deleted(name);
  }
  if (!without.empty() &&
      std::find(deleted_.begin(), deleted_.end(), without) == deleted_.end()) {
    registry.add_deleted(without);
  }
  registry.set_last_incarnation(
      std::max(last_incarnation_, extra != nullptr ? extra->incarnation() : 0));
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(registry, &text)) {
    return absl::InternalError("cannot print the table registry");
  }
  absl::Status written = WriteStringAtomically(RegistryPath(), text);
  if (!written.ok()) {
    return absl::Status(written.code(), absl::StrCat("recording the replay tables in ",
                                                     RegistryPath(), ": ", written.message()));
  }
  return absl::OkStatus();
}

absl::Status ReplayServiceImpl::AddTable(const TableConfig& config) {
  absl::MutexLock registry_lock(&registry_mu_);
  if (FindTable(config.name()) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("table '", config.name(), "' already exists"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Table> table,
                   Table::Create(config, NextSeed(), MetricsFor(config.name()),
                                 OptionsForNewTable(last_incarnation_ + 1)));
  // Durable before it is visible: a table a caller was told exists survives
  // a crash right after.
  RETURN_IF_ERROR(WriteRegistryLocked(table.get(), ""));
  ++last_incarnation_;
  deleted_.erase(std::remove(deleted_.begin(), deleted_.end(), config.name()), deleted_.end());
  InstallTable(std::move(table));
  return absl::OkStatus();
}

absl::Status ReplayServiceImpl::RemoveTable(const std::string& name) {
  absl::MutexLock registry_lock(&registry_mu_);
  std::shared_ptr<Table> table = FindTable(name);
  if (table == nullptr) {
    return absl::NotFoundError(absl::StrCat("name: unknown table '", name, "'"));
  }
  RETURN_IF_ERROR(WriteRegistryLocked(nullptr, name));
  if (std::find(deleted_.begin(), deleted_.end(), name) == deleted_.end()) {
    deleted_.push_back(name);
  }
  {
    absl::MutexLock lock(&mu_);
    tables_.erase(name);
  }
  // Calls holding the table (reactors) see it closed; its items go now (a
  // sample response already taken keeps its rows until written).
  table->Close(absl::CancelledError(absl::StrCat("table '", name, "' was deleted")));
  table->Reset();
  // A table created later under this name gets the same metrics children.
  table->AttachMetrics(nullptr);
  return absl::OkStatus();
}

absl::Status ReplayServiceImpl::ValidateInsert(const InsertRequest& request,
                                               const Table& table) const {
  // Row counts first: a request's rows decide what the table allocates (chunk
  // metadata, keys), and a batch of zero-byte columns carries any num_rows at
  // no wire cost, so the counts are capped before anything else is looked at.
  const int64_t max_rows = options_.max_batch_rows;
  int64_t total_rows = request.items_size();
  if (total_rows > max_rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "items: ", total_rows, " items exceeds --max_batch_rows=", max_rows));
  }
  for (int b = 0; b < request.batches_size(); ++b) {
    const int64_t rows = request.batches(b).num_rows();
    if (rows < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("batches[", b, "].num_rows must be >= 1, got ", rows));
    }
    if (rows > max_rows) {
      return absl::InvalidArgumentError(absl::StrCat(
          "batches[", b, "].num_rows: ", rows, " exceeds --max_batch_rows=", max_rows));
    }
    total_rows += rows;
    if (total_rows > max_rows) {
      return absl::InvalidArgumentError(absl::StrCat(
          "batches[", b, "]: the request's rows (items and batches[0..", b, "]) total ",
          total_rows, ", exceeds --max_batch_rows=", max_rows));
    }
  }
  // Field paths are only built for the error message (this loop is hot).
  for (int i = 0; i < request.items_size(); ++i) {
    const Item& item = request.items(i);
    int64_t bytes = 0;
    for (int j = 0; j < item.tensors_size(); ++j) {
      absl::Status s = ValidateTensor(item.tensors(j).tensor(), "", options_.max_item_bytes);
      if (!s.ok()) {
        return ValidateTensor(item.tensors(j).tensor(),
                              absl::StrCat("items[", i, "].tensors[", j, "]"),
                              options_.max_item_bytes);
      }
      bytes += static_cast<int64_t>(item.tensors(j).tensor().data().size());
    }
    if (bytes > options_.max_item_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("items[", i, "]: ", bytes,
                                                     " bytes exceeds --max_item_bytes=",
                                                     options_.max_item_bytes));
    }
    if (absl::Status s = table.ValidateItem(item, ""); !s.ok()) {
      return table.ValidateItem(item, absl::StrCat("items[", i, "]"));
    }
  }
  for (int b = 0; b < request.batches_size(); ++b) {
    const ItemBatch& batch = request.batches(b);
    const std::string field = absl::StrCat("batches[", b, "]");
    RETURN_IF_ERROR(ValidateItemBatch(batch, field, options_.max_item_bytes));
    RETURN_IF_ERROR(table.ValidateBatch(batch, field));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ReplayServiceImpl::CheckpointNow() {
  if (options_.checkpoint_dir.empty()) {
    return absl::FailedPreconditionError("checkpoints are disabled (no --checkpoint_dir)");
  }
  absl::MutexLock checkpoint_lock(&checkpoint_mu_);
  std::vector<std::shared_ptr<Table>> tables;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, t] : tables_) tables.push_back(t);
  }
  int64_t items = 0;
  RETURN_IF_ERROR(WriteFileAtomically(
      CheckpointPath(), [&](google::protobuf::io::ZeroCopyOutputStream* raw) -> absl::Status {
        {
          google::protobuf::io::CodedOutputStream out(raw);
          out.WriteRaw(kCheckpointMagic, sizeof(kCheckpointMagic) - 1);
          out.WriteVarint32(static_cast<uint32_t>(tables.size()));
          if (out.HadError()) return absl::InternalError("checkpoint write failed");
        }
        for (const auto& t : tables) {
          google::protobuf::io::CodedOutputStream out(raw);
          items += t->size();
          RETURN_IF_ERROR(t->Checkpoint(&out));
        }
        return absl::OkStatus();
      }));
  return items;
}

absl::StatusOr<std::map<std::string, std::unique_ptr<Table>>> ReplayServiceImpl::ReadCheckpoint(
    const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  google::protobuf::io::FileInputStream raw(fd);
  raw.SetCloseOnDelete(true);
  uint32_t num_tables = 0;
  {
    google::protobuf::io::CodedInputStream in(&raw);
    std::string magic;
    if (!in.ReadString(&magic, sizeof(kCheckpointMagic) - 1) || magic != kCheckpointMagic ||
        !in.ReadVarint32(&num_tables)) {
      return absl::DataLossError(absl::StrCat(path, " is not a replay checkpoint"));
    }
  }
  std::map<std::string, std::unique_ptr<Table>> tables;
  for (uint32_t i = 0; i < num_tables; ++i) {
    google::protobuf::io::CodedInputStream in(&raw);
    // Metrics are attached once the table is known to stay.
    ASSIGN_OR_RETURN(std::unique_ptr<Table> table,
                     Table::Restore(&in, NextSeed(), nullptr, OptionsForNewTable(0)));
    const std::string name = table->name();
    tables[name] = std::move(table);
  }
  return tables;
}

void ReplayServiceImpl::Close() {
  std::vector<std::shared_ptr<Table>> tables;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, t] : tables_) tables.push_back(t);
  }
  for (const auto& t : tables) t->Close();
}

grpc::ServerBidiReactor<InsertRequest, InsertResponse>* ReplayServiceImpl::Insert(
    grpc::CallbackServerContext* context) {
  if (grpc::Status a = Authorize(options_.authorizer.get(), *context, "/rlx.ReplayService/Insert");
      !a.ok()) {
    return new FinishedBidiReactor<InsertRequest, InsertResponse>(a);
  }
  std::optional<WriteGrant> grant;
  if (options_.grant_signer != nullptr) {
    const auto& md = context->client_metadata();
    auto it = md.find(kWriteGrantHeader);
    absl::StatusOr<WriteGrant> verified =
        it == md.end()
            ? absl::PermissionDeniedError(
                  "inserts into this replay server need the write grant of an actor lease "
                  "(Assignment.write_grant, sent as x-rlx-write-grant)")
            : options_.grant_signer->Verify(absl::string_view(it->second.data(), it->second.size()));
    if (!verified.ok()) {
      if (metrics_ != nullptr) metrics_->invalid_requests().Increment();
      return new FinishedBidiReactor<InsertRequest, InsertResponse>(ToGrpcStatus(verified.status()));
    }
    grant = *std::move(verified);
  }
  return new InsertReactor(this, context, std::move(grant));
}

grpc::ServerBidiReactor<SampleRequest, SampleResponse>* ReplayServiceImpl::Sample(
    grpc::CallbackServerContext* context) {
  if (grpc::Status a = Authorize(options_.authorizer.get(), *context, "/rlx.ReplayService/Sample");
      !a.ok()) {
    return new FinishedBidiReactor<SampleRequest, SampleResponse>(a);
  }
  return new SampleReactor(this, context);
}

grpc::ServerUnaryReactor* ReplayServiceImpl::Info(grpc::CallbackServerContext* context,
                                                  const InfoRequest* request,
                                                  InfoResponse* response) {
  if (grpc::Status a = Authorize(options_.authorizer.get(), *context, "/rlx.ReplayService/Info");
      !a.ok()) {
    return Refuse(context, a);
  }
  if (!request->table().empty()) {
    std::shared_ptr<Table> table = FindTable(request->table());
    if (table == nullptr) {
      return FinishUnary(context, absl::NotFoundError(
                                      absl::StrCat("table: unknown table '", request->table(), "'")));
    }
    *response->add_tables() = table->Info();
    return FinishUnary(context, absl::OkStatus());
  }
  std::vector<std::shared_ptr<Table>> tables;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, t] : tables_) tables.push_back(t);
  }
  for (const auto& t : tables) *response->add_tables() = t->Info();
  return FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ReplayServiceImpl::CreateTable(grpc::CallbackServerContext* context,
                                                         const CreateTableRequest* request,
                                                         CreateTableResponse* response) {
  if (grpc::Status a = Authorize(options_.authorizer.get(), *context, "/rlx.ReplayService/CreateTable");
      !a.ok()) {
    return Refuse(context, a);
  }
  return FinishUnary(context, AddTable(request->config()));
}

grpc::ServerUnaryReactor* ReplayServiceImpl::DeleteTable(grpc::CallbackServerContext* context,
                                                         const DeleteTableRequest* request,
                                                         DeleteTableResponse* response) {
  if (grpc::Status a = Authorize(options_.authorizer.get(), *context, "/rlx.ReplayService/DeleteTable");
      !a.ok()) {
    return Refuse(context, a);
  }
  return FinishUnary(context, RemoveTable(request->name()));
}

grpc::ServerUnaryReactor* ReplayServiceImpl::UpdatePriorities(
    grpc::CallbackServerContext* context, const UpdatePrioritiesRequest* request,
    UpdatePrioritiesResponse* response) {
  if (grpc::Status a = Authorize(options_.authorizer.get(), *context, "/rlx.ReplayService/UpdatePriorities");
      !a.ok()) {
    return Refuse(context, a);
  }
  std::shared_ptr<Table> table = FindTable(request->table());
  if (table == nullptr) {
    return FinishUnary(context, absl::NotFoundError(
                                    absl::StrCat("table: unknown table '", request->table(), "'")));
  }
  auto missing = table->UpdatePriorities({request->keys().begin(), request->keys().end()},
                                         {request->priorities().begin(), request->priorities().end()});
  if (!missing.ok()) return FinishUnary(context, missing.status());
  *response->mutable_missing_keys() = {missing->begin(), missing->end()};
  return FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ReplayServiceImpl::Checkpoint(grpc::CallbackServerContext* context,
                                                        const CheckpointRequest* request,
                                                        CheckpointResponse* response) {
  if (grpc::Status a = Authorize(options_.authorizer.get(), *context, "/rlx.ReplayService/Checkpoint");
      !a.ok()) {
    return Refuse(context, a);
  }
  absl::StatusOr<int64_t> items = CheckpointNow();
  if (items.ok()) {
    response->set_path(CheckpointPath());
    response->set_items(*items);
  }
  return FinishUnary(context, items.status());
}

grpc::ServerUnaryReactor* ReplayServiceImpl::Reset(grpc::CallbackServerContext* context,
                                                   const ResetRequest* request,
                                                   ResetResponse* response) {
  if (grpc::Status a = Authorize(options_.authorizer.get(), *context, "/rlx.ReplayService/Reset");
      !a.ok()) {
    return Refuse(context, a);
  }
  std::shared_ptr<Table> table = FindTable(request->table());
  if (table == nullptr) {
    return FinishUnary(context, absl::NotFoundError(
                                    absl::StrCat("table: unknown table '", request->table(), "'")));
  }
  table->Reset();
  return FinishUnary(context, absl::OkStatus());
}

}  // namespace rlx
