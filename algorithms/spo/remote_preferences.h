// Preference queries to a PreferenceService (proto/preference.proto: the
// preference_server process, a person's UI, a learned model) as a
// Comparator (win_rate.h): one batched Compare call per group (split at
// max_pairs_per_call), answers checked (one per pair, each a probability in
// [0, 1]).
//
// Faults: a service that is away (UNAVAILABLE), slow (DEADLINE_EXCEEDED after
// rpc_timeout) or answers something that is not a probability is retried
// with exponential backoff (initial_backoff doubling to max_backoff), with
// one log line per change of the error, until it answers or `stopped`
// returns true (then CANCELLED); nothing asked is dropped meanwhile. A
// request the service refuses as INVALID_ARGUMENT is returned at once (the
// job is wrong, waiting will not fix it). stats() counts queries, calls,
// errors and latency for metrics and status. Not thread-safe: one caller.
#ifndef RLX_ALGORITHMS_SPO_REMOTE_PREFERENCES_H_
#define RLX_ALGORITHMS_SPO_REMOTE_PREFERENCES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "preference.grpc.pb.h"

namespace rlx::spo {

struct RemotePreferenceOptions {
  std::string job;                       // CompareRequest.job
  PreferenceFunctionSpec function;
  absl::Duration rpc_timeout = absl::Seconds(10);
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  int max_pairs_per_call = 65536;
  std::function<bool()> stopped;         // may be empty (never stops)
  // Called with the error while the service fails, with "" once it answers
  // again (may be empty): the job's status shows it.
  std::function<void(const std::string&)> on_problem;
  std::string log_prefix = "spo";
};

struct RemotePreferenceStats {
  int64_t queries = 0;         // pairs answered
  int64_t calls = 0;           // Compare calls that succeeded
  int64_t failed_calls = 0;    // away, slow, or not a probability (retried)
  int64_t bad_answers = 0;     // of which: answers that were not probabilities
  double latency_seconds = 0;  // of the successful calls, summed
  std::string last_error;      // empty when the last call succeeded
};

class RemotePreferences {
 public:
  RemotePreferences(std::shared_ptr<grpc::Channel> channel, RemotePreferenceOptions options);

  absl::StatusOr<std::vector<double>> Compare(const std::vector<const Trajectory*>& trajectories,
                                              const std::vector<std::pair<int, int>>& pairs);
  const RemotePreferenceStats& stats() const { return stats_; }

 private:
  // One call for a slice of the pairs; the answers' checks included.
  absl::StatusOr<std::vector<double>> CallOnce(const CompareRequest& request, size_t expected);

  const RemotePreferenceOptions options_;
  std::unique_ptr<PreferenceService::Stub> stub_;
  RemotePreferenceStats stats_;
};

}  // namespace rlx::spo

#endif  // RLX_ALGORITHMS_SPO_REMOTE_PREFERENCES_H_
