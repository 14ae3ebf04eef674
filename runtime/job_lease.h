// What the actor and the evaluator share on the learner's side of the wire:
// asking JobService for work until it hands some out (LeaseLoop), and
// following a job's parameter versions (ParameterStream). Both are
// cancellable from another thread, so a process's Stop() ends them at once.
// Algorithm-neutral: what an assignment runs is the registry's business
// (algorithms/registry.h).
#ifndef RLX_RUNTIME_JOB_LEASE_H_
#define RLX_RUNTIME_JOB_LEASE_H_

#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/backoff.h"
#include "job.grpc.pb.h"
#include "learner.grpc.pb.h"

namespace rlx {

struct LeaseLoopOptions {
  std::string name;                 // LeaseAssignmentRequest.actor_name
  std::string role = "actor";       // "actor" | "evaluator"
  absl::Duration rpc_timeout = absl::Seconds(5);
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
  std::string log_prefix = "actor";  // e.g. "actor a1"
  // Log UNAVAILABLE (no job is running) too; the evaluator waits quietly.
  bool log_unavailable = true;
};

// Next() asks LeaseAssignment until it answers with an assignment: errors
// (UNAVAILABLE while no job runs, a learner that is not up) are retried
// with exponential backoff, logged once per change of the error. Stop() is
// thread-safe: it cancels the call in flight and wakes every wait; Next then
// returns CANCELLED. One thread calls Next / Wait / ResetBackoff.
class LeaseLoop {
 public:
  LeaseLoop(std::shared_ptr<grpc::Channel> learner, LeaseLoopOptions options);

  absl::StatusOr<Assignment> Next() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits the next backoff delay (e.g. after an assignment that did no
  // work); false when stopped.
  bool Wait() ABSL_LOCKS_EXCLUDED(mu_);
  void ResetBackoff() { backoff_.Reset(); }
  // Waits up to `delay` unless stopped; false when stopped.
  bool SleepUnlessStopped(absl::Duration delay) ABSL_LOCKS_EXCLUDED(mu_);

  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  bool stopped() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const LeaseLoopOptions options_;
  std::unique_ptr<JobService::Stub> jobs_;
  Backoff backoff_;
  std::string last_error_;
  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// One WatchParameters stream (job, after_version -1, lease_id, stride;
// stride 0 = every version): Start opens it, Read blocks for the next
// version; Cancel (thread-safe, also before Start) ends it; Finish gives the
// stream's status once Read returned false (OK: the job ended; NOT_FOUND: no
// such running job; UNAVAILABLE: the learner went away; CANCELLED after
// Cancel). Register the object where Cancel can reach it before Start.
class ParameterStream {
 public:
  ParameterStream(const std::string& job, int64_t lease_id, int64_t stride = 0);
  void Start(ParameterService::Stub* stub);
  bool Read(Parameters* parameters);
  void Cancel();
  absl::Status Finish();

 private:
  WatchParametersRequest request_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<Parameters>> reader_;
};

}  // namespace rlx

#endif  // RLX_RUNTIME_JOB_LEASE_H_
