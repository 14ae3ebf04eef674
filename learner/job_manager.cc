#include "learner/job_manager.h"

#include <cstdio>

#include <google/protobuf/text_format.h>

#include "absl/strings/str_cat.h"
#include "core/file_util.h"
#include "core/grpc_status.h"
#include "core/status_macros.h"
#include "learner/job_spec.h"

namespace rlx {
namespace {

bool IsFinal(JobState s) {
  return s == JOB_SUCCEEDED || s == JOB_FAILED || s == JOB_CANCELLED;
}

double NowUnix() { return absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()); }

}  // namespace

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Create(JobManagerOptions options) {
  std::unique_ptr<JobManager> m(new JobManager(std::move(options)));
  RETURN_IF_ERROR(MakeDirs(m->options_.checkpoint_dir));
  const std::string path = m->options_.checkpoint_dir + "/jobs.textproto";
  if (FileExists(path)) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
    ListJobsResponse registry;
    if (!google::protobuf::TextFormat::ParseFromString(text, &registry)) {
      return absl::DataLossError(absl::StrCat("cannot parse the job registry ", path));
    }
    absl::MutexLock lock(&m->mu_);
    for (JobStatus& s : *registry.mutable_jobs()) {
      // A job that was running resumes (first); queued ones keep their order.
      if (s.state() == JOB_RUNNING) {
        s.set_state(JOB_QUEUED);
        m->order_.insert(m->order_.begin(), s.name());
      } else {
        m->order_.push_back(s.name());
      }
      m->jobs_[s.name()].status = s;
    }
  }
  m->scheduler_ = std::thread([p = m.get()] { p->SchedulerLoop(); });
  return m;
}

JobManager::~JobManager() { Shutdown(); }

void JobManager::Shutdown() {
  std::shared_ptr<JobRun> run;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
    if (!running_.empty()) run = jobs_[running_].run;
  }
  if (run != nullptr) {
    run->Shutdown();
    run->Join();
  }
  if (scheduler_.joinable()) scheduler_.join();
  absl::MutexLock lock(&mu_);
  if (!running_.empty()) {
    Record& r = jobs_[running_];
    if (r.run != nullptr) r.status = r.run->status();
    r.run.reset();
  }
  (void)SaveRegistryLocked();
}

JobStatus JobManager::StatusLocked(const Record& r) const {
  return r.run != nullptr ? r.run->status() : r.status;
}

absl::Status JobManager::SaveRegistryLocked() {
  ListJobsResponse registry;
  for (const std::string& name : order_) *registry.add_jobs() = StatusLocked(jobs_.at(name));
  std::string text;
  google::protobuf::TextFormat::PrintToString(registry, &text);
  return WriteStringAtomically(options_.checkpoint_dir + "/jobs.textproto", text);
}

void JobManager::SchedulerLoop() {
  while (true) {
    std::shared_ptr<JobRun> finished_run;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&shutdown_), absl::Milliseconds(100));
      if (shutdown_) return;
      if (!running_.empty()) {
        Record& r = jobs_[running_];
        if (r.run != nullptr && r.run->finished()) {
          finished_run = r.run;
          r.status = r.run->status();
          r.run.reset();
          running_.clear();
          (void)SaveRegistryLocked();
        }
      }
      if (running_.empty()) {
        for (const std::string& name : order_) {
          Record& r = jobs_[name];
          if (r.status.state() != JOB_QUEUED) continue;
          JobRunOptions o;
          o.replay_address = options_.replay_address;
          o.checkpoint_dir = options_.checkpoint_dir;
          o.metrics = options_.metrics;
          r.run = std::make_shared<JobRun>(r.status, o);
          running_ = name;
          std::fprintf(stderr, "learner: job %s started\n", name.c_str());
          (void)SaveRegistryLocked();
          break;
        }
      }
    }
    if (finished_run != nullptr) finished_run->Join();
  }
}

absl::StatusOr<JobStatus> JobManager::Submit(JobSpec spec) {
  RETURN_IF_ERROR(ValidateJobSpec(&spec));
  absl::MutexLock lock(&mu_);
  if (jobs_.count(spec.name()) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("name: a job named '", spec.name(), "' already exists (",
                     JobState_Name(StatusLocked(jobs_[spec.name()]).state()), ")"));
  }
  Record& r = jobs_[spec.name()];
  r.status.set_name(spec.name());
  *r.status.mutable_spec() = spec;
  r.status.set_state(JOB_QUEUED);
  r.status.set_created_unix(NowUnix());
  order_.push_back(spec.name());
  RETURN_IF_ERROR(SaveRegistryLocked());
  return r.status;
}

absl::StatusOr<JobStatus> JobManager::Get(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(name);
  if (it == jobs_.end()) return absl::NotFoundError(absl::StrCat("no job named '", name, "'"));
  return StatusLocked(it->second);
}

std::vector<JobStatus> JobManager::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<JobStatus> out;
  for (const std::string& name : order_) out.push_back(StatusLocked(jobs_.at(name)));
  return out;
}

absl::StatusOr<JobStatus> JobManager::Cancel(const std::string& name) {
  std::shared_ptr<JobRun> run;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(name);
    if (it == jobs_.end()) return absl::NotFoundError(absl::StrCat("no job named '", name, "'"));
    Record& r = it->second;
    if (r.run != nullptr) {
      run = r.run;
    } else if (r.status.state() == JOB_QUEUED) {
      r.status.set_state(JOB_CANCELLED);
      r.status.set_message("cancelled before it started");
      r.status.set_finished_unix(NowUnix());
      (void)SaveRegistryLocked();
      return r.status;
    } else {
      return absl::FailedPreconditionError(absl::StrCat(
          "job '", name, "' already ended (", JobState_Name(r.status.state()), ")"));
    }
  }
  run->Cancel();
  run->Join();
  return run->status();
}

std::shared_ptr<JobRun> JobManager::Running(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(name);
  if (it == jobs_.end() || it->second.run == nullptr || it->second.run->finished()) return nullptr;
  return it->second.run;
}

absl::StatusOr<Assignment> JobManager::Lease(const LeaseAssignmentRequest& request) {
  std::shared_ptr<JobRun> run;
  {
    absl::MutexLock lock(&mu_);
    if (!running_.empty()) run = jobs_[running_].run;
  }
  if (run == nullptr || run->finished()) return absl::UnavailableError("no job is running");
  const JobStatus status = run->status();
  Assignment a;
  a.set_job_name(status.name());
  *a.mutable_spec() = status.spec();
  a.set_seed(status.spec().seed());
  a.set_table(status.spec().table());
  if (request.role() != "evaluator") {
    for (int64_t id : run->NextStreamIds(status.spec().envs_per_actor())) a.add_stream_ids(id);
  }
  return a;
}

absl::Status JobManager::Report(const EvaluationReport& report) {
  std::shared_ptr<JobRun> run = Running(report.job_name());
  if (run == nullptr) {
    return absl::NotFoundError(absl::StrCat("job '", report.job_name(), "' is not running"));
  }
  run->ReportEvaluation(report);
  return absl::OkStatus();
}

// ---- gRPC faces -----------------------------------------------------------

grpc::Status JobServiceImpl::Submit(grpc::ServerContext*, const SubmitJobRequest* request,
                                    JobStatus* response) {
  auto s = manager_->Submit(request->spec());
  if (!s.ok()) return ToGrpcStatus(s.status());
  *response = *s;
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::Get(grpc::ServerContext*, const GetJobRequest* request,
                                 JobStatus* response) {
  auto s = manager_->Get(request->name());
  if (!s.ok()) return ToGrpcStatus(s.status());
  *response = *s;
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::List(grpc::ServerContext*, const ListJobsRequest*,
                                  ListJobsResponse* response) {
  for (JobStatus& s : manager_->List()) *response->add_jobs() = std::move(s);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::Cancel(grpc::ServerContext*, const CancelJobRequest* request,
                                    JobStatus* response) {
  auto s = manager_->Cancel(request->name());
  if (!s.ok()) return ToGrpcStatus(s.status());
  *response = *s;
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::Watch(grpc::ServerContext* ctx, const WatchJobRequest* request,
                                   grpc::ServerWriter<JobStatus>* writer) {
  const absl::Duration interval =
      absl::Milliseconds(request->interval_ms() > 0 ? request->interval_ms() : 500);
  while (!ctx->IsCancelled()) {
    auto s = manager_->Get(request->name());
    if (!s.ok()) return ToGrpcStatus(s.status());
    if (!writer->Write(*s)) return grpc::Status::CANCELLED;
    if (IsFinal(s->state())) return grpc::Status::OK;
    const absl::Time next = absl::Now() + interval;
    while (absl::Now() < next && !ctx->IsCancelled()) {
      absl::SleepFor(std::min(absl::Milliseconds(50), next - absl::Now()));
    }
  }
  return grpc::Status::CANCELLED;
}

grpc::Status JobServiceImpl::LeaseAssignment(grpc::ServerContext*,
                                             const LeaseAssignmentRequest* request,
                                             Assignment* response) {
  auto a = manager_->Lease(*request);
  if (!a.ok()) return ToGrpcStatus(a.status());
  *response = *a;
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::ReportEvaluation(grpc::ServerContext*,
                                              const EvaluationReport* request, EvaluationAck*) {
  return ToGrpcStatus(manager_->Report(*request));
}

grpc::Status ParameterServiceImpl::WatchParameters(grpc::ServerContext* ctx,
                                                   const WatchParametersRequest* request,
                                                   grpc::ServerWriter<Parameters>* writer) {
  std::shared_ptr<JobRun> run = manager_->Running(request->job_name());
  if (run == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("job '", request->job_name(), "' is not running"));
  }
  if (request->stride() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("stride: must be >= 0, got ", request->stride()));
  }
  const int64_t stride = request->stride();
  int64_t after = request->after_version();
  bool sent_any = false;
  int64_t last_sent = 0;
  while (!ctx->IsCancelled()) {
    std::shared_ptr<const Parameters> p =
        run->parameters().WaitNewer(after, absl::Now() + absl::Milliseconds(200));
    if (p != nullptr) {
      after = p->version();
      if (stride > 0 && sent_any && p->version() / stride <= last_sent / stride) continue;
      if (!writer->Write(*p)) return grpc::Status::CANCELLED;
      sent_any = true;
      last_sent = p->version();
    } else if (run->parameters().closed()) {
      return grpc::Status::OK;  // the job ended
    }
  }
  return grpc::Status::CANCELLED;
}

}  // namespace rlx
