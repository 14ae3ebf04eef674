#include "actor/actor_loop.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "actor/replay_writer.h"
#include "runtime/job_lease.h"
#include "core/grpc_status.h"
#include "core/state_dict.h"
#include "algorithms/algorithm.h"
#include "algorithms/job_spec.h"
#include "algorithms/registry.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "replay/client.h"

namespace rlx {

struct ActorLoop::Metrics {
  explicit Metrics(prometheus::Registry& registry)
      : env_steps(prometheus::BuildCounter()
                      .Name("rl_actor_env_steps_total")
                      .Help("Environment steps taken by this actor (all its envs).")
                      .Register(registry)
                      .Add({})),
        episodes(prometheus::BuildCounter()
                     .Name("rl_actor_episodes_total")
                     .Help("Episodes finished (terminated or truncated) by this actor.")
                     .Register(registry)
                     .Add({})),
        episode_return(prometheus::BuildGauge()
                           .Name("rl_actor_episode_return")
                           .Help("Undiscounted return of the most recently finished episode.")
                           .Register(registry)
                           .Add({})),
        policy_version(prometheus::BuildGauge()
                           .Name("rl_actor_policy_version")
                           .Help("Newest parameter version synced into an acting policy.")
                           .Register(registry)
                           .Add({})),
        parameter_updates(prometheus::BuildCounter()
                              .Name("rl_actor_parameter_updates_total")
                              .Help("Parameter versions received from the learner.")
                              .Register(registry)
                              .Add({})),
        progress_messages(prometheus::BuildCounter()
                              .Name("rl_actor_progress_messages_total")
                              .Help("Progress messages from the learner (newer counts of this "
                                    "actor's items taken, between parameter versions).")
                              .Register(registry)
                              .Add({})),
        inserted_items(prometheus::BuildCounter()
                           .Name("rl_actor_inserted_items_total")
                           .Help("Transitions acknowledged by the replay server.")
                           .Register(registry)
                           .Add({})),
        wait_seconds(prometheus::BuildCounter()
                         .Name("rl_actor_wait_seconds_total")
                         .Help("Seconds spent waiting for parameters (max_policy_lag and the "
                               "first version of an assignment).")
                         .Register(registry)
                         .Add({})) {}

  prometheus::Counter& env_steps;
  prometheus::Counter& episodes;
  prometheus::Gauge& episode_return;
  prometheus::Gauge& policy_version;
  prometheus::Counter& parameter_updates;
  prometheus::Counter& progress_messages;
  prometheus::Counter& inserted_items;
  prometheus::Counter& wait_seconds;
};

absl::StatusOr<std::unique_ptr<ActorLoop>> ActorLoop::Create(ActorOptions options,
                                                             prometheus::Registry* registry) {
  if (options.learner_address.empty()) return absl::InvalidArgumentError("learner address is empty");
  if (options.replay_address.empty()) return absl::InvalidArgumentError("replay address is empty");
  if (options.max_batch_items < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batch_items must be >= 1, got ", options.max_batch_items));
  }
  if (options.max_in_flight < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_in_flight must be >= 1, got ", options.max_in_flight));
  }
  std::shared_ptr<prometheus::Registry> owned;
  if (registry == nullptr) {
    owned = std::make_shared<prometheus::Registry>();
    registry = owned.get();
  }
  return std::unique_ptr<ActorLoop>(new ActorLoop(std::move(options), std::move(owned), registry));
}

ActorLoop::ActorLoop(ActorOptions options, std::shared_ptr<prometheus::Registry> owned_registry,
                     prometheus::Registry* registry)
    : options_(std::move(options)),
      owned_registry_(std::move(owned_registry)),
      metrics_(std::make_unique<Metrics>(*registry)),
      learner_channel_(MakeChannel(options_.learner_address)),
      replay_channel_(MakeChannel(options_.replay_address)),
      lease_loop_(learner_channel_, LeaseLoopOptions{options_.name, "actor", options_.lease_timeout,
                                                    absl::Milliseconds(50), options_.max_backoff,
                                                    absl::StrCat("actor ", options_.name), true}),
      parameters_(ParameterService::NewStub(learner_channel_)) {}

ActorLoop::~ActorLoop() = default;

ActorStats ActorLoop::stats() const {
  ActorStats s;
  s.leases = leases_.load();
  s.env_steps = env_steps_.load();
  s.episodes = episodes_.load();
  s.items_acknowledged = items_acknowledged_.load();
  s.parameter_updates = parameter_updates_.load();
  s.lag_waits = lag_waits_.load();
  s.policy_version = policy_version_.load();
  return s;
}

void ActorLoop::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  lease_loop_.Stop();
  auto finished = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !running_; };
  if (mu_.AwaitWithTimeout(absl::Condition(&finished), options_.stop_grace)) return;
  // Run is still flushing (or blocked by a full table): cut it short.
  if (writer_ != nullptr) writer_->Cancel();
  if (watch_stream_ != nullptr) watch_stream_->Cancel();
}


absl::Status ActorLoop::Run() {
  {
    absl::MutexLock lock(&mu_);
    if (running_) return absl::FailedPreconditionError("ActorLoop::Run is already running");
    running_ = true;
  }
  const char* name = options_.name.c_str();
  while (true) {
    absl::StatusOr<Assignment> assignment = lease_loop_.Next();
    if (!assignment.ok()) break;  // stopping
    ++leases_;
    std::fprintf(stderr, "actor %s: leased job %s (%s on %s): streams [%s], table %s\n", name,
                 assignment->job_name().c_str(), assignment->spec().algorithm().c_str(),
                 assignment->spec().env().c_str(),
                 absl::StrJoin(assignment->stream_ids(), ",").c_str(),
                 assignment->table().c_str());
    int64_t steps = 0;
    const absl::Status status = RunAssignment(*assignment, &steps);
    std::fprintf(stderr, "actor %s: job %s: assignment ended after %lld env steps (%s)\n", name,
                 assignment->job_name().c_str(), static_cast<long long>(steps),
                 status.ToString().c_str());
    if (steps > 0) {
      lease_loop_.ResetBackoff();
    } else if (!lease_loop_.Wait()) {
      break;  // an assignment that never stepped: do not spin on it
    }
  }
  absl::MutexLock lock(&mu_);
  running_ = false;
  return absl::OkStatus();
}

void ActorLoop::WatchParameters(std::string job_name, int64_t lease_id) {
  // The open stream holds the lease (lease_id).
  ParameterStream stream(job_name, lease_id);
  {
    absl::MutexLock lock(&mu_);
    if (watch_ended_) return;  // the assignment ended before the watch started
    watch_stream_ = &stream;
  }
  stream.Start(parameters_.get());
  auto message = std::make_shared<Parameters>();
  while (stream.Read(message.get())) {
    if (message->progress_only()) {
      metrics_->progress_messages.Increment();
    } else {
      ++parameter_updates_;
      metrics_->parameter_updates.Increment();
    }
    absl::MutexLock lock(&mu_);
    // Counts only grow within a lease; a progress message brings only them.
    auto own_count = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      int64_t consumed = 0;
      for (int64_t id : own_streams_) {
        auto it = message->consumed_per_stream().find(id);
        if (it != message->consumed_per_stream().end()) consumed += it->second;
      }
      return consumed;
    };
    if (message->progress_only()) {
      own_consumed_ = std::max(own_consumed_, own_count());
      continue;
    }
    if (message->version() > latest_version_) {
      latest_version_ = message->version();
      if (message->consumed_per_stream().empty()) {
        own_consumed_ = message->version();
      } else {
        own_consumed_ = std::max(own_consumed_, own_count());
      }
      latest_ = std::move(message);
      message = std::make_shared<Parameters>();
    }
  }
  const absl::Status status = stream.Finish();
  absl::MutexLock lock(&mu_);
  watch_stream_ = nullptr;
  if (!watch_ended_) {
    watch_ended_ = true;
    watch_status_ = status.ok() ? absl::OkStatus()
                                : absl::Status(status.code(), absl::StrCat("parameter stream: ",
                                                                          status.message()));
  }
  // The job is over: a Send blocked by a full table must not hold the actor.
  if (!stopping_ && writer_ != nullptr) writer_->Cancel();
}

absl::Status ActorLoop::RunAssignment(const Assignment& assignment, int64_t* steps) {
  *steps = 0;
  JobSpec spec = assignment.spec();
  if (absl::Status s = ValidateJobSpec(&spec); !s.ok()) return s;
  if (assignment.stream_ids().empty()) {
    return absl::InvalidArgumentError("assignment has no stream_ids");
  }
  absl::StatusOr<const AlgorithmRuntime*> algorithm = FindAlgorithm(spec.algorithm());
  if (!algorithm.ok()) return algorithm.status();
  const std::string& job = assignment.job_name();
  const std::string table = assignment.table().empty() ? spec.table() : assignment.table();
  const int64_t max_lag = spec.has_max_policy_lag() ? spec.max_policy_lag() : -1;
  WorkerOptions worker_options;
  worker_options.job_name = job;
  worker_options.stream_ids.assign(assignment.stream_ids().begin(), assignment.stream_ids().end());
  absl::StatusOr<std::unique_ptr<ActorWorker>> worker =
      (*algorithm)->make_worker(spec, worker_options);
  if (!worker.ok()) return worker.status();
  const int num_groups = (*worker)->num_groups();

  ReplayWriterOptions writer_options;
  writer_options.max_in_flight = options_.max_in_flight;
  writer_options.max_backoff = options_.max_backoff;
  writer_options.log_prefix = absl::StrCat("actor ", options_.name);
  // The job's learner re-creates a table the replay server lost; the job's
  // end reaches this actor through the parameter stream (which cancels the
  // writer), so waiting for the table cannot outlive the job.
  writer_options.retry_not_found = true;
  writer_options.write_grant = assignment.write_grant();
  writer_options.on_acknowledged = [this](int64_t items) {
    items_acknowledged_ += items;
    metrics_->inserted_items.Increment(static_cast<double>(items));
  };
  auto writer = std::make_unique<ReplayWriter>(replay_channel_, writer_options);
  {
    absl::MutexLock lock(&mu_);
    latest_.reset();
    latest_version_ = -1;
    own_consumed_ = 0;
    own_streams_.assign(assignment.stream_ids().begin(), assignment.stream_ids().end());
    watch_ended_ = false;
    watch_status_ = absl::OkStatus();
    writer_ = writer.get();
  }
  std::thread watcher(
      [this, job, lease = assignment.lease_id()] { WatchParameters(job, lease); });

  InsertRequest pending;
  pending.set_table(table);
  absl::Time pending_since = absl::InfinitePast();
  auto send_pending = [&]() -> absl::Status {
    if (pending.items_size() == 0) return absl::OkStatus();
    absl::Status s = writer->Send(std::move(pending));
    pending.Clear();
    pending.set_table(table);
    return s;
  };

  int64_t parameters_version = -1;  // newest version handed to the worker
  int64_t produced = 0;             // items of this assignment
  std::vector<Item> items;
  WorkerStep step;
  bool stop = false;
  absl::Status status;
  while (!stop && status.ok()) {
    for (int group = 0; group < num_groups; ++group) {
      // ---- Sync point: lag bound, newest parameters.
      const int64_t need = max_lag >= 0 ? std::max<int64_t>(0, produced - max_lag)
                                        : (parameters_version < 0 ? 0 : -1);
      // With a lag bound: the learner must have taken all but max_lag of this
      // actor's items (exact per actor, whatever the others do).
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        if (stopping_ || watch_ended_) return true;
        if (max_lag >= 0) return latest_version_ >= 0 && own_consumed_ >= need;
        return latest_version_ >= need;
      };
      bool must_wait;
      {
        absl::MutexLock lock(&mu_);
        must_wait = !ready();
      }
      if (must_wait) {
        // Whatever waits here must already be on its way to the learner.
        status = send_pending();
        if (!status.ok()) break;
        ++lag_waits_;
        const absl::Time start = absl::Now();
        {
          absl::MutexLock lock(&mu_);
          // Items the replay server lost (a restart without a checkpoint) are
          // never consumed: when the learner takes none of this actor's items
          // for lag_stall_timeout, go on (the next item's sequence number
          // tells the learner how many were lost, and the count catches up).
          while (true) {
            const int64_t consumed_before = own_consumed_;
            if (mu_.AwaitWithTimeout(absl::Condition(&ready), options_.lag_stall_timeout)) break;
            if (max_lag >= 0 && latest_version_ >= 0 && own_consumed_ == consumed_before) {
              std::fprintf(stderr,
                           "actor %s: the learner took none of this actor's items for %s "
                           "(lost with a replay server?); going on\n",
                           options_.name.c_str(),
                           absl::FormatDuration(options_.lag_stall_timeout).c_str());
              break;
            }
          }
        }
        metrics_->wait_seconds.Increment(absl::ToDoubleSeconds(absl::Now() - start));
      }
      std::shared_ptr<const Parameters> newest;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) {
          stop = true;
        } else if (watch_ended_) {
          status = watch_status_.ok() ? absl::OkStatus() : watch_status_;
          stop = true;
        } else if (latest_version_ > parameters_version) {
          newest = latest_;
        }
      }
      if (stop) break;
      if (newest != nullptr) {
        const StateDict dict(newest->tensors().begin(), newest->tensors().end());
        status = (*worker)->SetParameters(dict, newest->version());
        if (!status.ok()) break;
        parameters_version = newest->version();
      }

      // ---- One env step of the group's envs.
      items.clear();
      step = WorkerStep();
      status = (*worker)->Step(group, &items, &step);
      if (!status.ok()) break;
      if (step.policy_version > policy_version_.load()) {
        policy_version_ = step.policy_version;
        metrics_->policy_version.Set(static_cast<double>(step.policy_version));
      }
      for (Item& item : items) {
        if (pending.items_size() == 0) pending_since = absl::Now();
        *pending.add_items() = std::move(item);
      }
      produced += static_cast<int64_t>(items.size());
      *steps += step.env_steps;
      env_steps_ += step.env_steps;
      metrics_->env_steps.Increment(static_cast<double>(step.env_steps));
      for (double g : step.episode_returns) {
        ++episodes_;
        metrics_->episodes.Increment();
        metrics_->episode_return.Set(g);
      }
      if (pending.items_size() >= options_.max_batch_items ||
          (pending.items_size() > 0 && absl::Now() - pending_since >= options_.max_batch_delay)) {
        status = send_pending();
        if (!status.ok()) break;
      }
    }
  }

  bool stopping;
  {
    absl::MutexLock lock(&mu_);
    stopping = stopping_;
    // A replay error caused by the job's end reads better as the job's end.
    if (!status.ok() && watch_ended_ && status.code() == absl::StatusCode::kCancelled) {
      status = watch_status_;
    }
  }
  if (stopping && status.ok()) {
    // Clean stop: what was produced reaches the replay server (Stop cuts this
    // short after stop_grace).
    absl::Status flushed = send_pending();
    if (flushed.ok()) flushed = writer->Flush();
    if (!flushed.ok()) {
      std::fprintf(stderr, "actor %s: pending items not flushed at stop: %s\n",
                   options_.name.c_str(), flushed.ToString().c_str());
    }
  }
  {
    absl::MutexLock lock(&mu_);
    writer_ = nullptr;
    watch_ended_ = true;  // a watcher that has not started yet does not start
    if (watch_stream_ != nullptr) watch_stream_->Cancel();
  }
  watcher.join();
  writer.reset();
  return status;
}

}  // namespace rlx
