// JobRun: one running job inside the learner process, whatever its
// algorithm. Its thread consumes the job's queue table in order, hands each
// item of a leased stream to the algorithm's JobLearner (algorithms/
// algorithm.h, made by the registry from the job's algorithm name: stream-x
// learns each transition once with one trace set per stream, PPO gathers
// unrolls into a rollout and updates), publishes versioned parameters to the
// job's ParameterHub, checkpoints periodically and at the end, and stops on
// the job's stop rule, on Cancel() or on Shutdown().
//
// Resume: when <checkpoint_dir>/<job>/learner.ckpt exists, the learner state,
// every stream's state and the counters are restored from it first, so step
// counters continue and nothing learned before the checkpoint is learned
// again (the queue no longer holds it).
//
// Leases: an actor's LeaseAssignment gets envs_per_actor fresh stream ids
// under a lease id. At most spec.num_actors leases are held at once. A lease
// is held while a parameter stream names it (AttachWatcher) and for
// options.lease_grace after its last one closes (options.first_watch_grace
// after the lease, before any); then it ends and its streams' learner state
// (traces, counters) is dropped. Items of streams that no lease holds are
// skipped, so forged actor ids cost nothing: the learner's state is bounded
// by num_actors * envs_per_actor streams.
//
// The replay table: created at start (re-created whenever the replay server
// answers NOT_FOUND, e.g. after a restart that lost it) and deleted when the
// job ends unless spec.keep_table.
//
// Thread-safe: status(), Cancel(), ReportEvaluation(), Lease() and the
// watcher calls may be called from gRPC handlers while the run's thread works.
#ifndef RLX_LEARNER_JOB_RUN_H_
#define RLX_LEARNER_JOB_RUN_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/synchronization/mutex.h"
#include "job.pb.h"
#include "algorithms/algorithm.h"
#include "learner/learner_metrics.h"
#include "learner/parameter_hub.h"
#include "replay/client.h"

namespace rlx {

struct JobRunOptions {
  std::string replay_address;
  std::string preference_address;  // default for jobs that name none (SPO)
  std::string checkpoint_dir;  // root; the job uses <root>/<job name>/
  LearnerMetrics* metrics = nullptr;  // may be null
  absl::Duration lease_grace = absl::Seconds(10);
  absl::Duration first_watch_grace = absl::Seconds(60);
  // Called (from the run's thread, holding none of its locks) after the
  // run's first checkpoint: this start made progress, so the starts before
  // it no longer count as a crash loop (JobStatus.unclean_starts).
  std::function<void()> on_first_checkpoint;
};

// Stream ids a restored run skips per unclean start: a learner killed between
// checkpoints may have leased ids past the checkpoint's counter, and items of
// those streams can still wait in the table; the resumed run must not hand
// the same ids to its new leases.
inline constexpr int64_t kStreamIdsPerStart = int64_t{1} << 24;

// What Lease hands out.
struct StreamLease {
  int64_t lease_id = 0;
  std::vector<int64_t> stream_ids;
};

// Records an evaluation in a job's status: last return and step, the best
// return so far, the curve's path.
void RecordEvaluation(const EvaluationReport& report, JobStatus* status);

// Sets `status`'s env_steps and episodes to the progress saved in its job's
// newest checkpoint (<checkpoint_dir>/<job>/learner.ckpt), if there is one:
// a resuming job shows that from the first moment, not an older count (the
// counter clients see never goes back further than the last checkpoint).
void ShowCheckpointProgress(const std::string& checkpoint_dir, JobStatus* status);

class JobRun {
 public:
  // spec must be valid (ValidateJobSpec). Starts the run's thread.
  JobRun(JobStatus initial, JobRunOptions options);
  ~JobRun();  // Shutdown() + join

  // A copy of the current status (state RUNNING until the thread ends).
  JobStatus status() const;
  bool finished() const;
  ParameterHub& parameters() { return hub_; }
  // How many more of a lease's items the learner takes before a progress
  // message tells its actor (ParameterHub::Progress): half the job's
  // max_policy_lag, at least 1, so an actor held by the bound goes on with
  // room for a batch rather than one item. 0 (none) without a bound, and
  // for max_policy_lag 0: there the actor waits for the version that learned
  // from its items (lock step, synchronous PPO), which carries the counts.
  int64_t progress_step() const {
    return spec_.max_policy_lag() <= 0 ? 0 : std::max<int64_t>(1, spec_.max_policy_lag() / 2);
  }

  // Ends the run with JOB_CANCELLED (checkpoint kept).
  void Cancel();
  // Ends the run leaving it resumable (state stays RUNNING in the registry):
  // used when the learner process shuts down.
  void Shutdown();
  void Join();

  // A new lease of envs_per_actor fresh streams for actor `actor_name`;
  // UNAVAILABLE while the job is ending or already has num_actors leases.
  absl::StatusOr<StreamLease> Lease(const std::string& actor_name);
  // A parameter stream of lease_id opened / closed. Attach returns false for
  // a lease that ended (or never existed): the actor must lease again.
  bool AttachWatcher(int64_t lease_id);
  void DetachWatcher(int64_t lease_id);
  // The streams of a held lease (empty when it ended).
  std::vector<int64_t> LeaseStreams(int64_t lease_id) const;
  // Whether the job is ending (cancelled, shutting down, a stop rule met).
  bool ending() const;
  void ReportEvaluation(const EvaluationReport& report);

 private:
  void Run();
  absl::Status Setup();
  absl::Status LearnItem(const SampledItem& sampled);
  absl::Status WriteCheckpoint();
  absl::Status RestoreCheckpoint(const std::string& path);
  void PublishParameters();
  // The stop rule that is met, or empty; a met one also ends leasing.
  std::string StopReason();
  std::string StopReasonNow();
  void Finish(JobState state, const std::string& message);
  std::string JobDir() const;

  const JobRunOptions options_;
  const JobSpec spec_;
  ParameterHub hub_;
  std::unique_ptr<ReplayClient> replay_;
  std::unique_ptr<JobLearner> learner_;
  // Ends leases whose grace passed; their streams go to dead_streams_.
  void ExpireLeasesLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the learner state of streams whose lease ended (run thread).
  void DropDeadStreams();
  // Creates the job's queue table (retrying while the server is away).
  absl::Status CreateTable();

  // Items of each stream processed (learned or skipped), published with the
  // parameters: actors bound their lead on it (max_policy_lag).
  std::map<int64_t, int64_t> consumed_;
  // consumed_ changed since the last Publish / Progress carried it.
  bool counts_unsent_ = false;
  absl::Time last_monitor_update_ = absl::InfinitePast();
  // The learner's readout into the metrics (monitors: also the exploration
  // monitors, which cost forward passes).
  void UpdateMetrics(bool monitors);
  int64_t last_published_ = -1;
  int64_t last_checkpoint_ = 0;
  bool checkpointed_since_start_ = false;  // the run's thread only
  absl::Time started_;
  double wall_offset_ = 0;  // seconds run before a resume

  mutable absl::Mutex mu_;
  JobStatus status_ ABSL_GUARDED_BY(mu_);
  int64_t next_stream_id_ ABSL_GUARDED_BY(mu_) = 0;
  struct LeaseRecord {
    std::string actor;
    std::vector<int64_t> streams;
    int watchers = 0;
    absl::Time idle_since;       // when the last watcher left (or the lease began)
    bool ever_watched = false;
  };
  int64_t next_lease_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int64_t, LeaseRecord> leases_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, int64_t> live_streams_ ABSL_GUARDED_BY(mu_);  // stream -> lease
  std::vector<int64_t> dead_streams_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> has_dead_streams_{false};
  std::atomic<bool> stop_rule_met_{false};
  std::deque<double> recent_returns_ ABSL_GUARDED_BY(mu_);
  std::deque<double> recent_lags_ ABSL_GUARDED_BY(mu_);
  double lag_sum_ ABSL_GUARDED_BY(mu_) = 0;
  bool eval_target_met_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace rlx

#endif  // RLX_LEARNER_JOB_RUN_H_
