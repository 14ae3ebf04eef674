// JobRun: one running job inside the learner process. Its thread consumes the
// job's queue table in order (one StreamState, i.e. one trace set, per actor
// stream), learns each transition once, publishes versioned parameters to the
// job's ParameterHub, checkpoints periodically and at the end, and stops on
// the job's stop rule, on Cancel() or on Shutdown().
//
// Resume: when <checkpoint_dir>/<job>/learner.ckpt exists, the learner state,
// every stream's state and the counters are restored from it first, so step
// counters continue and nothing learned before the checkpoint is learned
// again (the queue no longer holds it).
//
// Thread-safe: status(), Cancel(), ReportEvaluation() and NextStreamIds() may
// be called from gRPC handlers while the run's thread works.
#ifndef RLX_LEARNER_JOB_RUN_H_
#define RLX_LEARNER_JOB_RUN_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "job.pb.h"
#include "learner/algorithms/learner.h"
#include "learner/learner_metrics.h"
#include "learner/monitors.h"
#include "learner/parameter_hub.h"
#include "replay/client.h"

namespace rlx {

struct JobRunOptions {
  std::string replay_address;
  std::string checkpoint_dir;  // root; the job uses <root>/<job name>/
  LearnerMetrics* metrics = nullptr;  // may be null
};

class JobRun {
 public:
  // spec must be valid (ValidateJobSpec). Starts the run's thread.
  JobRun(JobStatus initial, JobRunOptions options);
  ~JobRun();  // Shutdown() + join

  // A copy of the current status (state RUNNING until the thread ends).
  JobStatus status() const;
  bool finished() const;
  ParameterHub& parameters() { return hub_; }

  // Ends the run with JOB_CANCELLED (checkpoint kept).
  void Cancel();
  // Ends the run leaving it resumable (state stays RUNNING in the registry):
  // used when the learner process shuts down.
  void Shutdown();
  void Join();

  // Reserves n fresh stream ids (one per env of a leasing actor).
  std::vector<int64_t> NextStreamIds(int n);
  void ReportEvaluation(const EvaluationReport& report);

 private:
  void Run();
  absl::Status Setup();
  absl::Status LearnItem(const SampledItem& sampled);
  absl::Status WriteCheckpoint();
  absl::Status RestoreCheckpoint(const std::string& path);
  void PublishParameters();
  // The stop rule that is met, or empty.
  std::string StopReason();
  void Finish(JobState state, const std::string& message);
  std::string JobDir() const;

  const JobRunOptions options_;
  const JobSpec spec_;
  ParameterHub hub_;
  std::unique_ptr<ReplayClient> replay_;
  std::unique_ptr<StreamLearner> learner_;
  std::map<int64_t, StreamState> streams_;
  // Items of each stream processed (learned or skipped), published with the
  // parameters: actors bound their lead on it (max_policy_lag).
  std::map<int64_t, int64_t> consumed_;
  // Per stream: (episode id, step index) of the last learned item.
  std::map<int64_t, std::pair<int64_t, int64_t>> last_position_;
  // Exploration monitors: recent network inputs and actions.
  std::deque<std::vector<float>> recent_inputs_;
  ActionDiversity action_diversity_;
  absl::Time last_monitor_update_ = absl::InfinitePast();
  void UpdateMonitors();
  int64_t last_published_ = -1;
  int64_t last_checkpoint_ = 0;
  absl::Time started_;
  double wall_offset_ = 0;  // seconds run before a resume

  mutable absl::Mutex mu_;
  JobStatus status_ ABSL_GUARDED_BY(mu_);
  int64_t next_stream_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<double> recent_returns_ ABSL_GUARDED_BY(mu_);
  std::deque<double> recent_lags_ ABSL_GUARDED_BY(mu_);
  double lag_sum_ ABSL_GUARDED_BY(mu_) = 0;
  bool eval_target_met_ ABSL_GUARDED_BY(mu_) = false;
  bool has_best_eval_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace rlx

#endif  // RLX_LEARNER_JOB_RUN_H_
