#include "actor/replay_writer.h"

#include "absl/strings/match.h"

#include <cstdio>
#include <utility>
#include <vector>

#include "core/grpc_status.h"
#include "core/write_grant.h"

namespace rlx {
namespace {

// Codes that a new stream cannot fix: the request or the table is wrong
// (NOT_FOUND only when the table's owner will not make it again; a
// RESOURCE_EXHAUSTED for a request that "can never fit" a byte budget, as
// the replay server words it, whereas a budget that is full now may drain).
bool IsRetryable(const absl::Status& status, bool retry_not_found) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return retry_not_found;
    case absl::StatusCode::kResourceExhausted:
      return !absl::StrContains(status.message(), "can never fit");
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
      return false;
    default:
      return true;
  }
}

}  // namespace

ReplayWriter::ReplayWriter(std::shared_ptr<grpc::Channel> channel, ReplayWriterOptions options)
    : options_(std::move(options)),
      stub_(ReplayService::NewStub(std::move(channel))),
      backoff_(absl::Milliseconds(50), options_.max_backoff) {}

ReplayWriter::~ReplayWriter() {
  if (stream_ != nullptr) {
    bool graceful;
    {
      absl::MutexLock lock(&mu_);
      graceful = !broken_ && !read_done_ && unacked_.empty() && !cancelled_;
      if (!graceful) ctx_->TryCancel();
    }
    // Half-close: the server ends the stream once it has answered everything.
    if (graceful && !stream_->WritesDone()) {
      absl::MutexLock lock(&mu_);
      ctx_->TryCancel();
    }
    (void)TearDown();
  }
}

void ReplayWriter::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (ctx_ != nullptr) ctx_->TryCancel();
}

int64_t ReplayWriter::acknowledged_requests() const {
  absl::MutexLock lock(&mu_);
  return acknowledged_;
}

int64_t ReplayWriter::reconnects() const {
  absl::MutexLock lock(&mu_);
  return reconnects_;
}

void ReplayWriter::ReadLoop(Stream* stream) {
  InsertResponse response;
  while (stream->Read(&response)) {
    absl::MutexLock lock(&mu_);
    int64_t items = 0;
    if (!unacked_.empty()) {
      items = unacked_.front()->items_size();
      unacked_.pop_front();
    }
    ++acknowledged_;
    if (outage_) {
      outage_ = false;
      std::fprintf(stderr, "%s: replay insert stream back\n", options_.log_prefix.c_str());
    }
    acked_since_connect_ = true;
    // Under the lock: once Flush returns, every callback has run.
    if (options_.on_acknowledged) options_.on_acknowledged(items);
  }
  absl::MutexLock lock(&mu_);
  read_done_ = true;
}

absl::Status ReplayWriter::TearDown() {
  if (stream_ == nullptr) return absl::OkStatus();
  if (reader_.joinable()) reader_.join();
  absl::Status status = FromGrpcStatus(stream_->Finish());
  stream_.reset();
  return status;
}

absl::Status ReplayWriter::Send(InsertRequest request) {
  auto shared = std::make_shared<const InsertRequest>(std::move(request));
  bool write_now;
  {
    absl::MutexLock lock(&mu_);
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return cancelled_ || broken_ || read_done_ ||
             static_cast<int>(unacked_.size()) < options_.max_in_flight;
    };
    mu_.Await(absl::Condition(&room));
    if (cancelled_) return absl::CancelledError("replay writer cancelled");
    if (read_done_) broken_ = true;
    unacked_.push_back(shared);  // Reconnect writes it when the stream is broken
    write_now = !broken_;
  }
  if (write_now && stream_->Write(*shared)) return absl::OkStatus();
  {
    absl::MutexLock lock(&mu_);
    broken_ = true;
  }
  return Reconnect();
}

absl::Status ReplayWriter::Flush() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto settled = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return cancelled_ || broken_ || read_done_ || unacked_.empty();
      };
      mu_.Await(absl::Condition(&settled));
      if (unacked_.empty()) return absl::OkStatus();
      if (cancelled_) return absl::CancelledError("replay writer cancelled");
      broken_ = true;
    }
    absl::Status s = Reconnect();
    if (!s.ok()) return s;
  }
}

absl::Status ReplayWriter::Reconnect() {
  const bool first_connect = !ever_connected_;
  absl::Status last = TearDown();
  size_t pending = 0;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return absl::CancelledError("replay writer cancelled");
    pending = unacked_.size();
  }
  if (!IsRetryable(last, options_.retry_not_found)) return last;
  {
    absl::MutexLock lock(&mu_);
    // A stream that got acknowledgements was healthy: start the delays over.
    if (acked_since_connect_) backoff_.Reset();
    if (!first_connect && !outage_) {
      outage_ = true;
      std::fprintf(stderr, "%s: replay insert stream lost (%s); reconnecting, %zu "
                   "unacknowledged requests to resend\n", options_.log_prefix.c_str(),
                   last.ToString().c_str(), pending);
    }
  }
  bool delay = !first_connect;
  while (true) {
    std::vector<std::shared_ptr<const InsertRequest>> resend;
    grpc::ClientContext* raw_ctx = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (delay) {
        (void)mu_.AwaitWithTimeout(absl::Condition(&cancelled_), backoff_.NextDelay());
      }
      delay = true;
      if (cancelled_) return absl::CancelledError("replay writer cancelled");
      ctx_ = std::make_unique<grpc::ClientContext>();  // Cancel reaches the new call from here on
      if (!options_.write_grant.empty()) ctx_->AddMetadata(kWriteGrantHeader, options_.write_grant);
      raw_ctx = ctx_.get();
      read_done_ = false;
      acked_since_connect_ = false;
      resend.assign(unacked_.begin(), unacked_.end());
    }
    stream_ = stub_->Insert(raw_ctx);
    reader_ = std::thread([this, stream = stream_.get()] { ReadLoop(stream); });
    bool written = true;
    for (const auto& request : resend) {
      if (!stream_->Write(*request)) {
        written = false;
        break;
      }
    }
    if (written) {
      absl::MutexLock lock(&mu_);
      broken_ = false;
      if (!first_connect) ++reconnects_;
      ever_connected_ = true;
      return absl::OkStatus();
    }
    last = TearDown();
    if (!IsRetryable(last, options_.retry_not_found)) return last;
  }
}

}  // namespace rlx
