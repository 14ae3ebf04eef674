#include "learner/job_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/backoff.h"
#include "core/file_util.h"
#include "core/status_macros.h"
#include "core/state_dict.h"
#include "algorithms/job_spec.h"
#include "algorithms/registry.h"

namespace rlx {
namespace {

constexpr int kRecentReturns = 10;
constexpr int kRecentLags = 1000;
constexpr absl::Duration kMonitorInterval = absl::Seconds(2);

double NowUnix() { return absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()); }

}  // namespace

void ShowCheckpointProgress(const std::string& checkpoint_dir, JobStatus* status) {
  const std::string ckpt =
      absl::StrCat(checkpoint_dir, "/", status->spec().name(), "/learner.ckpt");
  if (!FileExists(ckpt)) return;
  absl::StatusOr<StateDict> dict = ReadStateFile(ckpt);
  std::vector<int64_t> progress;
  if (dict.ok() && GetInt64s(*dict, "job/progress", 2, &progress).ok()) {
    status->set_env_steps(progress[0]);
    status->set_episodes(progress[1]);
  }
}

JobRun::JobRun(JobStatus initial, JobRunOptions options)
    : options_(std::move(options)), spec_(initial.spec()), status_(std::move(initial)) {
  {
    absl::MutexLock lock(&mu_);
    status_.set_state(JOB_RUNNING);
    status_.clear_message();  // e.g. the previous shutdown's, on a resume
    status_.set_actors(0);
    status_.set_started_unix(NowUnix());
    status_.set_checkpoint_dir(JobDir());
    // While the run sets up.
    ShowCheckpointProgress(options_.checkpoint_dir, &status_);
  }
  thread_ = std::thread([this] { Run(); });
}

JobRun::~JobRun() {
  Shutdown();
  Join();
}

void JobRun::Join() {
  if (thread_.joinable()) thread_.join();
}

std::string JobRun::JobDir() const {
  return absl::StrCat(options_.checkpoint_dir, "/", spec_.name());
}

JobStatus JobRun::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

bool JobRun::finished() const { return finished_.load(); }

void JobRun::Cancel() { cancel_ = true; }
void JobRun::Shutdown() { shutdown_ = true; }

bool JobRun::ending() const {
  return cancel_.load() || shutdown_.load() || finished_.load() || stop_rule_met_.load();
}

absl::StatusOr<StreamLease> JobRun::Lease(const std::string& actor_name) {
  if (ending()) {
    return absl::UnavailableError(absl::StrCat("job '", spec_.name(), "' is ending"));
  }
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  ExpireLeasesLocked(now);
  if (static_cast<int64_t>(leases_.size()) >= spec_.num_actors()) {
    return absl::UnavailableError(absl::StrCat(
        "job '", spec_.name(), "' already has its ", spec_.num_actors(),
        " actors (num_actors); a lease frees when its actor stops"));
  }
  StreamLease lease;
  lease.lease_id = next_lease_id_++;
  LeaseRecord& record = leases_[lease.lease_id];
  record.actor = actor_name;
  record.idle_since = now;
  for (int i = 0; i < spec_.envs_per_actor(); ++i) {
    const int64_t id = next_stream_id_++;
    record.streams.push_back(id);
    live_streams_[id] = lease.lease_id;
  }
  lease.stream_ids = record.streams;
  status_.set_actors(static_cast<int32_t>(leases_.size()));
  return lease;
}

bool JobRun::AttachWatcher(int64_t lease_id) {
  absl::MutexLock lock(&mu_);
  ExpireLeasesLocked(absl::Now());
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return false;
  ++it->second.watchers;
  it->second.ever_watched = true;
  return true;
}

void JobRun::DetachWatcher(int64_t lease_id) {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return;
  if (--it->second.watchers == 0) it->second.idle_since = absl::Now();
}

std::vector<int64_t> JobRun::LeaseStreams(int64_t lease_id) const {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(lease_id);
  return it == leases_.end() ? std::vector<int64_t>() : it->second.streams;
}

void JobRun::ExpireLeasesLocked(absl::Time now) {
  for (auto it = leases_.begin(); it != leases_.end();) {
    const LeaseRecord& r = it->second;
    const absl::Duration grace =
        r.ever_watched ? options_.lease_grace : options_.first_watch_grace;
    if (r.watchers > 0 || now - r.idle_since < grace) {
      ++it;
      continue;
    }
    std::fprintf(stderr, "learner: job %s: lease %lld of actor %s ended (%zu streams)\n",
                 spec_.name().c_str(), static_cast<long long>(it->first), r.actor.c_str(),
                 r.streams.size());
    for (int64_t id : r.streams) {
      live_streams_.erase(id);
      dead_streams_.push_back(id);
    }
    it = leases_.erase(it);
    has_dead_streams_ = true;
  }
  status_.set_actors(static_cast<int32_t>(leases_.size()));
}

void JobRun::DropDeadStreams() {
  std::vector<int64_t> dead;
  {
    absl::MutexLock lock(&mu_);
    ExpireLeasesLocked(absl::Now());
    dead.swap(dead_streams_);
    has_dead_streams_ = false;
  }
  for (int64_t id : dead) {
    learner_->DropStream(id);
    consumed_.erase(id);
  }
}

void RecordEvaluation(const EvaluationReport& report, JobStatus* status) {
  status->set_last_eval_return(report.mean_return());
  status->set_last_eval_step(report.learner_steps());
  if (!report.curve_path().empty()) status->set_curve_path(report.curve_path());
  if (!status->has_best_eval_return() || report.mean_return() > status->best_eval_return()) {
    status->set_best_eval_return(report.mean_return());
  }
}

void JobRun::ReportEvaluation(const EvaluationReport& report) {
  absl::MutexLock lock(&mu_);
  RecordEvaluation(report, &status_);
  if (options_.metrics != nullptr) options_.metrics->eval_return.Set(report.mean_return());
  if (spec_.stop().has_target_eval_return() &&
      report.mean_return() >= spec_.stop().target_eval_return()) {
    eval_target_met_ = true;
  }
}

void JobRun::PublishParameters() {
  StateDict dict;
  learner_->Parameters(&dict);
  auto parameters = std::make_shared<Parameters>();
  parameters->set_job_name(spec_.name());
  parameters->set_version(learner_->steps());
  for (NamedTensor& t : dict) *parameters->add_tensors() = std::move(t);
  auto consumed = std::make_shared<ConsumedCounts>(consumed_.begin(), consumed_.end());
  hub_.Publish(std::move(parameters), std::move(consumed));
  counts_unsent_ = false;
  last_published_ = learner_->steps();
  if (options_.metrics != nullptr) {
    options_.metrics->policy_version.Set(static_cast<double>(learner_->steps()));
  }
  absl::MutexLock lock(&mu_);
  status_.set_policy_version(learner_->steps());
}

absl::Status JobRun::CreateTable() {
  TableConfig table;
  table.set_name(spec_.table());
  table.set_max_size(spec_.table_max_size());
  table.mutable_sampler()->mutable_fifo();
  table.mutable_rate_limiter()->mutable_queue();
  absl::StatusOr<const AlgorithmRuntime*> algorithm = FindAlgorithm(spec_.algorithm());
  if (algorithm.ok() && (*algorithm)->configure_table != nullptr) {
    (*algorithm)->configure_table(spec_, &table);
  }
  Backoff backoff;
  while (true) {
    absl::Status s = replay_->CreateTable(table);
    if (s.ok() || absl::IsAlreadyExists(s)) return absl::OkStatus();
    if (!absl::IsUnavailable(s) && !absl::IsDeadlineExceeded(s)) {
      return absl::Status(s.code(), absl::StrCat("creating replay table: ", s.message()));
    }
    if (cancel_ || shutdown_) return absl::CancelledError("stopped before the replay server answered");
    absl::SleepFor(backoff.NextDelay());
  }
}

absl::Status JobRun::Setup() {
  replay_ = std::make_unique<ReplayClient>(MakeChannel(options_.replay_address));
  RETURN_IF_ERROR(CreateTable());
  ASSIGN_OR_RETURN(const AlgorithmRuntime* algorithm, FindAlgorithm(spec_.algorithm()));
  LearnerContext context;
  context.preference_address = options_.preference_address;
  context.stopping = [this] { return cancel_.load() || shutdown_.load(); };
  context.report_problem = [this](const std::string& problem) {
    absl::MutexLock lock(&mu_);
    status_.set_message(problem);
  };
  ASSIGN_OR_RETURN(learner_, algorithm->make_learner(spec_, context));
  RETURN_IF_ERROR(MakeDirs(JobDir()));
  const std::string ckpt = JobDir() + "/learner.ckpt";
  if (FileExists(ckpt)) {
    RETURN_IF_ERROR(RestoreCheckpoint(ckpt));
    std::fprintf(stderr, "learner: job %s resumed from %s at step %lld\n", spec_.name().c_str(),
                 ckpt.c_str(), static_cast<long long>(learner_->steps()));
  }
  last_checkpoint_ = learner_->steps();
  PublishParameters();
  return absl::OkStatus();
}

absl::Status JobRun::WriteCheckpoint() {
  StateDict dict;
  learner_->SaveState(&dict);
  {
    absl::MutexLock lock(&mu_);
    const double wall = wall_offset_ + absl::ToDoubleSeconds(absl::Now() - started_);
    AddInt64s(&dict, "job/counters",
              {status_.episodes(), next_stream_id_, static_cast<int64_t>(wall * 1000)});
    AddInt64s(&dict, "job/progress", {learner_->steps(), status_.episodes()});
    AddDoubles(&dict, "job/eval",
               {status_.last_eval_return(), status_.best_eval_return(),
                static_cast<double>(status_.last_eval_step()),
                status_.has_best_eval_return() ? 1.0 : 0.0});
  }
  RETURN_IF_ERROR(WriteStateFile(JobDir() + "/learner.ckpt", dict));
  last_checkpoint_ = learner_->steps();
  if (options_.metrics != nullptr) options_.metrics->checkpoints.Increment();
  if (!checkpointed_since_start_) {
    checkpointed_since_start_ = true;
    {
      absl::MutexLock lock(&mu_);
      status_.set_unclean_starts(1);  // only this start is still open
    }
    if (options_.on_first_checkpoint) options_.on_first_checkpoint();
  }
  return absl::OkStatus();
}

absl::Status JobRun::RestoreCheckpoint(const std::string& path) {
  ASSIGN_OR_RETURN(StateDict dict, ReadStateFile(path));
  RETURN_IF_ERROR(learner_->RestoreState(dict));
  std::vector<int64_t> counters;
  std::vector<double> eval;
  RETURN_IF_ERROR(GetInt64s(dict, "job/counters", 3, &counters));
  RETURN_IF_ERROR(GetDoubles(dict, "job/eval", 4, &eval));
  // Stream states are not restored: every lease ended with the old process
  // (actors lease again, with fresh stream ids), so no item will continue them.
  absl::MutexLock lock(&mu_);
  status_.set_env_steps(learner_->steps());
  status_.set_episodes(counters[0]);
  // Past every id an earlier start could have leased after this checkpoint
  // (unclean_starts counts this start too, so at least one gap).
  next_stream_id_ =
      counters[1] + kStreamIdsPerStart * std::max<int64_t>(1, status_.unclean_starts());
  wall_offset_ = counters[2] / 1000.0;
  if (eval[3] != 0) {  // an evaluation was reported before the checkpoint
    status_.set_last_eval_return(eval[0]);
    status_.set_best_eval_return(eval[1]);
    status_.set_last_eval_step(static_cast<int64_t>(eval[2]));
  }
  return absl::OkStatus();
}

absl::Status JobRun::LearnItem(const SampledItem& sampled) {
  const Item& item = sampled.item();
  const int64_t stream_id = item.metadata().actor_id();
  {
    absl::MutexLock lock(&mu_);
    if (live_streams_.count(stream_id) == 0) {
      // No lease holds this stream (it ended, or the id was never handed out).
      if (options_.metrics != nullptr) options_.metrics->skipped_items.Increment();
      return absl::OkStatus();
    }
  }
  // Counted by the producer's sequence number where it has one: items lost
  // on the way (a replay restart) count as taken.
  int64_t& consumed = consumed_[stream_id];
  consumed = std::max(consumed + 1, item.metadata().sequence() + 1);
  counts_unsent_ = true;
  const int64_t steps_before = learner_->steps();
  // In updates (PPO: env steps / steps per update; stream-x: steps).
  const int64_t lag =
      (steps_before - item.metadata().policy_version()) / learner_->steps_per_update();
  ItemOutcome outcome;
  absl::Status s = learner_->Consume(item, &outcome);
  if (!s.ok() || !outcome.used) {
    if (options_.metrics != nullptr) options_.metrics->skipped_items.Increment();
    return s;
  }
  const int64_t learned = learner_->steps() - steps_before;
  // The monitors cost a few ms (forward passes over recent inputs): at most
  // one update per kMonitorInterval.
  if (outcome.learned) {
    const bool monitors = learner_->steps() / 1000 != steps_before / 1000 &&
                          absl::Now() - last_monitor_update_ >= kMonitorInterval;
    if (monitors) last_monitor_update_ = absl::Now();
    UpdateMetrics(monitors);
  }
  if (options_.metrics != nullptr) {
    if (learned > 0) options_.metrics->steps.Increment(static_cast<double>(learned));
    options_.metrics->policy_lag.Observe(static_cast<double>(lag));
  }
  absl::MutexLock lock(&mu_);
  status_.set_env_steps(learner_->steps());
  recent_lags_.push_back(static_cast<double>(lag));
  lag_sum_ += static_cast<double>(lag);
  if (recent_lags_.size() > kRecentLags) {
    lag_sum_ -= recent_lags_.front();
    recent_lags_.pop_front();
  }
  status_.set_mean_policy_lag(lag_sum_ / recent_lags_.size());
  status_.set_episodes(status_.episodes() + outcome.episodes_ended);
  for (double g : outcome.episode_returns) {
    recent_returns_.push_back(g);
    if (recent_returns_.size() > kRecentReturns) recent_returns_.pop_front();
    double sum = 0;
    for (double r : recent_returns_) sum += r;
    status_.set_mean_return(sum / recent_returns_.size());
    if (options_.metrics != nullptr) {
      options_.metrics->episodes.Increment();
      options_.metrics->episode_return.Set(g);
    }
  }
  return absl::OkStatus();
}

void JobRun::UpdateMetrics(bool monitors) {
  if (options_.metrics == nullptr) return;
  LearnerReadout r;
  learner_->Readout(monitors, &r);
  LearnerMetrics& m = *options_.metrics;
  auto set = [](prometheus::Gauge& gauge, const std::optional<double>& value) {
    if (value.has_value()) gauge.Set(*value);
  };
  set(m.td_error, r.td_error);
  set(m.policy_entropy, r.policy_entropy);
  set(m.policy_loss, r.policy_loss);
  set(m.value_loss, r.value_loss);
  set(m.approx_kl, r.approx_kl);
  set(m.clip_fraction, r.clip_fraction);
  set(m.explained_variance, r.explained_variance);
  set(m.preference_queries, r.preference_queries);
  set(m.preference_failures, r.preference_failures);
  set(m.preference_latency, r.preference_latency);
  set(m.win_rate_spread, r.win_rate_spread);
  set(m.distinct_trajectories, r.distinct_trajectories);
  set(m.constraint_share, r.constraint_share);
  set(m.action_entropy, r.action_entropy);
  set(m.distinct_actions, r.distinct_actions);
  for (const auto& [network, ratio] : r.dormant_ratio) {
    m.dormant_ratio.Add({{"network", network}}).Set(ratio);
  }
}

std::string JobRun::StopReason() {
  std::string reason = StopReasonNow();
  if (!reason.empty()) stop_rule_met_ = true;  // no new leases from here on
  return reason;
}

std::string JobRun::StopReasonNow() {
  if (cancel_) return "cancelled";
  if (shutdown_) return "learner shutting down";
  const StopRule& stop = spec_.stop();
  if (stop.max_env_steps() > 0 && learner_ != nullptr &&
      learner_->steps() >= stop.max_env_steps()) {
    return absl::StrCat("reached max_env_steps ", stop.max_env_steps());
  }
  if (stop.max_wall_seconds() > 0 &&
      wall_offset_ + absl::ToDoubleSeconds(absl::Now() - started_) >= stop.max_wall_seconds()) {
    return absl::StrCat("reached max_wall_seconds ", stop.max_wall_seconds());
  }
  absl::MutexLock lock(&mu_);
  if (eval_target_met_) {
    return absl::StrCat("evaluation return ", status_.last_eval_return(), " reached target ",
                        stop.target_eval_return());
  }
  return "";
}

void JobRun::Finish(JobState state, const std::string& message) {
  {
    absl::MutexLock lock(&mu_);
    status_.set_state(state);
    status_.set_message(message);
    if (state != JOB_RUNNING) status_.set_finished_unix(NowUnix());
  }
  hub_.Close();
  if (options_.metrics != nullptr) options_.metrics->running_jobs.Set(0);
  std::fprintf(stderr, "learner: job %s %s: %s\n", spec_.name().c_str(),
               JobState_Name(state).c_str(), message.c_str());
  finished_ = true;
}

void JobRun::Run() {
  started_ = absl::Now();
  if (options_.metrics != nullptr) options_.metrics->running_jobs.Set(1);
  if (absl::Status s = Setup(); !s.ok()) {
    if (cancel_) {
      Finish(JOB_CANCELLED, "cancelled");
    } else if (shutdown_) {
      Finish(JOB_RUNNING, "learner shut down before the job started");
    } else {
      Finish(JOB_FAILED, s.ToString());
    }
    return;
  }
  Backoff backoff;
  absl::Time rate_time = absl::Now();
  int64_t rate_steps = learner_->steps();
  int logged_errors = 0;
  std::string reason = StopReason();
  while (reason.empty()) {
    if (has_dead_streams_) DropDeadStreams();
    auto stream = replay_->NewSampleStream(spec_.table(), /*credit=*/256, /*max_batch=*/256,
                                           /*timeout_ms=*/500, /*partial_batches=*/true);
    while (reason.empty()) {
      const absl::Time wait_start = absl::Now();
      absl::StatusOr<const SampleResponse*> response = stream->NextResponse();
      if (options_.metrics != nullptr) {
        options_.metrics->wait_seconds.Increment(absl::ToDoubleSeconds(absl::Now() - wait_start));
      }
      if (!response.ok()) {
        if (absl::IsNotFound(response.status())) {
          // The replay server lost the table (e.g. it restarted before a
          // checkpoint held it): make it again; actors resend what was lost.
          std::fprintf(stderr, "learner: job %s: replay table %s is gone; creating it again\n",
                       spec_.name().c_str(), spec_.table().c_str());
          if (absl::Status s = CreateTable(); !s.ok() && !cancel_ && !shutdown_) {
            std::fprintf(stderr, "learner: job %s: %s\n", spec_.name().c_str(),
                         s.ToString().c_str());
            absl::SleepFor(backoff.NextDelay());
          }
        } else if (!absl::IsDeadlineExceeded(response.status())) {
          if (logged_errors++ < 5) {
            std::fprintf(stderr, "learner: job %s: replay: %s (retrying)\n", spec_.name().c_str(),
                         response.status().ToString().c_str());
          }
          absl::SleepFor(backoff.NextDelay());
        }
        break;
      }
      backoff.Reset();
      for (const SampledItem& item : (*response)->items()) {
        if (absl::Status s = LearnItem(item); !s.ok() && logged_errors++ < 5) {
          std::fprintf(stderr, "learner: job %s: skipped an item: %s\n", spec_.name().c_str(),
                       s.ToString().c_str());
        }
        if (learner_->steps() - last_published_ >= spec_.publish_every()) PublishParameters();
        if (learner_->steps() - last_checkpoint_ >= spec_.checkpoint_every_steps()) {
          if (absl::Status s = WriteCheckpoint(); !s.ok()) {
            std::fprintf(stderr, "learner: checkpoint failed: %s\n", s.ToString().c_str());
          }
        }
        if (spec_.stop().max_env_steps() > 0 &&
            learner_->steps() >= spec_.stop().max_env_steps()) {
          break;
        }
      }
      // Counts the last publication did not carry go out on their own, so
      // actors held by max_policy_lag need not wait for the next version.
      if (counts_unsent_) {
        hub_.Progress(std::make_shared<ConsumedCounts>(consumed_.begin(), consumed_.end()));
        counts_unsent_ = false;
      }
      const absl::Time now = absl::Now();
      if (now - rate_time >= absl::Seconds(1)) {
        DropDeadStreams();
        absl::MutexLock lock(&mu_);
        status_.set_env_steps_per_second((learner_->steps() - rate_steps) /
                                         absl::ToDoubleSeconds(now - rate_time));
        rate_time = now;
        rate_steps = learner_->steps();
      }
      reason = StopReason();
    }
    // Hand back nothing: items the stream still holds are learned if the job
    // goes on (shutdown keeps the job resumable), dropped if it ended.
    std::vector<SampledItem> leftovers;
    (void)stream->Close(&leftovers);
    const bool at_limit = spec_.stop().max_env_steps() > 0 &&
                          learner_->steps() >= spec_.stop().max_env_steps();
    if (!at_limit && !cancel_) {
      for (const SampledItem& item : leftovers) (void)LearnItem(item);
    }
    if (reason.empty()) reason = StopReason();
  }
  stop_rule_met_ = true;
  if (learner_->steps() != last_published_) PublishParameters();
  if (absl::Status s = WriteCheckpoint(); !s.ok()) {
    std::fprintf(stderr, "learner: final checkpoint failed: %s\n", s.ToString().c_str());
  }
  // A job that ended holds no replay memory (unless asked to keep its table);
  // a learner shutting down keeps it for the resume.
  if (!shutdown_ && !spec_.keep_table()) {
    if (absl::Status s = replay_->DeleteTable(spec_.table()); !s.ok() && !absl::IsNotFound(s)) {
      std::fprintf(stderr, "learner: job %s: deleting replay table %s: %s\n", spec_.name().c_str(),
                   spec_.table().c_str(), s.ToString().c_str());
    }
  }
  if (cancel_) {
    Finish(JOB_CANCELLED, "cancelled");
  } else if (shutdown_) {
    Finish(JOB_RUNNING, "learner shut down; the job resumes from its checkpoint");
  } else {
    Finish(JOB_SUCCEEDED, reason);
  }
}

}  // namespace rlx
