// JobManager: the learner process's jobs. Jobs are validated on Submit, queue,
// and run one at a time in submission order (JobRun). The registry of jobs
// (specs and final states) is kept in <checkpoint_dir>/jobs.textproto so that
// a restarted learner resumes the job that was running and keeps the queue.
//
// Crash loops: before a job's run starts, its JobStatus.unclean_starts is
// raised and the registry saved; a run that ends (any final state) or is shut
// down cleanly resets it, and a run's first checkpoint sets it to 1 (that
// start made progress: the ones before it were not a crash loop, so a
// learner killed now and then keeps resuming). A learner that finds a RUNNING job whose count
// reached kMaxUncleanStarts (the process died during each of those starts,
// e.g. killed for memory) marks it FAILED with the reason, and the queue
// behind it goes on.
//
// Names: unique among queued and running jobs. Submitting the name of a
// finished job replaces its record; its checkpoint folder is kept, renamed to
// <name>@<finish time>.
//
// JobServiceImpl and ParameterServiceImpl are the gRPC faces. The unary calls
// use the sync API; the streams (Watch, WatchParameters) use the callback API,
// so a watcher holds no thread: WatchParameters is pushed by the job's
// ParameterHub, Watch by a gRPC alarm every interval_ms (at least 100 ms).
//
// Thread-safe.
#ifndef RLX_LEARNER_JOB_MANAGER_H_
#define RLX_LEARNER_JOB_MANAGER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/security.h"
#include "core/write_grant.h"
#include "job.grpc.pb.h"
#include "learner.grpc.pb.h"
#include "learner/job_run.h"

namespace rlx {

struct JobManagerOptions {
  std::string replay_address;
  // The PreferenceService SPO jobs ask when they name none (spo.preference_address).
  std::string preference_address = "127.0.0.1:50054";
  std::string checkpoint_dir;
  LearnerMetrics* metrics = nullptr;
  // Jobs with device "cuda" are rejected at Submit unless this says yes.
  // Asked only for such a job (learner_main: BackendCudaAvailable, which
  // loads LibTorch; a learner that never sees one never loads it).
  std::function<bool()> cuda_available = [] { return false; };
  // Jobs whose estimated learner memory (EstimateJobMemory) exceeds this are
  // rejected at Submit; 0 = half of the machine's physical memory.
  int64_t max_job_bytes = 0;
  absl::Duration lease_grace = absl::Seconds(10);
  // Signs each actor lease's write grant (Assignment.write_grant); null = none.
  std::shared_ptr<const GrantSigner> grant_signer;
  absl::Duration first_watch_grace = absl::Seconds(60);
};

inline constexpr int kMaxUncleanStarts = 3;

class JobManager {
 public:
  static absl::StatusOr<std::unique_ptr<JobManager>> Create(JobManagerOptions options);
  ~JobManager();

  absl::StatusOr<JobStatus> Submit(JobSpec spec);
  absl::StatusOr<JobStatus> Get(const std::string& name) const;
  std::vector<JobStatus> List() const;
  absl::StatusOr<JobStatus> Cancel(const std::string& name);
  absl::StatusOr<Assignment> Lease(const LeaseAssignmentRequest& request);
  absl::Status Report(const EvaluationReport& report);
  // The running JobRun of that name, or nullptr.
  std::shared_ptr<JobRun> Running(const std::string& name) const;
  // Stops the running job resumably (final checkpoint) and the scheduler.
  void Shutdown();

 private:
  explicit JobManager(JobManagerOptions options) : options_(std::move(options)) {}
  struct Record {
    JobStatus status;              // authoritative when run == nullptr
    std::shared_ptr<JobRun> run;   // set while running
  };
  void SchedulerLoop();
  absl::Status SaveRegistryLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  JobStatus StatusLocked(const Record& r) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Renames a finished job's checkpoint folder out of the way of a new job
  // of the same name.
  absl::Status ArchiveJobDirLocked(const JobStatus& old) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const JobManagerOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, Record> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> order_ ABSL_GUARDED_BY(mu_);  // submission order
  std::string running_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::thread scheduler_;
};

class JobServiceImpl final : public JobService::WithCallbackMethod_Watch<JobService::Service> {
 public:
  // auth: checks each call's token (null = every call allowed).
  explicit JobServiceImpl(JobManager* manager, std::shared_ptr<const Authorizer> auth = nullptr)
      : manager_(manager), auth_(std::move(auth)) {}
  grpc::Status Submit(grpc::ServerContext*, const SubmitJobRequest*, JobStatus*) override;
  grpc::Status Get(grpc::ServerContext*, const GetJobRequest*, JobStatus*) override;
  grpc::Status List(grpc::ServerContext*, const ListJobsRequest*, ListJobsResponse*) override;
  grpc::Status Cancel(grpc::ServerContext*, const CancelJobRequest*, JobStatus*) override;
  grpc::ServerWriteReactor<JobStatus>* Watch(grpc::CallbackServerContext*,
                                             const WatchJobRequest*) override;
  grpc::Status LeaseAssignment(grpc::ServerContext*, const LeaseAssignmentRequest*,
                               Assignment*) override;
  grpc::Status ReportEvaluation(grpc::ServerContext*, const EvaluationReport*,
                                EvaluationAck*) override;

 private:
  JobManager* manager_;
  std::shared_ptr<const Authorizer> auth_;
};

class ParameterServiceImpl final : public ParameterService::CallbackService {
 public:
  explicit ParameterServiceImpl(JobManager* manager,
                                std::shared_ptr<const Authorizer> auth = nullptr)
      : manager_(manager), auth_(std::move(auth)) {}
  grpc::ServerWriteReactor<Parameters>* WatchParameters(grpc::CallbackServerContext*,
                                                        const WatchParametersRequest*) override;

 private:
  JobManager* manager_;
  std::shared_ptr<const Authorizer> auth_;
};

}  // namespace rlx

#endif  // RLX_LEARNER_JOB_MANAGER_H_
