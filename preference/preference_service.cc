#include "preference/preference_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "algorithms/preferences.h"
#include "core/grpc_status.h"
#include "core/metrics.h"

namespace rlx {

PreferenceServiceImpl::PreferenceServiceImpl(PreferenceServiceOptions options,
                                             prometheus::Registry* registry)
    : options_(options),
      rng_(options.seed),
      pairs_(prometheus::BuildCounter()
                 .Name("rl_preference_pairs_total")
                 .Help("Trajectory pairs answered.")
                 .Register(*registry)
                 .Add({})),
      requests_(prometheus::BuildCounter()
                    .Name("rl_preference_requests_total")
                    .Help("Compare requests by outcome (ok, invalid).")
                    .Register(*registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("rl_preference_request_seconds")
                   .Help("Time to answer one Compare request.")
                   .Register(*registry)
                   .Add({}, prometheus::Histogram::BucketBoundaries(LatencyBuckets()))) {}

grpc::Status PreferenceServiceImpl::Compare(grpc::ServerContext* context,
                                            const CompareRequest* request,
                                            CompareResponse* response) {
  if (grpc::Status a =
          Authorize(options_.authorizer.get(), *context, "/rlx.PreferenceService/Compare");
      !a.ok()) {
    return a;
  }
  const absl::Time start = absl::Now();
  absl::Status status;
  if (request->pairs_size() > options_.max_pairs) {
    status = absl::InvalidArgumentError(absl::StrCat("pairs: at most ", options_.max_pairs,
                                                     " per request, got ", request->pairs_size()));
  } else if (request->trajectories_size() > options_.max_trajectories) {
    status = absl::InvalidArgumentError(absl::StrCat("trajectories: at most ",
                                                     options_.max_trajectories,
                                                     " per request, got ",
                                                     request->trajectories_size()));
  } else {
    absl::StatusOr<CompareResponse> answer;
    if (request->function().sample()) {
      // Votes share one generator.
      absl::MutexLock lock(&mu_);
      answer = spo::Compare(*request, &rng_);
    } else {
      std::mt19937_64 unused;  // probabilities draw nothing
      answer = spo::Compare(*request, &unused);
    }
    if (answer.ok()) {
      *response = std::move(*answer);
      pairs_.Increment(static_cast<double>(response->p_a_preferred_size()));
    } else {
      status = answer.status();
    }
  }
  requests_.Add({{"outcome", status.ok() ? "ok" : "invalid"}}).Increment();
  latency_.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return ToGrpcStatus(status);
}

}  // namespace rlx
