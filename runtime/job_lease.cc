#include "runtime/job_lease.h"

#include <cstdio>
#include <utility>

#include "core/grpc_status.h"

namespace rlx {
namespace {

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

LeaseLoop::LeaseLoop(std::shared_ptr<grpc::Channel> learner, LeaseLoopOptions options)
    : options_(std::move(options)),
      jobs_(JobService::NewStub(std::move(learner))),
      backoff_(options_.initial_backoff, options_.max_backoff) {}

absl::StatusOr<Assignment> LeaseLoop::Next() {
  while (true) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return absl::CancelledError("stopping");
      call_ = &ctx;
    }
    LeaseAssignmentRequest request;
    request.set_actor_name(options_.name);
    request.set_role(options_.role);
    Assignment assignment;
    const grpc::Status status = jobs_->LeaseAssignment(&ctx, request, &assignment);
    {
      absl::MutexLock lock(&mu_);
      call_ = nullptr;
      if (stopped_) return absl::CancelledError("stopping");
    }
    if (status.ok()) {
      last_error_.clear();
      return assignment;
    }
    const std::string error = OneLine(FromGrpcStatus(status).ToString());
    const bool quiet = !options_.log_unavailable && status.error_code() == grpc::UNAVAILABLE;
    if (error != last_error_ && !quiet) {
      std::fprintf(stderr, "%s: no assignment (%s); retrying with backoff\n",
                   options_.log_prefix.c_str(), error.c_str());
    }
    last_error_ = error;
    if (!Wait()) return absl::CancelledError("stopping");
  }
}

bool LeaseLoop::Wait() { return SleepUnlessStopped(backoff_.NextDelay()); }

bool LeaseLoop::SleepUnlessStopped(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  return !mu_.AwaitWithTimeout(absl::Condition(&stopped_), delay);
}

void LeaseLoop::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  if (call_ != nullptr) call_->TryCancel();
}

bool LeaseLoop::stopped() const {
  absl::MutexLock lock(&mu_);
  return stopped_;
}

ParameterStream::ParameterStream(const std::string& job, int64_t lease_id, int64_t stride) {
  request_.set_job_name(job);
  request_.set_after_version(-1);
  request_.set_lease_id(lease_id);
  request_.set_stride(stride);
}

void ParameterStream::Start(ParameterService::Stub* stub) {
  reader_ = stub->WatchParameters(&ctx_, request_);
}

bool ParameterStream::Read(Parameters* parameters) { return reader_->Read(parameters); }

void ParameterStream::Cancel() { ctx_.TryCancel(); }

absl::Status ParameterStream::Finish() { return FromGrpcStatus(reader_->Finish()); }

}  // namespace rlx
