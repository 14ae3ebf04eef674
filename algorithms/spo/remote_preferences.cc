#include "algorithms/spo/remote_preferences.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/backoff.h"
#include "core/grpc_status.h"

namespace rlx::spo {

RemotePreferences::RemotePreferences(std::shared_ptr<grpc::Channel> channel,
                                     RemotePreferenceOptions options)
    : options_(std::move(options)), stub_(PreferenceService::NewStub(std::move(channel))) {}

absl::StatusOr<std::vector<double>> RemotePreferences::CallOnce(const CompareRequest& request,
                                                                size_t expected) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  CompareResponse response;
  const absl::Time start = absl::Now();
  const grpc::Status status = stub_->Compare(&ctx, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  if (static_cast<size_t>(response.p_a_preferred_size()) != expected) {
    ++stats_.bad_answers;
    return absl::DataLossError(absl::StrCat("preference service answered ",
                                            response.p_a_preferred_size(), " pairs of ",
                                            expected));
  }
  for (int i = 0; i < response.p_a_preferred_size(); ++i) {
    const double p = response.p_a_preferred(i);
    if (!(p >= 0.0 && p <= 1.0)) {
      ++stats_.bad_answers;
      return absl::DataLossError(
          absl::StrCat("preference service answered ", p, " for pair ", i,
                       ", not a probability in [0, 1]"));
    }
  }
  stats_.latency_seconds += absl::ToDoubleSeconds(absl::Now() - start);
  return std::vector<double>(response.p_a_preferred().begin(), response.p_a_preferred().end());
}

absl::StatusOr<std::vector<double>> RemotePreferences::Compare(
    const std::vector<const Trajectory*>& trajectories,
    const std::vector<std::pair<int, int>>& pairs) {
  std::vector<double> answers;
  answers.reserve(pairs.size());
  Backoff backoff(options_.initial_backoff, options_.max_backoff);
  size_t next = 0;
  while (next < pairs.size()) {
    const size_t end = std::min(pairs.size(), next + options_.max_pairs_per_call);
    // Only the trajectories this slice refers to travel.
    CompareRequest request;
    request.set_job(options_.job);
    *request.mutable_function() = options_.function;
    std::vector<int> slot(trajectories.size(), -1);
    for (size_t q = next; q < end; ++q) {
      for (int index : {pairs[q].first, pairs[q].second}) {
        if (slot[index] < 0) {
          slot[index] = request.trajectories_size();
          *request.add_trajectories() = *trajectories[index];
        }
      }
      TrajectoryPair* p = request.add_pairs();
      p->set_a(slot[pairs[q].first]);
      p->set_b(slot[pairs[q].second]);
    }
    while (true) {
      absl::StatusOr<std::vector<double>> part = CallOnce(request, end - next);
      if (part.ok()) {
        ++stats_.calls;
        stats_.queries += static_cast<int64_t>(part->size());
        if (!stats_.last_error.empty()) {
          std::fprintf(stderr, "%s: preference service answers again\n",
                       options_.log_prefix.c_str());
          if (options_.on_problem) options_.on_problem("");
        }
        stats_.last_error.clear();
        answers.insert(answers.end(), part->begin(), part->end());
        backoff.Reset();
        break;
      }
      if (absl::IsInvalidArgument(part.status())) {
        return absl::InvalidArgumentError(
            absl::StrCat("preference service refused the request: ", part.status().message()));
      }
      ++stats_.failed_calls;
      const std::string error = part.status().ToString();
      if (error != stats_.last_error) {
        std::fprintf(stderr, "%s: preference service: %s; retrying with backoff\n",
                     options_.log_prefix.c_str(), error.c_str());
        if (options_.on_problem) {
          options_.on_problem(absl::StrCat("waiting for the preference service: ", error));
        }
      }
      stats_.last_error = error;
      // Wait in short slices so that a stop is noticed soon.
      const absl::Time until = absl::Now() + backoff.NextDelay();
      while (absl::Now() < until) {
        if (options_.stopped && options_.stopped()) {
          return absl::CancelledError("stopped while the preference service was failing");
        }
        absl::SleepFor(std::min(absl::Milliseconds(50), until - absl::Now()));
      }
      if (options_.stopped && options_.stopped()) {
        return absl::CancelledError("stopped while the preference service was failing");
      }
    }
    next = end;
  }
  return answers;
}

}  // namespace rlx::spo
