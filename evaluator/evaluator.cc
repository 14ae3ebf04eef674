#include "evaluator/evaluator.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/file_util.h"
#include "core/grpc_status.h"
#include "core/status_macros.h"
#include "evaluator/greedy_evaluation.h"
#include "runtime/job_lease.h"
#include "core/state_dict.h"

namespace rlx {
namespace {

constexpr char kCurveHeader[] = "learner_step,policy_version,mean_return,min,max,episodes\n";

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

struct Evaluator::JobCurve {
  std::string dir, csv_path, best_path;
  bool initialised = false;     // the existing curve was inspected
  int64_t last_bucket = 0;      // last evaluated multiple of every_learner_steps
  bool have_best = false;
  double best_mean = 0;

  // Continues an existing curve when it ends at or before `version`, else
  // starts a new one.
  absl::Status Init(int64_t version, int64_t every) {
    initialised = true;
    RETURN_IF_ERROR(MakeDirs(dir));
    absl::StatusOr<std::string> old = ReadFileToString(csv_path);
    if (!old.ok() || old->empty()) return WriteStringAtomically(csv_path, kCurveHeader);
    int64_t max_step = -1;
    bool have = false;
    double best = 0;
    for (absl::string_view line : absl::StrSplit(*old, '\n', absl::SkipEmpty())) {
      std::vector<absl::string_view> f = absl::StrSplit(line, ',');
      int64_t step = 0;
      double mean = 0;
      if (f.size() < 3 || !absl::SimpleAtoi(f[0], &step) || !absl::SimpleAtod(f[2], &mean)) {
        continue;  // header
      }
      max_step = std::max(max_step, step);
      if (!have || mean > best) best = mean;
      have = true;
    }
    if (max_step > version) {  // an older run of a job with this name
      std::remove(best_path.c_str());
      return WriteStringAtomically(csv_path, kCurveHeader);
    }
    if (max_step >= 0 && every > 0) last_bucket = max_step / every;
    have_best = have && FileExists(best_path);
    best_mean = best;
    return absl::OkStatus();
  }

  absl::Status Append(int64_t learner_step, int64_t version, const EvaluationResult& r) {
    std::ofstream out(csv_path, std::ios::app);
    out << absl::StrFormat("%d,%d,%.6g,%.6g,%.6g,%d\n", learner_step, version, r.mean_return,
                           r.min_return, r.max_return, r.returns.size());
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot append to ", csv_path));
    return absl::OkStatus();
  }
};

Evaluator::Evaluator(std::shared_ptr<grpc::Channel> channel, EvaluatorOptions options,
                     prometheus::Registry* registry)
    : options_(std::move(options)),
      lease_loop_(channel, LeaseLoopOptions{options_.name, "evaluator", options_.rpc_timeout,
                                           options_.initial_backoff, options_.max_backoff,
                                           "evaluator", /*log_unavailable=*/false}),
      jobs_(JobService::NewStub(channel)),
      parameters_(ParameterService::NewStub(channel)),
      episodes_total_(prometheus::BuildCounter()
                          .Name("rl_evaluator_episodes_total")
                          .Help("Greedy evaluation episodes run")
                          .Register(*registry)
                          .Add({})),
      evaluations_total_(prometheus::BuildCounter()
                             .Name("rl_evaluator_evaluations_total")
                             .Help("Evaluations completed and reported")
                             .Register(*registry)
                             .Add({})),
      last_return_(prometheus::BuildGauge()
                       .Name("rl_evaluator_last_return")
                       .Help("Mean greedy return of the latest evaluation")
                       .Register(*registry)
                       .Add({})),
      best_return_(prometheus::BuildGauge()
                       .Name("rl_evaluator_best_return")
                       .Help("Best mean greedy return of the current job")
                       .Register(*registry)
                       .Add({})),
      swarm_success_(prometheus::BuildGauge()
                         .Name("rl_evaluator_swarm_success_ratio")
                         .Help("Multi-agent jobs: share of agents that reached their goal without "
                               "a collision, latest evaluation, by agent count")
                         .Register(*registry)),
      swarm_collisions_(prometheus::BuildGauge()
                            .Name("rl_evaluator_swarm_collisions_per_agent")
                            .Help("Multi-agent jobs: collisions per agent-episode, latest "
                                  "evaluation, by agent count")
                            .Register(*registry)),
      swarm_time_to_goal_(prometheus::BuildGauge()
                              .Name("rl_evaluator_swarm_time_to_goal_seconds")
                              .Help("Multi-agent jobs: mean time to goal of the agents that "
                                    "reached it, latest evaluation, by agent count")
                              .Register(*registry)) {}

absl::StatusOr<std::unique_ptr<Evaluator>> Evaluator::Create(
    std::shared_ptr<grpc::Channel> channel, EvaluatorOptions options,
    prometheus::Registry* registry) {
  if (channel == nullptr || registry == nullptr) {
    return absl::InvalidArgumentError("Evaluator needs a channel and a registry");
  }
  if (options.out_dir.empty()) return absl::InvalidArgumentError("out_dir must not be empty");
  return std::unique_ptr<Evaluator>(new Evaluator(std::move(channel), std::move(options),
                                                  registry));
}

bool Evaluator::BeginFollow(ParameterStream* stream) {
  absl::MutexLock lock(&mu_);
  if (stopped_) return false;
  following_ = stream;
  return true;
}

void Evaluator::EndFollow() {
  absl::MutexLock lock(&mu_);
  following_ = nullptr;
}

void Evaluator::Stop() {
  lease_loop_.Stop();
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  stop_flag_ = true;
  if (following_ != nullptr) following_->Cancel();
}

absl::Status Evaluator::Run() {
  while (true) {
    absl::StatusOr<Assignment> assignment = lease_loop_.Next();
    if (!assignment.ok() || stop_flag_) return absl::OkStatus();  // stopped
    std::fprintf(stderr, "evaluator: following job %s (eval every %lld learner steps, %d episodes)\n",
                 assignment->job_name().c_str(),
                 static_cast<long long>(assignment->spec().eval().every_learner_steps()),
                 assignment->spec().eval().episodes());
    const absl::Status followed = FollowJob(*assignment);
    if (stop_flag_) return absl::OkStatus();
    if (!followed.ok()) {
      std::fprintf(stderr, "evaluator: job %s: %s\n", assignment->job_name().c_str(),
                   OneLine(std::string(followed.ToString())).c_str());
      if (!lease_loop_.Wait()) return absl::OkStatus();
    } else {
      std::fprintf(stderr, "evaluator: job %s ended\n", assignment->job_name().c_str());
      lease_loop_.ResetBackoff();
    }
  }
}

absl::Status Evaluator::FollowJob(const Assignment& assignment) {
  const JobSpec& spec = assignment.spec();
  const std::string& job = assignment.job_name();
  const int64_t every = spec.eval().every_learner_steps();
  JobCurve curve;
  curve.dir = absl::StrCat(options_.out_dir, "/", job);
  curve.csv_path = curve.dir + "/eval_curve.csv";
  curve.best_path = curve.dir + "/best_policy.ckpt";
  best_return_.Set(NAN);

  // Only the first version of each evaluation interval is used (none when
  // the job wants no evaluation: the stream then only says when it ends).
  ParameterStream stream(job, /*lease_id=*/0,
                         every > 0 ? every : std::numeric_limits<int64_t>::max());
  if (!BeginFollow(&stream)) return absl::OkStatus();
  stream.Start(parameters_.get());
  Parameters parameters;
  absl::Status error;
  while (error.ok() && stream.Read(&parameters)) {
    if (every <= 0) continue;  // the job wants no evaluation: just wait for its end
    const int64_t version = parameters.version();
    if (!curve.initialised) {
      error = curve.Init(version, every);
      if (!error.ok()) break;
      if (curve.have_best) best_return_.Set(curve.best_mean);
    }
    const int64_t bucket = version / every;
    if (bucket < 1 || bucket <= curve.last_bucket) continue;
    error = EvaluateParameters(spec, parameters, bucket - 1, &curve);
    curve.last_bucket = bucket;
  }
  if (!error.ok()) stream.Cancel();
  const absl::Status status = stream.Finish();
  EndFollow();
  if (!error.ok()) return error;
  return status;
}

absl::Status Evaluator::EvaluateParameters(const JobSpec& spec, const Parameters& parameters,
                                           int64_t eval_index, JobCurve* curve) {
  const StateDict dict(parameters.tensors().begin(), parameters.tensors().end());
  const int episodes = spec.eval().episodes() > 0 ? spec.eval().episodes() : 10;
  ASSIGN_OR_RETURN(EvaluationResult result,
                   EvaluateGreedy(spec, dict, eval_index, episodes, &stop_flag_));
  const int64_t version = parameters.version();
  const int64_t learner_steps = version;  // a learner's version is its env steps learned
  episodes_total_.Increment(static_cast<double>(result.returns.size()));
  last_return_.Set(result.mean_return);

  // Report first: the learner's stop rule (target_eval_return) waits on it.
  EvaluationReport report;
  report.set_job_name(parameters.job_name().empty() ? spec.name() : parameters.job_name());
  report.set_policy_version(version);
  report.set_learner_steps(learner_steps);
  for (double r : result.returns) report.add_returns(r);
  report.set_mean_return(result.mean_return);
  report.set_curve_path(AbsolutePath(curve->csv_path));
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
    EvaluationAck ack;
    const grpc::Status status = jobs_->ReportEvaluation(&ctx, report, &ack);
    if (!status.ok()) {
      // The curve and checkpoint are still written: the report is advisory.
      std::fprintf(stderr, "evaluator: ReportEvaluation(%s, %lld): %s\n", spec.name().c_str(),
                   static_cast<long long>(version), OneLine(status.error_message()).c_str());
    }
  }
  RETURN_IF_ERROR(curve->Append(learner_steps, version, result));
  for (const SwarmFigures& f : result.swarm) {
    const std::map<std::string, std::string> labels = {{"agents", absl::StrCat(f.agents)}};
    swarm_success_.Add(labels).Set(f.success_rate);
    swarm_collisions_.Add(labels).Set(f.collisions_per_agent);
    swarm_time_to_goal_.Add(labels).Set(f.mean_time_to_goal);
    std::fprintf(stderr, "evaluator: %s step %lld N=%d: success %.1f%%, collisions/agent %.3f, "
                 "time to goal %.2f s\n", spec.name().c_str(), static_cast<long long>(learner_steps),
                 f.agents, 100 * f.success_rate, f.collisions_per_agent, f.mean_time_to_goal);
  }
  if (!result.paths_svg.empty()) {
    // Beside the curve: the newest evaluation's first episode.
    std::ofstream svg(curve->dir + "/paths.svg");
    svg << result.paths_svg;
    if (!svg) return absl::UnavailableError(absl::StrCat("cannot write ", curve->dir, "/paths.svg"));
  }
  if (!curve->have_best || result.mean_return > curve->best_mean) {
    RETURN_IF_ERROR(WriteStateFile(curve->best_path, dict));
    curve->have_best = true;
    curve->best_mean = result.mean_return;
    best_return_.Set(result.mean_return);
  }
  evaluations_total_.Increment();
  evaluations_.fetch_add(1);
  std::fprintf(stderr,
               "evaluator: %s step %lld: mean %.2f (min %.2f, max %.2f) over %zu episodes; best %.2f\n",
               spec.name().c_str(), static_cast<long long>(learner_steps), result.mean_return,
               result.min_return, result.max_return, result.returns.size(), curve->best_mean);
  return absl::OkStatus();
}

}  // namespace rlx
