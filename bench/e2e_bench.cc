// e2e_bench: env steps/s through the whole pipeline (actors -> replay server
// -> learner, separate processes on loopback) with 1, 2 and 4 actors, beside
// the in-process streaming trainer on the same job (the pipeline-efficiency
// ratio), the policy-lag distribution, and the final training returns.
//
//   e2e_bench [--steps=20000] [--actors=1,2,4] [--seeds=1]
#include <signal.h>

#include <cstdio>
#include <map>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "job.grpc.pb.h"
#include "learner/job_spec.h"
#include "learner/stream_trainer.h"
#include "models/torch_mlp.h"
#include "replay/client.h"
#include "tests/test_util.h"

ABSL_FLAG(int64_t, steps, 20000, "Env steps per run.");
ABSL_FLAG(std::string, actors, "1,2,4", "Actor counts to run.");
ABSL_FLAG(int, publish_every, 10, "Learner steps between published parameter versions.");
ABSL_FLAG(uint64_t, seed, 1, "Job seed.");
ABSL_FLAG(int64_t, table_max_size, 256, "Queue table size (backpressure bounds policy lag).");
ABSL_FLAG(int32_t, max_policy_lag, 128, "Actors wait when this far ahead (-1: never).");
ABSL_FLAG(int, ref_seeds, 3, "In-process seeds for the reference spread of final returns.");

namespace rlx {
namespace {

struct Proc {
  Subprocess process;
  int port = 0;
  int metrics_port = 0;
};

absl::StatusOr<Proc> Start(const std::string& dir, const std::string& binary,
                           const std::string& tag, std::vector<std::string> extra) {
  const std::string pf = absl::StrCat(dir, "/", tag, ".port");
  std::vector<std::string> argv = {BinaryPath(binary), "--port_file=" + pf};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto p = Subprocess::Start(argv, absl::StrCat(dir, "/", tag, ".log"));
  if (!p.ok()) return p.status();
  auto contents = WaitForFileContents(pf, absl::Seconds(60));
  if (!contents.ok()) return absl::DeadlineExceededError(tag + " did not start");
  std::vector<std::string> lines = absl::StrSplit(*contents, '\n', absl::SkipEmpty());
  Proc proc{std::move(*p)};
  if (!lines.empty()) (void)absl::SimpleAtoi(lines[0], &proc.port);
  if (lines.size() > 1) (void)absl::SimpleAtoi(lines[1], &proc.metrics_port);
  return proc;
}

JobSpec BenchJob(int actors) {
  JobSpec spec;
  spec.set_name(absl::StrCat("bench", actors));
  spec.set_algorithm("stream_ac");
  spec.set_env("CartPole-v1");
  spec.set_num_actors(actors);
  spec.set_seed(absl::GetFlag(FLAGS_seed));
  spec.set_publish_every(absl::GetFlag(FLAGS_publish_every));
  spec.mutable_stop()->set_max_env_steps(absl::GetFlag(FLAGS_steps));
  spec.set_checkpoint_every_steps(1000000);
  spec.set_table_max_size(absl::GetFlag(FLAGS_table_max_size));
  spec.set_max_policy_lag(absl::GetFlag(FLAGS_max_policy_lag));
  return spec;
}

// Bucket counts of rl_learner_policy_lag_versions from a /metrics page.
std::string LagSummary(const std::string& metrics) {
  std::string out;
  double prev = 0;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, "rl_learner_policy_lag_versions_bucket")) continue;
    const size_t le = line.find("le=\"");
    const size_t sp = line.rfind(' ');
    if (le == absl::string_view::npos || sp == absl::string_view::npos) continue;
    const absl::string_view bound = line.substr(le + 4, line.find('"', le + 4) - le - 4);
    double cum = 0;
    if (!absl::SimpleAtod(line.substr(sp + 1), &cum)) continue;
    absl::StrAppend(&out, " <=", bound, ":", static_cast<int64_t>(cum - prev));
    prev = cum;
  }
  return out;
}

struct RunResult {
  double steps_per_second = 0;
  double mean_return = 0;
  double mean_lag = 0;
  std::string lag_histogram;
};

absl::StatusOr<RunResult> RunDistributed(int actors) {
  const std::string dir = MakeTempDir("e2e_bench");
  auto replay = Start(dir, "replay_server", "replay", {"--metrics_port=0"});
  if (!replay.ok()) return replay.status();
  auto learner = Start(dir, "learner", "learner",
                       {"--metrics_port=-1", absl::StrCat("--replay=127.0.0.1:", replay->port),
                        "--checkpoint_dir=" + dir + "/learner"});
  if (!learner.ok()) return learner.status();
  std::vector<Proc> actor_procs;
  for (int i = 0; i < actors; ++i) {
    auto a = Start(dir, "actor", absl::StrCat("actor", i),
                   {absl::StrCat("--learner=127.0.0.1:", learner->port),
                    absl::StrCat("--replay=127.0.0.1:", replay->port)});
    if (!a.ok()) return a.status();
    actor_procs.push_back(std::move(*a));
  }
  auto stub = JobService::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", learner->port)));
  const JobSpec spec = BenchJob(actors);
  {
    grpc::ClientContext ctx;
    SubmitJobRequest r;
    *r.mutable_spec() = spec;
    JobStatus s;
    grpc::Status st = stub->Submit(&ctx, r, &s);
    if (!st.ok()) return absl::InternalError(st.error_message());
  }
  // Time from the first learned step to the last.
  absl::Time first = absl::InfinitePast(), last;
  JobStatus status;
  while (true) {
    grpc::ClientContext ctx;
    GetJobRequest r;
    r.set_name(spec.name());
    if (!stub->Get(&ctx, r, &status).ok()) return absl::InternalError("Get failed");
    if (status.env_steps() > 0 && first == absl::InfinitePast()) first = absl::Now();
    if (status.state() != JOB_RUNNING && status.state() != JOB_QUEUED) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  last = absl::Now();
  RunResult out;
  out.steps_per_second = status.env_steps() / absl::ToDoubleSeconds(last - first);
  out.mean_return = status.mean_return();
  out.mean_lag = status.mean_policy_lag();
  auto metrics = HttpGet("127.0.0.1", learner->metrics_port, "/metrics");
  if (metrics.ok()) out.lag_histogram = LagSummary(*metrics);
  for (auto& a : actor_procs) a.process.Signal(SIGTERM);
  for (auto& a : actor_procs) a.process.Wait(absl::Seconds(20));
  learner->process.Signal(SIGTERM);
  learner->process.Wait(absl::Seconds(20));
  replay->process.Signal(SIGTERM);
  replay->process.Wait(absl::Seconds(20));
  return out;
}

int Main() {
  SetTorchThreads(1);
  JobSpec spec = BenchJob(1);
  if (!ValidateJobSpec(&spec).ok()) return 1;
  StreamTrainOptions options;
  options.env_name = spec.env();
  options.config = *JobStreamConfig(spec);
  options.steps = spec.stop().max_env_steps();
  options.seed = spec.seed();
  // The in-process reference: steps/s of the job's seed, and the spread of the
  // final mean training return (last 10 episodes) over ref_seeds seeds.
  double ref_steps_per_second = 0, ref_return = 0, ref_min = 1e300, ref_max = -1e300;
  for (int i = 0; i < absl::GetFlag(FLAGS_ref_seeds); ++i) {
    options.seed = spec.seed() + i;
    auto reference = RunStreamTraining(options);
    if (!reference.ok()) {
      std::fprintf(stderr, "in-process run failed: %s\n", reference.status().ToString().c_str());
      return 1;
    }
    double last10 = 0;
    const size_t k = std::min<size_t>(10, reference->episodes.size());
    for (size_t j = reference->episodes.size() - k; j < reference->episodes.size(); ++j) {
      last10 += reference->episodes[j].episode_return / k;
    }
    if (i == 0) {
      ref_steps_per_second = reference->steps_per_second;
      ref_return = last10;
    }
    ref_min = std::min(ref_min, last10);
    ref_max = std::max(ref_max, last10);
  }
  std::printf("job: Stream AC(lambda), CartPole-v1, %lld env steps, publish_every %d, seed %llu, "
              "queue %lld, max_policy_lag %d\n",
              static_cast<long long>(options.steps), absl::GetFlag(FLAGS_publish_every),
              static_cast<unsigned long long>(spec.seed()),
              static_cast<long long>(absl::GetFlag(FLAGS_table_max_size)),
              absl::GetFlag(FLAGS_max_policy_lag));
  std::printf("in-process final mean return (last 10 episodes) over %d seeds: %.1f .. %.1f\n",
              absl::GetFlag(FLAGS_ref_seeds), ref_min, ref_max);
  std::printf("%-12s %12s %10s %14s %10s  %s\n", "run", "env steps/s", "ratio", "mean return",
              "mean lag", "lag histogram (versions: items)");
  std::printf("%-12s %12.0f %10s %14.1f %10s\n", "in-process", ref_steps_per_second, "1.00",
              ref_return, "0");
  std::fflush(stdout);
  for (absl::string_view a : absl::StrSplit(absl::GetFlag(FLAGS_actors), ',')) {
    int actors = 0;
    if (!absl::SimpleAtoi(a, &actors)) continue;
    auto r = RunDistributed(actors);
    if (!r.ok()) {
      std::printf("%d actors: failed: %s\n", actors, r.status().ToString().c_str());
      continue;
    }
    std::printf("%-12s %12.0f %10.2f %14.1f %10.1f %s\n", absl::StrCat(actors, " actors").c_str(),
                r->steps_per_second, r->steps_per_second / ref_steps_per_second,
                r->mean_return, r->mean_lag, r->lag_histogram.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Distributed pipeline throughput against the in-process trainer.");
  absl::ParseCommandLine(argc, argv);
  return rlx::Main();
}
