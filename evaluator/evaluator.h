// The evaluator process's work loop: follows the learner's newest parameters
// for the running job, runs greedy episodes on its own env seeds every
// spec.eval.every_learner_steps learner steps, reports the returns to the
// learner (JobService.ReportEvaluation), appends them to the job's learning
// curve and keeps the best policy.
//
// Loop (Run):
//   1. LeaseAssignment(role "evaluator"); UNAVAILABLE (no job yet) or any
//      other error: wait with exponential backoff and ask again.
//   2. WatchParameters(job, after_version -1). For every version v that
//      crosses a multiple k * every_learner_steps (k >= 1; skipped versions
//      are fine: only the newest matters) evaluate that snapshot once
//      (evaluator/greedy_evaluation.h, eval_index k - 1), then
//        - ReportEvaluation(job, v, learner steps, returns, mean);
//        - append "learner_step,policy_version,mean_return,min,max,episodes"
//          to <out_dir>/<job>/eval_curve.csv;
//        - when the mean beats the best so far, write the snapshot
//          (SaveSnapshot + WriteStateFile, atomic) to
//          <out_dir>/<job>/best_policy.ckpt.
//   3. The stream ends (OK: the job ended; NOT_FOUND / UNAVAILABLE: it is gone
//      or the learner is): back to 1.
// An existing curve is continued when the job's first version is not older
// than its last row (an evaluator restart); otherwise (a new job under an old
// name) it is started afresh.
//
// Metrics (in the registry given to Create): rl_evaluator_episodes_total,
// rl_evaluator_evaluations_total, rl_evaluator_last_return,
// rl_evaluator_best_return.
//
// Threads: Run blocks its caller; Stop may be called from any thread and
// makes Run return OK soon (it cancels the call in flight and interrupts the
// backoff wait and the evaluation between episodes).
#ifndef RLX_EVALUATOR_EVALUATOR_H_
#define RLX_EVALUATOR_EVALUATOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "job.grpc.pb.h"
#include "learner.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "runtime/job_lease.h"

namespace rlx {

struct EvaluatorOptions {
  std::string name = "evaluator";     // LeaseAssignmentRequest.actor_name
  std::string out_dir = "./out";      // <out_dir>/<job>/{eval_curve.csv,best_policy.ckpt}
  absl::Duration rpc_timeout = absl::Seconds(10);  // unary calls
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(2);
};

class Evaluator {
 public:
  // channel: to the learner (JobService and ParameterService). registry must
  // outlive the evaluator.
  static absl::StatusOr<std::unique_ptr<Evaluator>> Create(
      std::shared_ptr<grpc::Channel> channel, EvaluatorOptions options,
      prometheus::Registry* registry);

  absl::Status Run() ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Completed evaluations since start (for tests and logs).
  int64_t evaluations() const { return evaluations_.load(); }

 private:
  struct JobCurve;  // per-job curve and best-policy bookkeeping

  Evaluator(std::shared_ptr<grpc::Channel> channel, EvaluatorOptions options,
            prometheus::Registry* registry);

  // Follows one job's parameter stream until it ends.
  absl::Status FollowJob(const Assignment& assignment);
  absl::Status EvaluateParameters(const JobSpec& spec, const Parameters& parameters,
                                  int64_t eval_index, JobCurve* curve);
  // Registers the parameter stream Stop cancels; false if already stopped.
  bool BeginFollow(ParameterStream* stream) ABSL_LOCKS_EXCLUDED(mu_);
  void EndFollow() ABSL_LOCKS_EXCLUDED(mu_);

  const EvaluatorOptions options_;
  LeaseLoop lease_loop_;
  std::unique_ptr<JobService::Stub> jobs_;
  std::unique_ptr<ParameterService::Stub> parameters_;

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  ParameterStream* following_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::atomic<bool> stop_flag_{false};  // polled by the episode loop
  std::atomic<int64_t> evaluations_{0};

  prometheus::Counter& episodes_total_;
  prometheus::Counter& evaluations_total_;
  prometheus::Gauge& last_return_;
  prometheus::Gauge& best_return_;
  // Multi-agent jobs, by label agents="N": the latest evaluation's figures.
  prometheus::Family<prometheus::Gauge>& swarm_success_;
  prometheus::Family<prometheus::Gauge>& swarm_collisions_;
  prometheus::Family<prometheus::Gauge>& swarm_time_to_goal_;
};

}  // namespace rlx

#endif  // RLX_EVALUATOR_EVALUATOR_H_
