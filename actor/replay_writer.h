// ReplayWriter: the actor's connection to one replay server for inserts. A
// pipelined Insert stream (proto/replay.proto) that survives the server going
// away: it keeps every request until the server acknowledges it, and when the
// stream breaks it reconnects with backoff (core/backoff.h) and resends the
// unacknowledged requests in order on the new stream.
//
// Delivery is at least once: a request the server stored but whose
// acknowledgement was lost with the connection is sent again. Its items carry
// the same (actor_id, episode_id, step_index), so a consumer can drop the
// duplicate. Acknowledged requests are never resent.
//
// Errors: a stream that ends with a code that retrying cannot fix
// (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, PERMISSION_DENIED,
// UNAUTHENTICATED, UNIMPLEMENTED, OUT_OF_RANGE) is returned by Send / Flush;
// everything else (UNAVAILABLE, a server restart, ...) is retried until Cancel.
// With retry_not_found, NOT_FOUND (an unknown table) is retried too: for
// writers whose table's owner re-creates it (a job's learner does, e.g. after
// a replay server restart lost it).
//
// Threads: Send and Flush are called by one thread (the owner); Cancel may be
// called from any thread and makes blocked and later Send / Flush calls return
// CANCELLED promptly. Send blocks while max_in_flight requests are
// unacknowledged (the server's backpressure reaches the caller).
#ifndef RLX_ACTOR_REPLAY_WRITER_H_
#define RLX_ACTOR_REPLAY_WRITER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/backoff.h"
#include "replay.grpc.pb.h"

namespace rlx {

struct ReplayWriterOptions {
  int max_in_flight = 8;                         // unacknowledged requests
  absl::Duration max_backoff = absl::Seconds(2);  // between reconnect attempts
  std::string log_prefix = "actor";               // "<prefix>: replay ..." log lines
  bool retry_not_found = false;                   // see the header comment
  // The lease's signed write grant (Assignment.write_grant), sent with every
  // insert stream; empty = none (a replay server without grants).
  std::string write_grant;
  // Called (from the writer's reader thread, under its lock) with the item
  // count of every acknowledged request. Must be quick and must not call back
  // into the writer.
  std::function<void(int64_t items)> on_acknowledged;
};

class ReplayWriter {
 public:
  ReplayWriter(std::shared_ptr<grpc::Channel> channel, ReplayWriterOptions options);
  // Cancels what is still in flight (unacknowledged requests are dropped).
  ~ReplayWriter();
  ReplayWriter(const ReplayWriter&) = delete;
  ReplayWriter& operator=(const ReplayWriter&) = delete;

  absl::Status Send(InsertRequest request);
  // Waits until every request sent so far is acknowledged.
  absl::Status Flush();
  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);

  int64_t acknowledged_requests() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t reconnects() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using Stream = grpc::ClientReaderWriter<InsertRequest, InsertResponse>;

  // Ends the current stream (if any), then opens a new one after a backoff
  // delay and writes every unacknowledged request to it. Returns the stream's
  // final error when it is not worth retrying, CANCELLED after Cancel.
  absl::Status Reconnect() ABSL_LOCKS_EXCLUDED(mu_);
  // Joins the reader and collects the stream's final status.
  absl::Status TearDown() ABSL_LOCKS_EXCLUDED(mu_);
  void ReadLoop(Stream* stream) ABSL_LOCKS_EXCLUDED(mu_);

  const ReplayWriterOptions options_;
  std::unique_ptr<ReplayService::Stub> stub_;

  // Owned by the caller's thread; replaced only by Reconnect / TearDown.
  std::unique_ptr<Stream> stream_;
  std::thread reader_;
  bool ever_connected_ = false;
  Backoff backoff_;  // reconnect delays; reset once a new stream is acknowledged

  mutable absl::Mutex mu_;
  std::unique_ptr<grpc::ClientContext> ctx_ ABSL_GUARDED_BY(mu_);
  // Sent but not acknowledged, oldest first; written_ of them were written to
  // the current stream.
  std::deque<std::shared_ptr<const InsertRequest>> unacked_ ABSL_GUARDED_BY(mu_);
  bool broken_ ABSL_GUARDED_BY(mu_) = true;     // no usable stream: reconnect first
  bool read_done_ ABSL_GUARDED_BY(mu_) = false;  // the current stream's reader ended
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool acked_since_connect_ ABSL_GUARDED_BY(mu_) = false;
  bool outage_ ABSL_GUARDED_BY(mu_) = false;  // "lost" logged, "back" not yet
  int64_t acknowledged_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reconnects_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rlx

#endif  // RLX_ACTOR_REPLAY_WRITER_H_
