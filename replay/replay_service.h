// ReplayServiceImpl: the gRPC face of the replay server (proto/replay.proto).
//
// Owns the tables (created at start from a ReplayConfig, restored from a
// checkpoint, or added by CreateTable; removed by DeleteTable) and writes
// checkpoints of all of them to <checkpoint_dir>/replay.ckpt.
//
// Durability of the table set: with a checkpoint_dir, which tables exist is
// recorded in <checkpoint_dir>/replay_tables.textproto (a TableRegistry,
// written atomically) before CreateTable / DeleteTable return OK and at
// start-up, so a created table survives any restart, kill -9 included, and a
// deleted one stays deleted. Items are only as durable as the last checkpoint.
//
// Byte budgets: every table has one (TableConfig.max_bytes, or
// max_table_bytes), and all tables share max_server_bytes (see
// replay/table.h for what happens when an insert does not fit).
//
// Insert and Sample are callback-API bidi reactors (InsertReactor,
// SampleReactor in replay_service.cc): no gRPC thread blocks on the rate
// limiter; a waiting operation is parked in its Table and resumed by the call
// that unblocks it. Requests are validated before anything is stored: a bad
// request ends its stream with INVALID_ARGUMENT (NOT_FOUND for an unknown
// table) naming the field; earlier acknowledged requests stay stored and other
// streams are unaffected.
//
// Thread-safe. Close() ends every waiting operation (UNAVAILABLE) so a server
// shutdown cannot hang on a blocked call; DeleteTable ends the deleted table's
// waiting operations with CANCELLED.
#ifndef RLX_REPLAY_REPLAY_SERVICE_H_
#define RLX_REPLAY_REPLAY_SERVICE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "replay.grpc.pb.h"
#include "core/security.h"
#include "core/write_grant.h"
#include "replay/byte_budget.h"
#include "replay/table.h"
#include "replay/table_metrics.h"

namespace rlx {

struct ReplayServiceOptions {
  // Largest accepted item (sum of its tensors' bytes).
  int64_t max_item_bytes = 64 << 20;
  // Most rows in one insert request (its items plus every batch's num_rows),
  // and the largest SampleRequest.max_batch (items per sample response).
  // Checked before anything is allocated for the request.
  int64_t max_batch_rows = 1 << 20;
  // Byte budget of a table whose TableConfig.max_bytes is 0; 0 = none.
  int64_t max_table_bytes = int64_t{1} << 30;
  // Byte budget of all tables together; 0 = none.
  int64_t max_server_bytes = int64_t{4} << 30;
  // Where Checkpoint() writes (and the table registry lives); empty =
  // checkpoints disabled, tables last as long as the process.
  std::string checkpoint_dir;
  // Seed for the tables' samplers (0 = random).
  uint64_t seed = 0;
  // Checks each call's token (null = every call allowed).
  std::shared_ptr<const Authorizer> authorizer;
  // With a signer, inserts need a write grant from the learner and stay
  // inside it (core/write_grant.h); null = any table and stream.
  std::shared_ptr<const GrantSigner> grant_signer;
};

class ReplayServiceImpl final : public ReplayService::CallbackService {
 public:
  // Restores the tables of <checkpoint_dir>/replay_tables.textproto (items
  // from <checkpoint_dir>/replay.ckpt where it has them; without a registry
  // file, every table of replay.ckpt), then creates the configured tables
  // that do not exist and were not deleted, and writes the registry.
  // registry may be null.
  static absl::StatusOr<std::unique_ptr<ReplayServiceImpl>> Create(
      const ReplayConfig& config, const ReplayServiceOptions& options,
      prometheus::Registry* registry);
  ~ReplayServiceImpl() override;

  // Writes all tables; returns the number of items written.
  absl::StatusOr<int64_t> CheckpointNow();
  void Close();

  // nullptr when unknown.
  std::shared_ptr<Table> FindTable(const std::string& name) const;
  // CreateTable: ALREADY_EXISTS, INVALID_ARGUMENT for a bad config, or the
  // error of recording the table on disk (then the table is not created).
  absl::Status AddTable(const TableConfig& config);
  // DeleteTable: NOT_FOUND for an unknown name, or the error of recording the
  // deletion (then the table stays). Waiting operations on the table end with
  // CANCELLED; its items are dropped (sample responses already taken are
  // still delivered).
  absl::Status RemoveTable(const std::string& name);
  // The server's total byte budget; null when max_server_bytes is 0.
  const ByteBudget* server_bytes() const { return server_bytes_.get(); }
  const ReplayServiceOptions& options() const { return options_; }
  ReplayMetrics* metrics() { return metrics_.get(); }

  // Validates a request's items against its table; the first problem found.
  absl::Status ValidateInsert(const InsertRequest& request, const Table& table) const;

  grpc::ServerBidiReactor<InsertRequest, InsertResponse>* Insert(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<SampleRequest, SampleResponse>* Sample(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Info(grpc::CallbackServerContext* context,
                                 const InfoRequest* request, InfoResponse* response) override;
  grpc::ServerUnaryReactor* CreateTable(grpc::CallbackServerContext* context,
                                        const CreateTableRequest* request,
                                        CreateTableResponse* response) override;
  grpc::ServerUnaryReactor* DeleteTable(grpc::CallbackServerContext* context,
                                        const DeleteTableRequest* request,
                                        DeleteTableResponse* response) override;
  grpc::ServerUnaryReactor* UpdatePriorities(grpc::CallbackServerContext* context,
                                             const UpdatePrioritiesRequest* request,
                                             UpdatePrioritiesResponse* response) override;
  grpc::ServerUnaryReactor* Checkpoint(grpc::CallbackServerContext* context,
                                       const CheckpointRequest* request,
                                       CheckpointResponse* response) override;
  grpc::ServerUnaryReactor* Reset(grpc::CallbackServerContext* context,
                                  const ResetRequest* request, ResetResponse* response) override;

 private:
  explicit ReplayServiceImpl(ReplayServiceOptions options, prometheus::Registry* registry);
  // The tables of a checkpoint file, by name.
  absl::StatusOr<std::map<std::string, std::unique_ptr<Table>>> ReadCheckpoint(
      const std::string& path);
  // Start-up: the registry's (or the checkpoint's) tables, then the
  // configured ones.
  absl::Status RestoreTables(const ReplayConfig& config);
  // The table's metrics children (nullptr without metrics).
  TableMetrics* MetricsFor(const std::string& name) ABSL_LOCKS_EXCLUDED(mu_);
  TableOptions OptionsForNewTable(uint64_t incarnation) const;
  // Stores a new table (no name clash: checked by the caller).
  void InstallTable(std::unique_ptr<Table> table) ABSL_LOCKS_EXCLUDED(mu_);
  // Writes the registry file for the tables in tables_ (plus `extra`, minus
  // `without`); no-op without a checkpoint_dir.
  absl::Status WriteRegistryLocked(const Table* extra, const std::string& without)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t NextSeed();
  std::string CheckpointPath() const;
  std::string RegistryPath() const;

  const ReplayServiceOptions options_;
  std::unique_ptr<ReplayMetrics> metrics_;
  const std::shared_ptr<ByteBudget> server_bytes_;  // null = no server budget
  // Serializes table creation and deletion with their registry writes.
  // Acquired before mu_.
  absl::Mutex registry_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::vector<std::string> deleted_ ABSL_GUARDED_BY(registry_mu_);
  uint64_t last_incarnation_ ABSL_GUARDED_BY(registry_mu_) = 0;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Table>> tables_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<TableMetrics>> table_metrics_ ABSL_GUARDED_BY(mu_);
  uint64_t seed_counter_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Mutex checkpoint_mu_;  // one checkpoint at a time
};

}  // namespace rlx

#endif  // RLX_REPLAY_REPLAY_SERVICE_H_
