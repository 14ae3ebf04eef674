// JobManager: the learner process's jobs. Jobs are validated on Submit, queue,
// and run one at a time in submission order (JobRun). The registry of jobs
// (specs and final states) is kept in <checkpoint_dir>/jobs.textproto so that
// a restarted learner resumes the job that was running and keeps the queue.
//
// JobServiceImpl and ParameterServiceImpl are the gRPC faces (sync API: each
// streaming call holds one server thread; waits are bounded and notice
// cancellation within 200 ms).
//
// Thread-safe.
#ifndef RLX_LEARNER_JOB_MANAGER_H_
#define RLX_LEARNER_JOB_MANAGER_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "job.grpc.pb.h"
#include "learner.grpc.pb.h"
#include "learner/job_run.h"

namespace rlx {

struct JobManagerOptions {
  std::string replay_address;
  std::string checkpoint_dir;
  LearnerMetrics* metrics = nullptr;
};

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

  const JobManagerOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, Record> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> order_ ABSL_GUARDED_BY(mu_);  // submission order
  std::string running_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::thread scheduler_;
};

class JobServiceImpl final : public JobService::Service {
 public:
  explicit JobServiceImpl(JobManager* manager) : manager_(manager) {}
  grpc::Status Submit(grpc::ServerContext*, const SubmitJobRequest*, JobStatus*) override;
  grpc::Status Get(grpc::ServerContext*, const GetJobRequest*, JobStatus*) override;
  grpc::Status List(grpc::ServerContext*, const ListJobsRequest*, ListJobsResponse*) override;
  grpc::Status Cancel(grpc::ServerContext*, const CancelJobRequest*, JobStatus*) override;
  grpc::Status Watch(grpc::ServerContext*, const WatchJobRequest*,
                     grpc::ServerWriter<JobStatus>*) override;
  grpc::Status LeaseAssignment(grpc::ServerContext*, const LeaseAssignmentRequest*,
                               Assignment*) override;
  grpc::Status ReportEvaluation(grpc::ServerContext*, const EvaluationReport*,
                                EvaluationAck*) override;

 private:
  JobManager* manager_;
};

class ParameterServiceImpl final : public ParameterService::Service {
 public:
  explicit ParameterServiceImpl(JobManager* manager) : manager_(manager) {}
  grpc::Status WatchParameters(grpc::ServerContext*, const WatchParametersRequest*,
                               grpc::ServerWriter<Parameters>*) override;

 private:
  JobManager* manager_;
};

}  // namespace rlx

#endif  // RLX_LEARNER_JOB_MANAGER_H_
