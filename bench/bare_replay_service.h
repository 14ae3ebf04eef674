// BareReplayService: the throughput ceiling for bench/replay_bench. It speaks
// the same ReplayService protocol (same message shapes) and uses the same
// message handling as the real service (requests parsed onto an arena and kept
// there, responses referencing stored items), but only appends items to one
// deque behind one mutex and samples them round-robin: no sampler, remover,
// rate limiter, validation or metrics. Implements Insert, Sample and Reset.
#ifndef RLX_BENCH_BARE_REPLAY_SERVICE_H_
#define RLX_BENCH_BARE_REPLAY_SERVICE_H_

#include <deque>
#include <memory>

#include <google/protobuf/arena.h>

#include "absl/synchronization/mutex.h"
#include "replay.grpc.pb.h"

namespace rlx {

class BareReplayService final : public ReplayService::CallbackService {
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

 private:
  absl::Mutex mu_;
  std::deque<std::shared_ptr<const Item>> items_ ABSL_GUARDED_BY(mu_);
  size_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_key_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace rlx

#endif  // RLX_BENCH_BARE_REPLAY_SERVICE_H_
