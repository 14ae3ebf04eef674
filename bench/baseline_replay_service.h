// BaselineReplayService: a baseline for bench/replay_bench, not a ceiling. It
// speaks the same ReplayService protocol (same message shapes) and uses the
// same message parsing as the real service (requests parsed onto an arena and
// kept there, responses referencing stored items), but only appends items to
// one deque behind one mutex and samples them round-robin: no sampler,
// remover, rate limiter, validation or metrics. Implements Insert, Sample and
// Reset.
//
// Why it is no upper bound: its Insert reactor handles one request at a time
// per stream (read, store, write the ack, then read the next), while the real
// service reads the next request while acks are written (up to 16 queued), so
// the real service's pipelined inserts (the batch format above all) can beat
// it. Read "x baseline" ratios as "against the simplest server with the same
// messages", not as a fraction of what is possible.
//
// Both wire forms: items (stored as parsed, referenced by responses) and
// columnar batches (stored as chunk + row, gathered into SampledBatches by
// the real service's code, replay/wire.h). Sample streams with batch_format
// get the batch rows; the others the items.
#ifndef RLX_BENCH_BASELINE_REPLAY_SERVICE_H_
#define RLX_BENCH_BASELINE_REPLAY_SERVICE_H_

#include <deque>
#include <memory>

#include <google/protobuf/arena.h>

#include "absl/synchronization/mutex.h"
#include "replay.grpc.pb.h"
#include "replay/chunk.h"
#include "replay/table.h"

namespace rlx {

class BaselineReplayService final : public ReplayService::CallbackService {
 public:
  grpc::ServerBidiReactor<InsertRequest, InsertResponse>* Insert(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<SampleRequest, SampleResponse>* Sample(
      grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* Reset(grpc::CallbackServerContext* context,
                                  const ResetRequest* request, ResetResponse* response) override;

  void Append(const std::shared_ptr<google::protobuf::Arena>& arena, InsertRequest* request,
              InsertResponse* response);
  // Up to n items, round-robin.
  void Take(int64_t n, std::vector<std::shared_ptr<const Item>>* out);
  // Up to n batch rows, round-robin.
  void TakeRows(int64_t n, std::vector<SampledEntry>* out);

 private:
  struct Row {
    ChunkPtr chunk;
    int row;
    uint64_t key;
  };
  absl::Mutex mu_;
  std::deque<std::shared_ptr<const Item>> items_ ABSL_GUARDED_BY(mu_);
  size_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Row> rows_ ABSL_GUARDED_BY(mu_);
  size_t row_cursor_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_key_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace rlx

#endif  // RLX_BENCH_BASELINE_REPLAY_SERVICE_H_
