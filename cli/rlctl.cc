#include "cli/rlctl.h"

#include <cmath>
#include <memory>
#include <optional>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cli/args.h"
#include "cli/job_file.h"
#include "cli/learning_curve.h"
#include "cli/local_cluster.h"
#include "cli/monitor.h"
#include "cli/process.h"
#include "cli/supervisor.h"
#include "google/protobuf/text_format.h"
#include "health.grpc.pb.h"
#include "core/file_util.h"
#include "core/security.h"
#include "core/server.h"
#include "job.grpc.pb.h"

namespace rlx::cli {
namespace {

constexpr absl::Duration kRpcTimeout = absl::Seconds(10);

// Failure of a command: prints "rlctl: CMD: reason" (one line) and returns 1.
class Reporter {
 public:
  Reporter(const RlctlIo& io, std::string command) : io_(io), command_(std::move(command)) {}
  int Fail(absl::string_view reason, int code = 1) const {
    std::string line(reason);
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    *io_.err << "rlctl: " << command_ << ": " << line << "\n";
    return code;
  }
  int Fail(const absl::Status& status, int code = 1) const { return Fail(status.message(), code); }

 private:
  const RlctlIo& io_;
  std::string command_;
};

struct Target {
  std::string address;
  std::optional<Topology> topology;  // when found through --state_dir
};

absl::StatusOr<Target> ResolveTarget(const CommandLine& cl) {
  Target target;
  target.address = cl.GetString("address", "");
  if (!target.address.empty()) return target;
  const std::string state_dir = cl.GetString("state_dir", ".rlx");
  absl::StatusOr<Topology> t = ReadTopology(TopologyPath(state_dir));
  if (!t.ok() || t->learner_address.empty()) {
    // No default address: a silent fallback could send jobs to a cluster the
    // user did not mean.
    return absl::FailedPreconditionError(absl::StrCat(
        "no --address given and no running topology in ", state_dir,
        " (start one with `rlctl up`, or pass --address=HOST:PORT; a compose cluster's "
        "learner is HOST:", kClusterLearnerPort, ")"));
  }
  target.address = t->learner_address;
  target.topology = *t;
  return target;
}

std::unique_ptr<JobService::Stub> Connect(const std::string& address) {
  return JobService::NewStub(MakeChannel(address, -1));
}

absl::Status RpcError(const grpc::Status& s, const std::string& address) {
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
      s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach the learner at ", address, ": ", s.error_message()));
  }
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

void SetDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + kRpcTimeout));
}

std::string StateName(JobState state) {
  return std::string(absl::StripPrefix(JobState_Name(state), "JOB_"));
}

bool Ended(JobState state) {
  return state == JOB_SUCCEEDED || state == JOB_FAILED || state == JOB_CANCELLED;
}

std::string Number(double v, const char* format = "%.1f") {
  return std::isfinite(v) ? absl::StrFormat(format, v) : "-";
}

// Evaluation fields are unset until the first evaluation report (which may
// return 0, or come at step 0).
std::string StatusLine(const JobStatus& s) {
  std::string line = absl::StrFormat(
      "%-24s %-9s steps=%d episodes=%d return=%s eval=%s", s.name(), StateName(s.state()),
      s.env_steps(), s.episodes(), Number(s.mean_return()),
      s.has_last_eval_return()
          ? absl::StrCat(Number(s.last_eval_return()), "@", s.last_eval_step())
          : "-");
  if (s.has_best_eval_return()) absl::StrAppend(&line, " best=", Number(s.best_eval_return()));
  absl::StrAppendFormat(&line, " version=%d actors=%d", s.policy_version(), s.actors());
  if (!s.message().empty()) absl::StrAppend(&line, " (", s.message(), ")");
  return line;
}

std::string ProgressLine(const JobStatus& s) {
  return absl::StrFormat(
      "%s %s | %d steps (%s/s) | %d episodes | return %s | eval %s | lag %s | v%d", s.name(),
      StateName(s.state()), s.env_steps(), Number(s.env_steps_per_second(), "%.0f"),
      s.episodes(), Number(s.mean_return()),
      s.has_last_eval_return() ? Number(s.last_eval_return()) : std::string("-"),
      Number(s.mean_policy_lag(), "%.2f"), s.policy_version());
}

absl::StatusOr<JobStatus> GetJob(const std::string& name, const std::string& address) {
  auto stub = Connect(address);
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  GetJobRequest request;
  request.set_name(name);
  JobStatus status;
  const grpc::Status s = stub->Get(&ctx, request, &status);
  if (!s.ok()) return RpcError(s, address);
  return status;
}

std::string CurvePath(const JobStatus& s, const Target& target) {
  if (!s.curve_path().empty()) return s.curve_path();
  if (!target.topology) return "";
  const std::string local = absl::StrCat(target.topology->out_dir, "/", s.name(), "/eval_curve.csv");
  return FileExists(local) ? local : "";
}

// The watch call Ctrl-C cancels during `run`.
absl::Mutex g_watch_mu;
grpc::ClientContext* g_watch_ctx ABSL_GUARDED_BY(g_watch_mu) = nullptr;
bool g_interrupted ABSL_GUARDED_BY(g_watch_mu) = false;

// The folder of a job's curves: that of the evaluator's curve when it is
// readable here, else <out_dir>/<job> ("" without either).
std::string JobDir(const JobStatus& s, const std::string& out_dir) {
  if (!s.curve_path().empty() && FileExists(s.curve_path())) {
    return s.curve_path().substr(0, s.curve_path().rfind('/'));
  }
  return out_dir.empty() ? "" : absl::StrCat(out_dir, "/", s.name());
}

// Writes the learning curve SVG of a job (svg: the path, or "" for
// <job dir>/learning_curve.svg) and returns its path; *what describes it.
absl::StatusOr<std::string> PlotJob(const JobStatus& s, const std::string& out_dir,
                                    const std::string& svg, std::string* what) {
  const std::string dir = JobDir(s, out_dir);
  if (dir.empty()) {
    return absl::NotFoundError(absl::StrCat("no curve of ", s.name(),
                                            " is readable here (pass --out_dir)"));
  }
  const std::string path = AbsolutePath(svg.empty() ? absl::StrCat(dir, "/", kLearningCurveFile)
                                                    : svg);
  absl::StatusOr<std::string> drawn = WriteLearningCurve(dir, s, path);
  if (!drawn.ok()) return drawn.status();
  if (what != nullptr) *what = *drawn;
  return path;
}

int DoWatch(const std::string& job, const Target& target, int64_t interval_ms,
            const RlctlIo& io, const Reporter& reporter, JobStatus* final_status = nullptr) {
  // On a local topology: the training return as the learner reports it.
  std::optional<TrainReturnRecorder> recorder;
  if (target.topology && !target.topology->out_dir.empty()) {
    recorder.emplace(absl::StrCat(target.topology->out_dir, "/", job));
  }
  std::unique_ptr<JobService::Stub> stub = Connect(target.address);
  grpc::ClientContext ctx;
  {
    absl::MutexLock lock(&g_watch_mu);
    if (g_interrupted) return reporter.Fail("interrupted");
    g_watch_ctx = &ctx;
  }
  WatchJobRequest request;
  request.set_name(job);
  request.set_interval_ms(static_cast<int32_t>(interval_ms > 0 ? interval_ms
                                                               : (io.tty ? 500 : 5000)));
  auto reader = stub->Watch(&ctx, request);
  JobStatus status;
  bool any = false;
  std::string shown;  // the progress line on screen
  auto show = [&](const JobStatus& s, bool only_if_changed) {
    const std::string line = ProgressLine(s);
    if (only_if_changed && line == shown) return;
    if (io.tty) {
      *io.out << "\r\x1b[K" << line << std::flush;
    } else {
      *io.out << line << std::endl;
    }
    shown = line;
  };
  while (reader->Read(&status)) {
    any = true;
    show(status, /*only_if_changed=*/false);
    if (recorder) recorder->Record(status);
  }
  const grpc::Status finish = reader->Finish();
  bool interrupted;
  {
    absl::MutexLock lock(&g_watch_mu);
    g_watch_ctx = nullptr;
    interrupted = g_interrupted;
  }
  if (interrupted || !finish.ok() || !any) {
    if (io.tty && any) *io.out << "\n";
    if (interrupted) return reporter.Fail(absl::StrCat("interrupted while watching ", job));
    if (!finish.ok()) return reporter.Fail(RpcError(finish, target.address));
    return reporter.Fail(absl::StrCat("no status received for job ", job));
  }
  if (!Ended(status.state())) {
    if (io.tty) *io.out << "\n";
    return reporter.Fail(absl::StrCat("the status stream of ", job, " ended while it was ",
                                      StateName(status.state())));
  }
  // The last streamed status can predate the last evaluation report: the
  // final line and the summary come from a fresh Get (the streamed one if it
  // fails).
  if (absl::StatusOr<JobStatus> fresh = GetJob(job, target.address); fresh.ok() &&
                                                                    Ended(fresh->state())) {
    status = *fresh;
    show(status, /*only_if_changed=*/true);
    if (recorder) recorder->Record(status);
  }
  if (final_status != nullptr) *final_status = status;
  if (io.tty) *io.out << "\n";
  const double seconds = status.finished_unix() > 0 && status.started_unix() > 0
                             ? status.finished_unix() - status.started_unix()
                             : NAN;
  *io.out << absl::StrFormat("job %s %s%s\n", status.name(), StateName(status.state()),
                             status.message().empty() ? "" : ": " + status.message());
  std::string summary = absl::StrFormat("  %d env steps in %s s, %d episodes", status.env_steps(),
                                        Number(seconds), status.episodes());
  if (status.has_best_eval_return()) {
    absl::StrAppend(&summary, ", best eval ", Number(status.best_eval_return()));
  }
  const std::string curve = CurvePath(status, target);
  if (!curve.empty()) absl::StrAppend(&summary, ", curve ", curve);
  *io.out << summary << "\n";
  return status.state() == JOB_SUCCEEDED ? 0 : 1;
}

absl::StatusOr<JobSpec> LoadJob(const std::string& path) {
  absl::StatusOr<JobSpec> spec = ReadJobFile(path);
  if (!spec.ok()) return spec.status();
  if (absl::Status s = CheckJobSpec(*spec); !s.ok()) return s;
  return spec;
}

absl::StatusOr<std::string> Submit(const JobSpec& spec, const Target& target) {
  auto stub = Connect(target.address);
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  SubmitJobRequest request;
  *request.mutable_spec() = spec;
  JobStatus status;
  const grpc::Status s = stub->Submit(&ctx, request, &status);
  if (!s.ok()) return RpcError(s, target.address);
  return status.name();
}

UpOptions UpOptionsFrom(const CommandLine& cl) {
  UpOptions o;
  o.actors = static_cast<int>(cl.GetInt("actors", 2));
  o.state_dir = cl.GetString("state_dir", ".rlx");
  o.bin_dir = cl.GetString("bin_dir", "");
  o.checkpoint_dir = cl.GetString("checkpoint_dir", "");
  o.out_dir = cl.GetString("out_dir", "");
  o.metrics = !cl.Has("metrics") || cl.GetBool("metrics");  // on by default
  o.monitor = cl.GetBool("monitor");
  o.prometheus_binary = cl.GetString("prometheus_binary", "");
  o.alert_rules = cl.GetString("alert_rules", "");
  o.scrape_interval = absl::Seconds(cl.GetInt("scrape_interval_s", 5));
  o.start_timeout = absl::Seconds(cl.GetInt("start_timeout_s", 60));
  o.restart_backoff = absl::Milliseconds(cl.GetInt("restart_backoff_ms", 500));
  o.max_restart_backoff = absl::Milliseconds(cl.GetInt("max_restart_backoff_ms", 30000));
  o.stable_run = absl::Seconds(cl.GetInt("stable_run_s", 60));
  return o;
}

void PrintTopology(const Topology& t, const RlctlIo& io) {
  *io.out << "supervisor pid " << t.supervisor_pid << "\n";
  for (const ProcessRecord& p : t.processes) {
    *io.out << absl::StrFormat("  %-10s pid %-7d port %-5d", p.name, p.pid, p.port);
    if (p.metrics_port > 0) *io.out << absl::StrFormat(" metrics %-5d", p.metrics_port);
    *io.out << " log " << p.log << "\n";
  }
  *io.out << t.learner_address << "\n";
  if (!t.monitor_url.empty()) {
    *io.out << "monitor " << t.monitor_url << " (Prometheus; alert rules loaded; stop with "
            << "`rlctl down`)\n";
  }
}

// ---- JSON (`status --output=json`): a small writer, numbers as numbers.

std::string JsonString(absl::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<int>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}
std::string JsonNumber(double v) {
  return std::isfinite(v) ? absl::StrFormat("%.10g", v) : std::string("null");
}
std::string JsonInt(int64_t v) { return absl::StrCat(v); }
std::string JsonBool(bool v) { return v ? "true" : "false"; }
constexpr char kJsonNull[] = "null";

using JsonFields = std::vector<std::pair<std::string, std::string>>;  // key, rendered value

std::string Indent(int depth) { return std::string(2 * depth, ' '); }

std::string JsonObject(const JsonFields& fields, int depth) {
  if (fields.empty()) return "{}";
  std::string out = "{\n";
  for (size_t i = 0; i < fields.size(); ++i) {
    absl::StrAppend(&out, Indent(depth + 1), JsonString(fields[i].first), ": ", fields[i].second,
                    i + 1 < fields.size() ? ",\n" : "\n");
  }
  absl::StrAppend(&out, Indent(depth), "}");
  return out;
}

std::string JsonArray(const std::vector<std::string>& items, int depth) {
  if (items.empty()) return "[]";
  std::string out = "[\n";
  for (size_t i = 0; i < items.size(); ++i) {
    absl::StrAppend(&out, Indent(depth + 1), items[i], i + 1 < items.size() ? ",\n" : "\n");
  }
  absl::StrAppend(&out, Indent(depth), "]");
  return out;
}

// A process of a local topology as `status` shows it.
struct ProcessView {
  const ProcessRecord* record;
  std::string state;      // "gone" when unsupervised and not running
  std::string last_exit;  // described; "" for none
};

std::vector<ProcessView> ViewProcesses(const Topology& t, bool supervised) {
  std::vector<ProcessView> out;
  for (const ProcessRecord& p : t.processes) {
    ProcessView v{&p, p.state, DescribeLastExit(p.last_exit)};
    if (!supervised && p.pid > 0 && !ProcessAlive(p.pid)) v.state = "gone";
    out.push_back(v);
  }
  return out;
}

// `status`: one line per process of a local topology.
void PrintProcesses(const std::string& state_dir, const Topology& t, bool supervised,
                    const RlctlIo& io) {
  *io.out << "topology " << state_dir << ": "
          << (supervised ? absl::StrCat("supervisor pid ", t.supervisor_pid)
                         : std::string("NO SUPERVISOR (crashed processes are not restarted; "
                                       "`rlctl down` stops them)"))
          << "\n";
  for (const ProcessView& v : ViewProcesses(t, supervised)) {
    const ProcessRecord& p = *v.record;
    const std::string pid = p.pid > 0 ? absl::StrCat(p.pid) : "-";
    const std::string port = p.port > 0 ? absl::StrCat(p.port) : "-";
    *io.out << absl::StrFormat("  %-10s pid %-7s port %-5s restarts %-3d %s", p.name, pid, port,
                               p.restarts, v.state);
    if (!v.last_exit.empty()) *io.out << " (last exit: " << v.last_exit << ")";
    *io.out << "\n";
  }
  if (!t.monitor_url.empty()) *io.out << "  monitor    " << t.monitor_url << "\n";
}

std::string TopologyJson(const std::string& state_dir, const Topology& t, bool supervised,
                         int depth) {
  std::vector<std::string> processes;
  for (const ProcessView& v : ViewProcesses(t, supervised)) {
    const ProcessRecord& p = *v.record;
    processes.push_back(JsonObject(
        {{"name", JsonString(p.name)},
         {"pid", p.pid > 0 ? JsonInt(p.pid) : kJsonNull},
         {"port", p.port > 0 ? JsonInt(p.port) : kJsonNull},
         {"metrics_port", p.metrics_port > 0 ? JsonInt(p.metrics_port) : kJsonNull},
         {"restarts", JsonInt(p.restarts)},
         {"state", JsonString(v.state)},
         {"last_exit", v.last_exit.empty() ? kJsonNull : JsonString(v.last_exit)},
         {"binary", JsonString(p.binary)},
         {"log", JsonString(p.log)}},
        depth + 2));
  }
  return JsonObject(
      {{"state_dir", JsonString(state_dir)},
       {"supervisor_pid", t.supervisor_pid > 0 ? JsonInt(t.supervisor_pid) : kJsonNull},
       {"supervised", JsonBool(supervised)},
       {"learner_address", JsonString(t.learner_address)},
       {"replay_address", JsonString(t.replay_address)},
       {"out_dir", JsonString(t.out_dir)},
       {"checkpoint_dir", JsonString(t.checkpoint_dir)},
       {"monitor_url", t.monitor_url.empty() ? kJsonNull : JsonString(t.monitor_url)},
       {"processes", JsonArray(processes, depth + 1)}},
      depth);
}

// A job as its status line shows it (evaluation fields null until the first
// evaluation report).
std::string JobJson(const JobStatus& s, int depth) {
  const bool evaluated = s.has_last_eval_return();
  return JsonObject(
      {{"name", JsonString(s.name())},
       {"state", JsonString(StateName(s.state()))},
       {"algorithm", JsonString(s.spec().algorithm())},
       {"env", JsonString(s.spec().env())},
       {"env_steps", JsonInt(s.env_steps())},
       {"episodes", JsonInt(s.episodes())},
       {"mean_return", JsonNumber(s.mean_return())},
       {"last_eval_return", evaluated ? JsonNumber(s.last_eval_return()) : kJsonNull},
       {"last_eval_step", evaluated ? JsonInt(s.last_eval_step()) : kJsonNull},
       {"best_eval_return", s.has_best_eval_return() ? JsonNumber(s.best_eval_return()) : kJsonNull},
       {"target_eval_return", s.spec().stop().has_target_eval_return()
                                  ? JsonNumber(s.spec().stop().target_eval_return())
                                  : kJsonNull},
       {"policy_version", JsonInt(s.policy_version())},
       {"actors", JsonInt(s.actors())},
       {"env_steps_per_second", JsonNumber(s.env_steps_per_second())},
       {"mean_policy_lag", JsonNumber(s.mean_policy_lag())},
       {"message", JsonString(s.message())},
       {"curve_path", JsonString(s.curve_path())}},
      depth);
}

int CmdUp(const CommandLine& cl, const RlctlIo& io, const Reporter& r) {
  absl::StatusOr<Topology> t = StartLocalCluster(UpOptionsFrom(cl));
  if (!t.ok()) return r.Fail(t.status());
  PrintTopology(*t, io);
  return 0;
}

int CmdDown(const CommandLine& cl, const RlctlIo& io, const Reporter& r) {
  const std::string state_dir = cl.GetString("state_dir", ".rlx");
  absl::Status s = StopLocalCluster(state_dir, absl::Seconds(cl.GetInt("timeout_s", 10)), io.out);
  if (absl::IsNotFound(s)) return r.Fail(absl::StrCat("nothing to stop: no topology in ", state_dir));
  if (!s.ok()) return r.Fail(s);
  return 0;
}

int CmdSubmit(const CommandLine& cl, const RlctlIo& io, const Reporter& r) {
  absl::StatusOr<JobSpec> spec = LoadJob(cl.positional[0]);
  if (!spec.ok()) return r.Fail(spec.status());
  absl::StatusOr<Target> target = ResolveTarget(cl);
  if (!target.ok()) return r.Fail(target.status());
  absl::StatusOr<std::string> name = Submit(*spec, *target);
  if (!name.ok()) return r.Fail(name.status());
  *io.out << *name << "\n";
  return 0;
}

int CmdStatus(const CommandLine& cl, const RlctlIo& io, const Reporter& r) {
  const std::string output = cl.GetString("output", "text");
  if (output != "text" && output != "json") {
    return r.Fail(absl::StrCat("--output takes text or json, got '", output, "'"), 2);
  }
  const bool json = output == "json";
  absl::StatusOr<Target> target = ResolveTarget(cl);
  if (!target.ok()) return r.Fail(target.status());
  const std::string state_dir = cl.GetString("state_dir", ".rlx");
  const bool show_topology = cl.command == "status" && cl.positional.empty() && target->topology;
  const bool supervised = show_topology && SupervisorAlive(*target->topology);
  if (show_topology && !json) PrintProcesses(state_dir, *target->topology, supervised, io);
  auto stub = Connect(target->address);
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  std::vector<JobStatus> jobs;
  if (!cl.positional.empty()) {
    GetJobRequest request;
    request.set_name(cl.positional[0]);
    JobStatus status;
    const grpc::Status s = stub->Get(&ctx, request, &status);
    if (!s.ok()) return r.Fail(RpcError(s, target->address));
    jobs.push_back(status);
  } else {
    ListJobsResponse response;
    const grpc::Status s = stub->List(&ctx, ListJobsRequest(), &response);
    if (!s.ok()) return r.Fail(RpcError(s, target->address));
    jobs.assign(response.jobs().begin(), response.jobs().end());
  }
  if (json) {
    JsonFields fields;
    if (cl.command == "status") {
      fields.push_back({"topology", show_topology ? TopologyJson(AbsolutePath(state_dir),
                                                                 *target->topology, supervised, 1)
                                                  : kJsonNull});
      fields.push_back({"learner_address", JsonString(target->address)});
    }
    std::vector<std::string> items;
    for (const JobStatus& job : jobs) items.push_back(JobJson(job, 2));
    fields.push_back({"jobs", JsonArray(items, 1)});
    *io.out << JsonObject(fields, 0) << "\n";
    return 0;
  }
  if (jobs.empty()) *io.out << "no jobs\n";
  for (const JobStatus& job : jobs) *io.out << StatusLine(job) << "\n";
  return 0;
}

// Best effort (used on interrupt).
void CancelJob(const std::string& name, const Target& target) {
  auto stub = Connect(target.address);
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  CancelJobRequest request;
  request.set_name(name);
  JobStatus status;
  (void)stub->Cancel(&ctx, request, &status);
}

int CmdCancel(const CommandLine& cl, const RlctlIo& io, const Reporter& r) {
  absl::StatusOr<Target> target = ResolveTarget(cl);
  if (!target.ok()) return r.Fail(target.status());
  auto stub = Connect(target->address);
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  CancelJobRequest request;
  request.set_name(cl.positional[0]);
  JobStatus status;
  const grpc::Status s = stub->Cancel(&ctx, request, &status);
  if (!s.ok()) return r.Fail(RpcError(s, target->address));
  *io.out << StatusLine(status) << "\n";
  return 0;
}

int CmdHealth(const CommandLine& cl, const RlctlIo& io, const Reporter& r) {
  const std::string& address = cl.positional[0];
  auto stub = grpc::health::v1::Health::NewStub(
      MakeChannel(address));
  grpc::ClientContext ctx;
  const int timeout_ms = cl.GetInt("timeout_ms", 2000);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status s = stub->Check(&ctx, request, &response);
  if (!s.ok()) return r.Fail(absl::StrCat(address, " did not answer: ", s.error_message()));
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return r.Fail(absl::StrCat(address, " is ",
                               grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                                   response.status())));
  }
  *io.out << address << " SERVING\n";
  return 0;
}

int CmdRestart(const CommandLine& cl, const RlctlIo& io, const Reporter& r) {
  const std::string state_dir = cl.GetString("state_dir", ".rlx");
  const absl::Duration grace = absl::Seconds(cl.GetInt("timeout_s", 10));
  const absl::Status s = RestartProcess(state_dir, cl.positional[0], grace,
                                        grace + absl::Seconds(cl.GetInt("wait_s", 90)), io.out);
  if (absl::IsNotFound(s) && !FileExists(TopologyPath(state_dir))) {
    return r.Fail(absl::StrCat("no topology in ", state_dir, " (start one with `rlctl up`)"));
  }
  if (!s.ok()) return r.Fail(s);
  return 0;
}

// The background half of `up` (or a foreground supervisor).
int CmdSupervise(const CommandLine& cl, const RlctlIo& io, const Reporter& r) {
  SuperviseOptions options;
  options.up = ResolveUpOptions(UpOptionsFrom(cl));
  options.ready_fd = static_cast<int>(cl.GetInt("ready_fd", -1));
  options.stop_grace = absl::Seconds(cl.GetInt("timeout_s", 10));
  if (absl::Status s = CheckUpOptions(options.up, cl.GetString("state_dir", ".rlx")); !s.ok()) {
    if (options.ready_fd >= 0) {
      (void)WriteAll(options.ready_fd,
                     absl::StrCat("error ", static_cast<int>(s.code()), " ", s.message(), "\n"));
    }
    return r.Fail(s);
  }
  return RunSupervisor(options);
}

// The job's status from the learner (--address, or the running topology's),
// else from the learner's registry on disk (after `rlctl down`).
int CmdPlot(const CommandLine& cl, const RlctlIo& io, const Reporter& r) {
  const std::string& job = cl.positional[0];
  const std::string state_dir = cl.GetString("state_dir", ".rlx");
  std::string out_dir = cl.GetString("out_dir", "");
  std::optional<JobStatus> status;
  std::string learner_error;
  const bool explicit_address = cl.Has("address");
  if (explicit_address || FileExists(TopologyPath(state_dir))) {
    absl::StatusOr<Target> target = ResolveTarget(cl);
    if (target.ok()) {
      if (target->topology && out_dir.empty()) out_dir = target->topology->out_dir;
      absl::StatusOr<JobStatus> s = GetJob(job, target->address);
      if (s.ok()) {
        status = *s;
      } else {
        learner_error = std::string(s.status().message());
        if (explicit_address || absl::IsNotFound(s.status())) return r.Fail(s.status());
      }
    } else if (explicit_address) {
      return r.Fail(target.status());
    }
  }
  const std::string registry =
      absl::StrCat(cl.GetString("checkpoint_dir", absl::StrCat(state_dir, "/checkpoints")),
                   "/jobs.textproto");
  if (!status) {
    // The learner's registry (a ListJobsResponse in text format).
    ListJobsResponse jobs;
    absl::StatusOr<std::string> text = ReadFileToString(registry);
    if (text.ok() && google::protobuf::TextFormat::ParseFromString(*text, &jobs)) {
      for (const JobStatus& s : jobs.jobs()) {
        if (s.name() == job) status = s;
      }
    }
  }
  if (!status) {
    return r.Fail(absl::StrCat(
        "no job named '", job, "'",
        learner_error.empty() ? "" : absl::StrCat(" reachable (", learner_error, ")"),
        " and none in ", registry, " (pass --state_dir or --checkpoint_dir)"));
  }
  if (out_dir.empty()) out_dir = absl::StrCat(state_dir, "/out");
  std::string what;
  absl::StatusOr<std::string> svg = PlotJob(*status, AbsolutePath(out_dir),
                                            cl.GetString("svg", ""), &what);
  if (!svg.ok()) return r.Fail(svg.status());
  *io.out << *svg << "\n" << "  " << what << "\n";
  return 0;
}

int CmdWatch(const CommandLine& cl, const RlctlIo& io, const Reporter& r) {
  absl::StatusOr<Target> target = ResolveTarget(cl);
  if (!target.ok()) return r.Fail(target.status());
  return DoWatch(cl.positional[0], *target, cl.GetInt("interval_ms", 0), io, r);
}

int CmdRun(const CommandLine& cl, const RlctlIo& io, const Reporter& r) {
  absl::StatusOr<JobSpec> spec = LoadJob(cl.positional[0]);
  if (!spec.ok()) return r.Fail(spec.status());
  const UpOptions up = UpOptionsFrom(cl);

  // Ctrl-C / SIGTERM: cancel the watch; the topology is stopped below.
  BlockShutdownSignals();
  std::thread interrupter([] {
    if (WaitForShutdownSignal() == 0) return;  // woken by RequestShutdown: done
    absl::MutexLock lock(&g_watch_mu);
    g_interrupted = true;
    if (g_watch_ctx != nullptr) g_watch_ctx->TryCancel();
  });
  int code = 0;
  absl::StatusOr<Topology> t = StartLocalCluster(up);
  if (!t.ok()) {
    code = r.Fail(t.status());
  } else {
    PrintTopology(*t, io);
    Target target{t->learner_address, *t};
    JobStatus final_status;  // set when the job ended
    absl::StatusOr<std::string> name = Submit(*spec, target);
    if (!name.ok()) {
      code = r.Fail(name.status());
    } else {
      *io.out << "submitted " << *name << "\n";
      code = DoWatch(*name, target, cl.GetInt("interval_ms", 0), io, r, &final_status);
      bool interrupted;
      {
        absl::MutexLock lock(&g_watch_mu);
        interrupted = g_interrupted;
      }
      // The job belongs to this run: do not leave it queued for the next `up`.
      if (interrupted) CancelJob(*name, target);
    }
    const absl::Status down = StopLocalCluster(up.state_dir, absl::Seconds(10), nullptr);
    if (!down.ok()) code = r.Fail(absl::StrCat("stopping the topology: ", down.message()));
    if (!final_status.name().empty()) {
      // The learning curve, once the evaluator has written its last row; its
      // absence does not change the exit status.
      std::string what;
      absl::StatusOr<std::string> svg =
          PlotJob(final_status, t->out_dir, cl.GetString("svg", ""), &what);
      if (svg.ok()) {
        *io.out << "learning curve " << *svg << ": " << what << "\n";
      } else {
        *io.out << "no learning curve: " << svg.status().message() << "\n";
      }
    }
  }
  RequestShutdown();
  interrupter.join();
  return code;
}

}  // namespace

int RunRlctl(const std::vector<std::string>& args, const RlctlIo& io) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine(args);
  if (!cl.ok()) {
    *io.err << "rlctl: " << cl.status().message() << "\n";
    return 2;
  }
  if (cl->help) {
    const CommandSpec* command = FindCommand(cl->command);
    *io.out << (command ? CommandHelp(*command) : TopLevelHelp());
    return 0;
  }
  const Reporter reporter(io, cl->command);
  // TLS and token for the commands that talk to servers (flags of args.cc's
  // ClientSecurityFlags); plaintext without a token otherwise.
  SecurityOptions security;
  security.tls_ca = cl->GetString("tls_ca", "");
  security.tls_cert = cl->GetString("tls_cert", "");
  security.tls_key = cl->GetString("tls_key", "");
  security.tls_server_name = cl->GetString("tls_server_name", "");
  security.token_file = cl->GetString("token_file", "");
  absl::StatusOr<std::shared_ptr<const ClientSecurity>> client = ClientSecurity::Create(security);
  if (!client.ok()) return reporter.Fail(client.status(), 2);
  SetProcessClientSecurity(*std::move(client));
  const std::string& c = cl->command;
  if (c == "up") return CmdUp(*cl, io, reporter);
  if (c == "down") return CmdDown(*cl, io, reporter);
  if (c == "submit") return CmdSubmit(*cl, io, reporter);
  if (c == "status" || c == "list") return CmdStatus(*cl, io, reporter);
  if (c == "watch") return CmdWatch(*cl, io, reporter);
  if (c == "cancel") return CmdCancel(*cl, io, reporter);
  if (c == "health") return CmdHealth(*cl, io, reporter);
  if (c == "run") return CmdRun(*cl, io, reporter);
  if (c == "plot") return CmdPlot(*cl, io, reporter);
  if (c == "restart") return CmdRestart(*cl, io, reporter);
  if (c == "supervise") return CmdSupervise(*cl, io, reporter);
  return reporter.Fail("not implemented", 2);  // unreachable: ParseCommandLine knows the table
}

}  // namespace rlx::cli
