// ActorLoop: the actor process's work loop, whatever the job's algorithm.
// Stateless and restartable: it asks the learner for work, acts, writes
// experience items to the replay server, and asks again when the work ends.
//
//   1. Lease: JobService.LeaseAssignment(name, "actor") on the learner.
//      UNAVAILABLE (no running job) and connection errors are retried with
//      backoff (50 ms doubling to max_backoff); one log line per change of
//      the error, not per retry.
//   2. For the assignment: the algorithm's ActorWorker (algorithms/registry.h,
//      by spec.algorithm) over one env per stream (assignment.stream_ids);
//      seeds as algorithms/seeds.h says (stream 0 acts exactly like the
//      in-process trainer).
//   3. A background thread follows ParameterService.WatchParameters(job,
//      after_version=-1, lease_id) and keeps the newest Parameters; the open
//      stream holds the lease (the learner ends it a few seconds after the
//      stream closes).
//   4. The worker's groups are stepped round robin (stream-x: one group per
//      env, so each stream meets the sync point before it acts, which keeps
//      stream_train's order; PPO: one group, all envs in one batched forward
//      pass). Per group:
//        sync point: wait for the lag bound (below); a newer parameter
//                    version than the worker's goes to SetParameters
//        Step(group): the items that became complete (stream-x: one
//        transition per env step; PPO: one unroll per env every T steps)
//      One stream-x actor with one env, publish_every 1 and max_policy_lag 0
//      reproduces the in-process trainer bit for bit; so does one PPO actor
//      holding all envs of a synchronous job.
//   5. Items are batched into InsertRequests for assignment.table: a request
//      goes out when it holds max_batch_items items, when its oldest item is
//      max_batch_delay old, and before any wait (so whatever the lag bound
//      waits for is on its way to the learner).
//   6. Lag bound: with spec.max_policy_lag = L >= 0 a group waits before
//      acting (condition variable) until the learner has taken all but L of
//      the items this actor produced in this assignment. L = -1 (the
//      default) never waits, except for the first parameters. A wait during
//      which the learner takes none of this actor's items for
//      lag_stall_timeout ends anyway (lost items are never taken). Items carry
//      ItemMetadata.sequence (per stream, from 0), so the learner's count
//      jumps past lost ones.
//   7. The assignment ends when the parameter stream ends (OK: the job ended;
//      NOT_FOUND: not running; UNAVAILABLE: the learner went away) or on a
//      non-retryable replay error (e.g. NOT_FOUND table): envs are dropped,
//      unsent items discarded, and the loop goes back to 1.
//   Replay server outages: actor/replay_writer.h reconnects with backoff and
//   resends the unacknowledged requests (at least once; a duplicate keeps its
//   (actor_id, episode_id, step_index)). Episodes continue across the outage.
//   Episode ids restart at 0 with every assignment.
//
// Threads: Run() blocks the calling thread until Stop(). Stop() is thread-safe
// and may be called at any time (before Run too): Run sends the pending items,
// waits up to stop_grace for their acknowledgement, and returns OK; Stop
// returns once Run has returned or stop_grace has passed (then it cancels the
// replay stream so Run cannot stay blocked). Metrics (rl_actor_*) live in the
// registry passed to Create.
#ifndef RLX_ACTOR_ACTOR_LOOP_H_
#define RLX_ACTOR_ACTOR_LOOP_H_

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
#include "runtime/job_lease.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace rlx {

class ReplayWriter;

struct ActorOptions {
  std::string learner_address = "127.0.0.1:50052";  // JobService + ParameterService
  std::string replay_address = "127.0.0.1:50051";
  std::string name = "actor";                        // sent with LeaseAssignment
  int max_batch_items = 64;
  absl::Duration max_batch_delay = absl::Milliseconds(5);
  int max_in_flight = 8;  // unacknowledged InsertRequests
  absl::Duration lease_timeout = absl::Seconds(5);
  absl::Duration max_backoff = absl::Seconds(2);
  absl::Duration stop_grace = absl::Seconds(2);
  // The lag bound's wait gives up when the learner takes none of this
  // actor's items for this long (they were lost, e.g. with a replay server
  // that restarted without a checkpoint); see step 6.
  absl::Duration lag_stall_timeout = absl::Seconds(10);
};

// Counters since Create, for tests and logs (the same numbers as the metrics).
struct ActorStats {
  int64_t leases = 0;               // assignments received
  int64_t env_steps = 0;
  int64_t episodes = 0;
  int64_t items_acknowledged = 0;   // by the replay server
  int64_t parameter_updates = 0;    // Parameters messages received
  int64_t lag_waits = 0;            // sync points that had to wait
  int64_t policy_version = -1;      // newest version synced into an actor
};

class ActorLoop {
 public:
  // registry may be null (metrics are then kept in a private registry).
  static absl::StatusOr<std::unique_ptr<ActorLoop>> Create(ActorOptions options,
                                                           prometheus::Registry* registry);
  ~ActorLoop();
  ActorLoop(const ActorLoop&) = delete;
  ActorLoop& operator=(const ActorLoop&) = delete;

  // Leases and runs assignments until Stop(). Returns OK after Stop; call once.
  absl::Status Run() ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  ActorStats stats() const;

 private:
  struct Metrics;
  struct StreamSlot;

  ActorLoop(ActorOptions options, std::shared_ptr<prometheus::Registry> owned_registry,
            prometheus::Registry* registry);

  // Runs one assignment until it ends or Stop; *steps = env steps taken.
  absl::Status RunAssignment(const Assignment& assignment, int64_t* steps)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The parameter-following thread of an assignment.
  void WatchParameters(std::string job_name, int64_t lease_id) ABSL_LOCKS_EXCLUDED(mu_);

  const ActorOptions options_;
  std::shared_ptr<prometheus::Registry> owned_registry_;  // when Create got none
  std::unique_ptr<Metrics> metrics_;
  std::shared_ptr<grpc::Channel> learner_channel_, replay_channel_;
  LeaseLoop lease_loop_;
  std::unique_ptr<ParameterService::Stub> parameters_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  ParameterStream* watch_stream_ ABSL_GUARDED_BY(mu_) = nullptr;  // the assignment's
  ReplayWriter* writer_ ABSL_GUARDED_BY(mu_) = nullptr;  // the assignment's, not owned
  // The current assignment's parameter stream.
  std::shared_ptr<const Parameters> latest_ ABSL_GUARDED_BY(mu_);
  int64_t latest_version_ ABSL_GUARDED_BY(mu_) = -1;
  // This assignment's streams, and how many of their items the learner has
  // taken (from the newest parameters; the version when the learner sends no
  // per-stream counts).
  std::vector<int64_t> own_streams_ ABSL_GUARDED_BY(mu_);
  int64_t own_consumed_ ABSL_GUARDED_BY(mu_) = 0;
  bool watch_ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status watch_status_ ABSL_GUARDED_BY(mu_);

  std::atomic<int64_t> leases_{0}, env_steps_{0}, episodes_{0}, items_acknowledged_{0},
      parameter_updates_{0}, lag_waits_{0}, policy_version_{-1};
};

}  // namespace rlx

#endif  // RLX_ACTOR_ACTOR_LOOP_H_
