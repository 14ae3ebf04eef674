// ReplayServiceImpl: the gRPC face of the replay server (proto/replay.proto).
//
// Owns the tables (created at start from a ReplayConfig, restored from a
// checkpoint, or added by CreateTable) and writes checkpoints of all of them
// to <checkpoint_dir>/replay.ckpt.
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
// shutdown cannot hang on a blocked call.
#ifndef RLX_REPLAY_REPLAY_SERVICE_H_
#define RLX_REPLAY_REPLAY_SERVICE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "replay.grpc.pb.h"
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
  // Where Checkpoint() writes; empty = checkpoints disabled.
  std::string checkpoint_dir;
  // Seed for the tables' samplers (0 = random).
  uint64_t seed = 0;
};

class ReplayServiceImpl final : public ReplayService::CallbackService {
 public:
  // Restores tables from <checkpoint_dir>/replay.ckpt when it exists, then
  // creates the configured tables that were not restored. registry may be null.
  static absl::StatusOr<std::unique_ptr<ReplayServiceImpl>> Create(
      const ReplayConfig& config, const ReplayServiceOptions& options,
      prometheus::Registry* registry);
  ~ReplayServiceImpl() override;

  // Writes all tables; returns the number of items written.
  absl::StatusOr<int64_t> CheckpointNow();
  void Close();

  // nullptr when unknown.
  std::shared_ptr<Table> FindTable(const std::string& name) const;
  absl::Status AddTable(const TableConfig& config);
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
  absl::Status RestoreFromCheckpoint(const std::string& path);
  uint64_t NextSeed();
  std::string CheckpointPath() const;

  const ReplayServiceOptions options_;
  std::unique_ptr<ReplayMetrics> metrics_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Table>> tables_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<TableMetrics>> table_metrics_ ABSL_GUARDED_BY(mu_);
  uint64_t seed_counter_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Mutex checkpoint_mu_;  // one checkpoint at a time
};

}  // namespace rlx

#endif  // RLX_REPLAY_REPLAY_SERVICE_H_
