// ReplayClient: the C++ client of the replay server, used by actors (insert),
// learners (sample), benchmarks and tests.
//
// InsertStream pipelines requests: Send() writes without waiting for the
// acknowledgement of earlier requests, up to max_in_flight unacknowledged ones
// (then it blocks: the server's backpressure reaches the caller). Flush() waits
// for every acknowledgement. SampleStream keeps `credit` items requested ahead
// and returns server batches as they arrive.
//
// Two wire forms of items (proto/replay.proto): one Item message each, or
// columnar ItemBatches (much cheaper per item for small items). Insert
// requests may carry either or both; ItemBatchBuilder (replay/item_batch.h)
// builds batches from rows. A sample stream opened with batch_format gets
// SampledBatches; read their rows without copying with ItemBatchReader.
//
// A ReplayClient is thread-safe; each stream object is used by one thread.
// Errors come back as absl::Status with the server's code and message.
//
// Build: link rlx::replay_client (this file and item_batch.h only); the
// server library rlx::replay is not needed to talk to a server.
#ifndef RLX_REPLAY_CLIENT_H_
#define RLX_REPLAY_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/arena.h>
#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/security.h"  // MakeChannel
#include "replay.grpc.pb.h"
#include "replay/item_batch.h"

namespace rlx {


class InsertStream {
 public:
  ~InsertStream();
  // Writes a request; blocks while max_in_flight requests are unacknowledged.
  absl::Status Send(const InsertRequest& request);
  // Waits until every sent request is acknowledged.
  absl::Status Flush();
  // Half-closes, waits for the remaining acknowledgements and the final status.
  absl::Status Finish();
  int64_t acknowledged() const;
  // Keys of acknowledged requests, in order (kept only with keep_keys).
  std::vector<uint64_t> TakeKeys();

 private:
  friend class ReplayClient;
  InsertStream(std::unique_ptr<grpc::ClientContext> ctx, ReplayService::Stub* stub,
               int max_in_flight, bool keep_keys);
  void ReadLoop();

  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<InsertRequest, InsertResponse>> stream_;
  const int max_in_flight_;
  const bool keep_keys_;
  std::thread reader_;
  mutable absl::Mutex mu_;
  int64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_done_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<uint64_t> keys_ ABSL_GUARDED_BY(mu_);
  bool finished_ = false;
  absl::Status final_status_;
};

class SampleStream {
 public:
  ~SampleStream();
  // Next batch of items (blocks). An error ends the stream (e.g.
  // DEADLINE_EXCEEDED when the server waited longer than timeout_ms). On a
  // batch_format stream the rows are copied out as SampledItems. A stream
  // opened with credit < 1 or max_total < 1 (it could never receive an item)
  // returns INVALID_ARGUMENT here without waiting.
  absl::Status Next(std::vector<SampledItem>* items);
  // The next server batch without copying it out: valid until the next call.
  // Its items (or, with batch_format, its batches' rows) count against credit;
  // the stream asks for more once half the credit is used.
  absl::StatusOr<const SampleResponse*> NextResponse();
  // Cancels the stream. Items the server already took for it are lost, which
  // matters for queue tables: prefer Close().
  void Cancel();
  // Half-closes and collects the batches still in flight (queue tables hand
  // each item out once: these must not be dropped). Ends the stream.
  absl::Status Close(std::vector<SampledItem>* leftovers);

 private:
  friend class ReplayClient;
  SampleStream(std::unique_ptr<grpc::ClientContext> ctx, ReplayService::Stub* stub,
               const SampleRequest& first, int64_t credit, int64_t max_total);
  // A stream that never opened: every call returns `error`.
  explicit SampleStream(absl::Status error);

  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<SampleRequest, SampleResponse>> stream_;
  const int64_t credit_;
  const int64_t max_total_;  // never request more than this many in all
  int64_t requested_ = 0;
  int64_t outstanding_ = 0;
  google::protobuf::Arena arena_;       // holds response_, reset per batch
  SampleResponse* response_ = nullptr;
  bool done_ = false;
  absl::Status open_error_;  // set when the stream was refused before opening
};

struct SampleStreamOptions {
  // Items requested ahead of consumption; >= 1.
  int64_t credit = 256;
  // At most this many items per response (0 = the server's default, 256).
  int32_t max_batch = 256;
  // How long the server may wait for items (0 = no limit).
  int64_t timeout_ms = 0;
  bool partial_batches = true;
  // Bounds the items requested over the stream's life; >= 1.
  int64_t max_total = INT64_MAX;
  // Responses carry SampledBatches (columnar) instead of SampledItems.
  bool batch_format = false;
};

class ReplayClient {
 public:
  explicit ReplayClient(std::shared_ptr<grpc::Channel> channel);

  std::unique_ptr<InsertStream> NewInsertStream(int max_in_flight = 8, bool keep_keys = false,
                                                absl::Duration timeout = absl::InfiniteDuration());
  // credit: items requested ahead of consumption; max_batch per response;
  // timeout_ms: how long the server may wait for items (0 = no limit).
  // max_total bounds the items requested over the stream's life.
  std::unique_ptr<SampleStream> NewSampleStream(const std::string& table, int64_t credit,
                                                int32_t max_batch, int64_t timeout_ms = 0,
                                                bool partial_batches = true,
                                                int64_t max_total = INT64_MAX);
  std::unique_ptr<SampleStream> NewSampleStream(const std::string& table,
                                                const SampleStreamOptions& options);

  // One-shot insert of items into a table; returns their keys.
  absl::StatusOr<std::vector<uint64_t>> Insert(const std::string& table, std::vector<Item> items,
                                               absl::Duration timeout = absl::Seconds(30));
  // One-shot insert of columnar batches (rows in order); returns their keys.
  absl::StatusOr<std::vector<uint64_t>> InsertBatches(const std::string& table,
                                                      std::vector<ItemBatch> batches,
                                                      absl::Duration timeout = absl::Seconds(30));
  // Samples exactly n items (waiting up to timeout); n >= 1 (INVALID_ARGUMENT
  // otherwise, at once).
  absl::StatusOr<std::vector<SampledItem>> Sample(const std::string& table, int64_t n,
                                                  absl::Duration timeout = absl::Seconds(30));
  // Samples exactly n items in columnar form (waiting up to timeout): the
  // server's batches in order, n rows in all; n >= 1 as for Sample.
  absl::StatusOr<std::vector<SampledBatch>> SampleBatches(
      const std::string& table, int64_t n, absl::Duration timeout = absl::Seconds(30));
  absl::StatusOr<InfoResponse> Info(const std::string& table = "");
  // With a --checkpoint_dir the table survives any server restart once this
  // returns OK.
  absl::Status CreateTable(const TableConfig& config);
  // Deletes a table and its items: NOT_FOUND for an unknown name. Calls
  // waiting on the table end with CANCELLED. Durable like CreateTable: a
  // restarted server does not bring the table back.
  absl::Status DeleteTable(const std::string& name);
  absl::StatusOr<std::vector<uint64_t>> UpdatePriorities(const std::string& table,
                                                         const std::vector<uint64_t>& keys,
                                                         const std::vector<double>& priorities);
  absl::StatusOr<CheckpointResponse> Checkpoint();
  absl::Status Reset(const std::string& table);
  // True when the server's health service answers SERVING within timeout.
  bool WaitUntilServing(absl::Duration timeout);

 private:
  // Sends one request on a new insert stream and returns its keys.
  absl::StatusOr<std::vector<uint64_t>> InsertRequestOnce(const InsertRequest& request,
                                                          absl::Duration timeout);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ReplayService::Stub> stub_;
};

}  // namespace rlx

#endif  // RLX_REPLAY_CLIENT_H_
