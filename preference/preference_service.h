// PreferenceServiceImpl: the preference_server's gRPC service
// (proto/preference.proto) over the built-in preference functions
// (algorithms/preferences.h). Validates each request whole (a bad one is
// INVALID_ARGUMENT naming the field, nothing answered), bounds its size
// (max_pairs, max_trajectories) and answers every pair. Votes (function.sample)
// come from one process-wide generator seeded with `seed`.
//
// Metrics (rl_preference_*): pairs answered, requests by outcome, request
// latency. Thread-safe: gRPC calls Compare concurrently.
#ifndef RLX_PREFERENCE_PREFERENCE_SERVICE_H_
#define RLX_PREFERENCE_PREFERENCE_SERVICE_H_

#include <cstdint>
#include <random>

#include "absl/synchronization/mutex.h"
#include "core/security.h"
#include "preference.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace rlx {

struct PreferenceServiceOptions {
  uint64_t seed = 1;
  int max_pairs = 1 << 20;
  int max_trajectories = 1 << 16;
  // Checks each call's token (null = every call allowed).
  std::shared_ptr<const Authorizer> authorizer;
};

class PreferenceServiceImpl final : public PreferenceService::Service {
 public:
  PreferenceServiceImpl(PreferenceServiceOptions options, prometheus::Registry* registry);

  grpc::Status Compare(grpc::ServerContext* context, const CompareRequest* request,
                       CompareResponse* response) override;

 private:
  const PreferenceServiceOptions options_;
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  prometheus::Counter& pairs_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Histogram& latency_;
};

}  // namespace rlx

#endif  // RLX_PREFERENCE_PREFERENCE_SERVICE_H_
