#include "learner/job_manager.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <google/protobuf/text_format.h>
#include <grpcpp/alarm.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "core/file_util.h"
#include "core/grpc_status.h"
#include "core/status_macros.h"
#include "algorithms/job_spec.h"

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
      if (s.state() == JOB_RUNNING && s.unclean_starts() >= kMaxUncleanStarts) {
        // The process died during each of its last starts: do not resume it
        // again, or the jobs queued behind it would never run.
        s.set_state(JOB_FAILED);
        s.set_message(absl::StrCat(
            "the learner process died during each of the job's last ", s.unclean_starts(),
            " starts (killed for memory, or crashed); not resumed again"));
        s.set_finished_unix(NowUnix());
        std::fprintf(stderr, "learner: job %s: %s\n", s.name().c_str(), s.message().c_str());
        m->order_.push_back(s.name());
      } else if (s.state() == JOB_RUNNING) {
        s.set_state(JOB_QUEUED);
        // The registry's count is older than the job's newest checkpoint.
        ShowCheckpointProgress(m->options_.checkpoint_dir, &s);
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
    r.status.set_unclean_starts(0);  // a clean stop: the job resumes next time
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
          if (r.status.state() != JOB_RUNNING) r.status.set_unclean_starts(0);
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
          o.preference_address = options_.preference_address;
          o.checkpoint_dir = options_.checkpoint_dir;
          o.metrics = options_.metrics;
          o.lease_grace = options_.lease_grace;
          o.first_watch_grace = options_.first_watch_grace;
          // A start that checkpointed made progress: the registry then
          // counts only it as unclean, so a job whose learner is killed now
          // and then (not in a crash loop) keeps resuming.
          o.on_first_checkpoint = [this, name] {
            absl::MutexLock lock(&mu_);
            auto it = jobs_.find(name);
            if (it == jobs_.end()) return;
            it->second.status.set_unclean_starts(1);
            if (absl::Status saved = SaveRegistryLocked(); !saved.ok()) {
              std::fprintf(stderr, "learner: saving the job registry: %s\n",
                           saved.ToString().c_str());
            }
          };
          // Counted (and saved) before the run can take the process down.
          r.status.set_unclean_starts(r.status.unclean_starts() + 1);
          if (absl::Status saved = SaveRegistryLocked(); !saved.ok()) {
            std::fprintf(stderr, "learner: saving the job registry: %s\n",
                         saved.ToString().c_str());
          }
          r.run = std::make_shared<JobRun>(r.status, o);
          running_ = name;
          std::fprintf(stderr, "learner: job %s started\n", name.c_str());
          break;
        }
      }
    }
    if (finished_run != nullptr) finished_run->Join();
  }
}

absl::StatusOr<JobStatus> JobManager::Submit(JobSpec spec) {
  RETURN_IF_ERROR(ValidateJobSpec(&spec));
  // Which algorithms use a device other than the CPU is their own check
  // (ValidateJobSpec above); whether this learner has one is asked here.
  if (spec.device() != "cpu" && !options_.cuda_available()) {
    return absl::InvalidArgumentError(
        "invalid job: device: cuda is not available to this learner (its LibTorch is a CPU "
        "build, or no GPU is visible); use device: \"cpu\" or a learner built against a CUDA "
        "LibTorch");
  }
  int64_t budget = options_.max_job_bytes;
  if (budget <= 0) {
    budget = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / 2;
  }
  ASSIGN_OR_RETURN(JobMemoryEstimate memory, EstimateJobMemory(spec));
  if (memory.learner_bytes > budget) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "invalid job: num_actors: the learner would need about %.2f GiB for this job (%d "
        "parameters, one trace set per env of num_actors * envs_per_actor); this learner "
        "takes jobs up to %.2f GiB",
        memory.learner_bytes / double{1 << 30}, memory.parameters, budget / double{1 << 30}));
  }
  std::shared_ptr<JobRun> ended_run;  // joined after the lock is released
  absl::MutexLock lock(&mu_);
  auto existing = jobs_.find(spec.name());
  if (existing != jobs_.end()) {
    const JobStatus old = StatusLocked(existing->second);
    if (!IsFinal(old.state())) {
      return absl::AlreadyExistsError(absl::StrCat("name: a job named '", spec.name(),
                                                   "' is ", JobState_Name(old.state())));
    }
    // A finished job's name is free again: keep its checkpoint aside. Its run
    // may have ended without the scheduler having noticed yet.
    RETURN_IF_ERROR(ArchiveJobDirLocked(old));
    ended_run = std::move(existing->second.run);
    if (running_ == spec.name()) running_.clear();
    jobs_.erase(existing);
    order_.erase(std::remove(order_.begin(), order_.end(), spec.name()), order_.end());
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

absl::Status JobManager::ArchiveJobDirLocked(const JobStatus& old) {
  const std::string dir = absl::StrCat(options_.checkpoint_dir, "/", old.name());
  if (!FileExists(dir)) return absl::OkStatus();
  const std::string archived = absl::StrCat(
      dir, "@", absl::FormatTime("%Y%m%dT%H%M%S",
                                 absl::FromUnixSeconds(static_cast<int64_t>(old.finished_unix())),
                                 absl::UTCTimeZone()));
  std::string target = archived;
  for (int i = 1; FileExists(target); ++i) target = absl::StrCat(archived, ".", i);
  if (std::rename(dir.c_str(), target.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("moving the finished job's folder ", dir, " to ",
                                            target, ": ", std::strerror(errno)));
  }
  std::fprintf(stderr, "learner: job %s: the finished job's checkpoints moved to %s\n",
               old.name().c_str(), target.c_str());
  return absl::OkStatus();
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
    if (r.run != nullptr && r.run->finished()) {
      const JobStatus ended = r.run->status();
      return absl::FailedPreconditionError(absl::StrCat(
          "job '", name, "' already ended (", JobState_Name(ended.state()), ")"));
    }
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
  if (request.role() == "evaluator") {
    if (run->ending()) return absl::UnavailableError(absl::StrCat("job '", status.name(), "' is ending"));
    return a;
  }
  ASSIGN_OR_RETURN(StreamLease lease, run->Lease(request.actor_name()));
  a.set_lease_id(lease.lease_id);
  for (int64_t id : lease.stream_ids) a.add_stream_ids(id);
  if (options_.grant_signer != nullptr) {
    WriteGrant grant;
    grant.set_table(a.table());
    *grant.mutable_actor_ids() = a.stream_ids();
    grant.set_lease_id(lease.lease_id);
    grant.set_job(status.name());
    a.set_write_grant(options_.grant_signer->Sign(grant));
  }
  return a;
}

absl::Status JobManager::Report(const EvaluationReport& report) {
  std::shared_ptr<JobRun> run;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(report.job_name());
    if (it == jobs_.end()) {
      return absl::NotFoundError(absl::StrCat("no job named '", report.job_name(), "'"));
    }
    Record& r = it->second;
    if (r.run != nullptr) {
      run = r.run;  // running, or ended and not yet collected: its status takes it
    } else if (r.status.state() == JOB_QUEUED) {
      return absl::NotFoundError(absl::StrCat("job '", report.job_name(), "' is not running"));
    } else {
      // The evaluation of the final parameters usually arrives after the
      // job ended: it still counts for the job's last and best returns.
      RecordEvaluation(report, &r.status);
      (void)SaveRegistryLocked();
      return absl::OkStatus();
    }
  }
  run->ReportEvaluation(report);
  return absl::OkStatus();
}

// ---- gRPC faces -----------------------------------------------------------

grpc::Status JobServiceImpl::Submit(grpc::ServerContext* context,
                                    const SubmitJobRequest* request, JobStatus* response) {
  if (grpc::Status a = Authorize(auth_.get(), *context, "/rlx.JobService/Submit"); !a.ok()) {
    return a;
  }
  auto s = manager_->Submit(request->spec());
  if (!s.ok()) return ToGrpcStatus(s.status());
  *response = *s;
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::Get(grpc::ServerContext* context, const GetJobRequest* request,
                                 JobStatus* response) {
  if (grpc::Status a = Authorize(auth_.get(), *context, "/rlx.JobService/Get"); !a.ok()) return a;
  auto s = manager_->Get(request->name());
  if (!s.ok()) return ToGrpcStatus(s.status());
  *response = *s;
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::List(grpc::ServerContext* context, const ListJobsRequest*,
                                  ListJobsResponse* response) {
  if (grpc::Status a = Authorize(auth_.get(), *context, "/rlx.JobService/List"); !a.ok()) return a;
  for (JobStatus& s : manager_->List()) *response->add_jobs() = std::move(s);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::Cancel(grpc::ServerContext* context,
                                    const CancelJobRequest* request, JobStatus* response) {
  if (grpc::Status a = Authorize(auth_.get(), *context, "/rlx.JobService/Cancel"); !a.ok()) {
    return a;
  }
  auto s = manager_->Cancel(request->name());
  if (!s.ok()) return ToGrpcStatus(s.status());
  *response = *s;
  return grpc::Status::OK;
}

namespace {

constexpr int kMinWatchIntervalMs = 100;
constexpr int kDefaultWatchIntervalMs = 500;

// One JobService.Watch stream: writes the job's status, then waits on a gRPC
// alarm for the interval (no thread held), until the job ends (OK after the
// final status) or the client goes away. Steps, each under mu_:
//   Tick: Get -> StartWrite; OnWriteDone: final ? Finish(OK) : set alarm;
//   alarm fired: Tick; OnCancel: cancel the alarm, Finish(CANCELLED) once
//   nothing is in flight. Deleted in OnDone once no alarm is pending.
class JobWatchReactor final : public grpc::ServerWriteReactor<JobStatus> {
 public:
  JobWatchReactor(JobManager* manager, std::string name, absl::Duration interval)
      : manager_(manager), name_(std::move(name)), interval_(interval) {
    absl::MutexLock lock(&mu_);
    TickLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok || cancelled_) return FinishLocked(grpc::Status::CANCELLED);
    if (IsFinal(status_.state())) return FinishLocked(grpc::Status::OK);
    alarm_pending_ = true;
    alarm_.Set(absl::ToChronoTime(absl::Now() + interval_), [this](bool fired) {
      bool remove = false;
      {
        absl::MutexLock lock(&mu_);
        alarm_pending_ = false;
        if (done_) {
          remove = true;
        } else if (!fired || cancelled_) {
          FinishLocked(grpc::Status::CANCELLED);
        } else {
          TickLocked();
        }
      }
      if (remove) delete this;
    });
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    if (alarm_pending_) {
      alarm_.Cancel();  // its callback finishes the call
    } else if (!writing_) {
      FinishLocked(grpc::Status::CANCELLED);
    }
  }

  void OnDone() override {
    bool remove = false;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      remove = !alarm_pending_;
    }
    if (remove) delete this;
  }

 private:
  void TickLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::StatusOr<JobStatus> s = manager_->Get(name_);
    if (!s.ok()) return FinishLocked(ToGrpcStatus(s.status()));
    status_ = *std::move(s);
    writing_ = true;
    StartWrite(&status_);
  }
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  JobManager* const manager_;
  const std::string name_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  JobStatus status_ ABSL_GUARDED_BY(mu_);
  grpc::Alarm alarm_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool alarm_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

// One ParameterService.WatchParameters stream, pushed by the job's
// ParameterHub (no thread held): OnPublished keeps the newest version and
// writes it when no write is in flight (one write at a time; versions in
// between are skipped, and with a stride only the first version of each new
// multiple is sent). The message aliases the published tensors (no copy;
// released in OnWriteDone) and carries the lease's consumed counts only.
// OnProgress (lease holders only): newer consumed counts; when no version is
// due, a small progress_only message carries them once the write in flight
// is done (coalesced: only the newest counts, only when the lease's total
// grew by JobRun::progress_step() since the last message). A version always
// goes before progress, and carries the newest counts itself. OnClosed:
// finish with OK once the last version is written. The lease is held
// (JobRun::AttachWatcher) from start to OnDone.
class ParameterWatchReactor final : public grpc::ServerWriteReactor<Parameters>,
                                    public ParameterSubscriber {
 public:
  ParameterWatchReactor(std::shared_ptr<JobRun> run, const WatchParametersRequest& request)
      : run_(std::move(run)),
        job_name_(request.job_name()),
        progress_step_(run_->progress_step()),
        lease_id_(request.lease_id()),
        stride_(request.stride()),
        after_(request.after_version()) {
    if (lease_id_ != 0) {
      if (!run_->AttachWatcher(lease_id_)) {
        lease_id_ = 0;
        absl::MutexLock lock(&mu_);
        FinishLocked(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                  absl::StrCat("lease_id: lease ", request.lease_id(),
                                               " has ended; lease again")));
        return;
      }
      attached_ = true;
      lease_streams_ = run_->LeaseStreams(lease_id_);
    }
    subscribed_ = true;
    run_->parameters().Subscribe(this);  // sends the current version at once
  }

  void OnPublished(const PublishedParameters& published) override {
    absl::MutexLock lock(&mu_);
    const int64_t version = published.parameters->version();
    if (version <= after_) return;
    after_ = version;
    if (stride_ > 0 && sent_any_ && version / stride_ <= last_sent_ / stride_) return;
    pending_ = published;
    MaybeWriteLocked();
  }

  void OnProgress(const std::shared_ptr<const ConsumedCounts>& consumed) override {
    if (lease_id_ == 0 || progress_step_ == 0) return;  // no lease or no bound: not needed
    absl::MutexLock lock(&mu_);
    progress_ = consumed;
    MaybeWriteLocked();
  }

  void OnClosed() override {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    MaybeWriteLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    while (message_.tensors_size() > 0) message_.mutable_tensors()->UnsafeArenaReleaseLast();
    in_flight_.parameters.reset();
    if (!ok) return FinishLocked(grpc::Status::CANCELLED);
    MaybeWriteLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (!writing_) FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    // After every other reaction (see InsertReactor::OnDone in
    // replay/replay_service.cc): the lock makes the order visible to TSan.
    { absl::MutexLock lock(&mu_); }
    if (subscribed_) run_->parameters().Unsubscribe(this);
    if (attached_) run_->DetachWatcher(lease_id_);
    delete this;
  }

 private:
  void MaybeWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (pending_.parameters == nullptr) {
      if (progress_ != nullptr && sent_any_ && WriteProgressLocked()) return;
      if (closed_) FinishLocked(grpc::Status::OK);  // the job ended
      return;
    }
    in_flight_ = std::move(pending_);
    pending_ = PublishedParameters();
    // The newest counts, whichever arrived last (counts only grow).
    if (progress_ != nullptr) {
      if (LeaseTotal(*progress_) > LeaseTotal(*in_flight_.consumed)) {
        in_flight_.consumed = progress_;
      }
      progress_.reset();
    }
    const Parameters& p = *in_flight_.parameters;
    message_.Clear();
    message_.set_job_name(p.job_name());
    message_.set_version(p.version());
    for (const NamedTensor& t : p.tensors()) {
      message_.mutable_tensors()->UnsafeArenaAddAllocated(const_cast<NamedTensor*>(&t));
    }
    FillConsumedLocked(*in_flight_.consumed);
    sent_any_ = true;
    last_sent_ = p.version();
    writing_ = true;
    StartWrite(&message_);
  }

  // Writes a progress_only message with the newest counts if the lease's
  // total grew by progress_step_ since the last message sent; false when not.
  bool WriteProgressLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const std::shared_ptr<const ConsumedCounts> consumed = std::move(progress_);
    const int64_t total = LeaseTotal(*consumed);
    if (total < last_sent_total_ + progress_step_) return false;
    message_.Clear();
    message_.set_job_name(job_name_);
    message_.set_version(last_sent_);
    message_.set_progress_only(true);
    FillConsumedLocked(*consumed);
    writing_ = true;
    StartWrite(&message_);
    return true;
  }

  int64_t LeaseTotal(const ConsumedCounts& counts) const {
    int64_t total = 0;
    for (int64_t id : lease_streams_) total += CountOf(counts, id);
    return total;
  }
  static int64_t CountOf(const ConsumedCounts& counts, int64_t id) {
    auto it = std::lower_bound(counts.begin(), counts.end(), std::make_pair(id, int64_t{0}));
    return it != counts.end() && it->first == id ? it->second : 0;
  }
  void FillConsumedLocked(const ConsumedCounts& counts) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto* consumed = message_.mutable_consumed_per_stream();
    int64_t total = 0;
    for (int64_t id : lease_streams_) {
      const int64_t n = CountOf(counts, id);
      (*consumed)[id] = n;
      total += n;
    }
    last_sent_total_ = std::max(last_sent_total_, total);
  }
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  const std::shared_ptr<JobRun> run_;
  const std::string job_name_;
  const int64_t progress_step_;
  int64_t lease_id_;
  bool attached_ = false;
  bool subscribed_ = false;
  std::vector<int64_t> lease_streams_;
  const int64_t stride_;
  absl::Mutex mu_;
  int64_t after_ ABSL_GUARDED_BY(mu_);
  bool sent_any_ ABSL_GUARDED_BY(mu_) = false;
  int64_t last_sent_ ABSL_GUARDED_BY(mu_) = 0;
  PublishedParameters pending_ ABSL_GUARDED_BY(mu_);
  PublishedParameters in_flight_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const ConsumedCounts> progress_ ABSL_GUARDED_BY(mu_);  // not yet sent
  int64_t last_sent_total_ ABSL_GUARDED_BY(mu_) = -1;  // lease's consumed total last sent
  Parameters message_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::ServerWriteReactor<JobStatus>* JobServiceImpl::Watch(grpc::CallbackServerContext* context,
                                                           const WatchJobRequest* request) {
  if (grpc::Status a = Authorize(auth_.get(), *context, "/rlx.JobService/Watch"); !a.ok()) {
    return new FinishedWriteReactor<JobStatus>(a);
  }
  if (request->interval_ms() < 0) {
    return new FinishedWriteReactor<JobStatus>(grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("interval_ms: must be >= 0, got ", request->interval_ms())));
  }
  const int ms = request->interval_ms() == 0
                     ? kDefaultWatchIntervalMs
                     : std::max(request->interval_ms(), kMinWatchIntervalMs);
  return new JobWatchReactor(manager_, request->name(), absl::Milliseconds(ms));
}

grpc::Status JobServiceImpl::LeaseAssignment(grpc::ServerContext* context,
                                             const LeaseAssignmentRequest* request,
                                             Assignment* response) {
  if (grpc::Status a = Authorize(auth_.get(), *context, "/rlx.JobService/LeaseAssignment");
      !a.ok()) {
    return a;
  }
  auto a = manager_->Lease(*request);
  if (!a.ok()) return ToGrpcStatus(a.status());
  *response = *a;
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::ReportEvaluation(grpc::ServerContext* context,
                                              const EvaluationReport* request, EvaluationAck*) {
  if (grpc::Status a = Authorize(auth_.get(), *context, "/rlx.JobService/ReportEvaluation");
      !a.ok()) {
    return a;
  }
  return ToGrpcStatus(manager_->Report(*request));
}

grpc::ServerWriteReactor<Parameters>* ParameterServiceImpl::WatchParameters(
    grpc::CallbackServerContext* context, const WatchParametersRequest* request) {
  if (grpc::Status a = Authorize(auth_.get(), *context, "/rlx.ParameterService/WatchParameters");
      !a.ok()) {
    return new FinishedWriteReactor<Parameters>(a);
  }
  if (request->stride() < 0) {
    return new FinishedWriteReactor<Parameters>(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                     absl::StrCat("stride: must be >= 0, got ", request->stride())));
  }
  std::shared_ptr<JobRun> run = manager_->Running(request->job_name());
  if (run == nullptr) {
    return new FinishedWriteReactor<Parameters>(grpc::Status(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat("job '", Shorten(request->job_name()), "' is not running")));
  }
  return new ParameterWatchReactor(std::move(run), *request);
}

}  // namespace rlx
