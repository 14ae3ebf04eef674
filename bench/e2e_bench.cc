// e2e_bench: env steps/s through the whole pipeline (actors -> replay server
// -> learner, separate processes on loopback) with 1, 2 and 4 actors, beside
// the in-process trainer on the same job (the pipeline-efficiency ratio), the
// policy-lag distribution, the learning curves against the in-process seed
// band, and where each run first reached --solve_threshold.
//
//   e2e_bench [--steps=20000] [--actors=1,2,4] [--repeats=3] [--ref_seeds=3]
//   e2e_bench --algorithm=ppo --envs=4 --actors=1,2 --steps=300000 --curve_every=10240
//   e2e_bench --algorithm=appo --envs=32 --ppo_num_steps=64 --ppo_lr=1e-3 --actors=2
//
// Stream-x jobs: one env per actor (the in-process trainer: stream_train).
// PPO / APPO jobs: --envs envs in all, split evenly over the actors, so every
// actor count runs the same rollout as the in-process trainer (ppo_train
// with --envs envs).
//
// Every distributed run is measured between two in-process runs of the same
// job and seed, and its ratio is taken to their mean: this shared machine's
// speed drifts by tens of percent from one run to the next.
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <numeric>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/match.h"
#include "job.grpc.pb.h"
#include "algorithms/job_spec.h"
#include "algorithms/stream_x/job_config.h"
#include "algorithms/ppo/job_config.h"
#include "algorithms/ppo/ppo_trainer.h"
#include "algorithms/stream_x/stream_trainer.h"
#include "models/backends.h"
#include "replay/client.h"
#include "tests/test_util.h"
#include "core/process_setup.h"

ABSL_FLAG(int64_t, steps, 20000, "Env steps per run.");
ABSL_FLAG(std::string, actors, "1,2,4", "Actor counts to run.");
ABSL_FLAG(int, publish_every, 50,
          "Learner steps between published parameter versions (the job files' value).");
ABSL_FLAG(uint64_t, seed, 1, "Job seed.");
ABSL_FLAG(int64_t, table_max_size, 256, "Queue table size (backpressure bounds policy lag).");
ABSL_FLAG(int32_t, max_policy_lag, 32, "Actors wait when this far ahead (-1: never).");
ABSL_FLAG(int, ref_seeds, 5, "In-process seeds for the reference spread of final returns.");
ABSL_FLAG(int64_t, curve_every, 2000, "Env steps between learning-curve points.");
ABSL_FLAG(int, actor_nice, 5, "Actors' --nice (rlctl up uses 5).");
ABSL_FLAG(int, repeats, 3, "Rounds over the actor counts (the summary gives medians).");
ABSL_FLAG(std::string, algorithm, "stream_ac", "stream_ac | ppo | appo.");
ABSL_FLAG(std::string, network, "auto",
          "stream_ac: network backend (auto = cpu_mlp, cpu, libtorch / torch_mlp).");
ABSL_FLAG(int, envs, 4, "PPO/APPO: envs of all actors together (the rollout's unrolls).");
ABSL_FLAG(int, ppo_num_steps, 128, "PPO/APPO: unroll length T.");
ABSL_FLAG(int, ppo_minibatches, 4, "PPO/APPO: minibatches per epoch.");
ABSL_FLAG(double, ppo_lr, 2.5e-4, "PPO/APPO: learning rate (annealed).");
ABSL_FLAG(double, solve_threshold, 475, "Solved-at: first curve point at or above this.");

namespace rlx {
namespace {


bool IsPpo() {
  const std::string a = absl::GetFlag(FLAGS_algorithm);
  return a == "ppo" || a == "appo";
}

JobSpec BenchJob(int actors) {
  JobSpec spec;
  spec.set_name(absl::StrCat("bench", actors));
  spec.set_algorithm(absl::GetFlag(FLAGS_algorithm));
  if (IsPpo()) {
    spec.set_env("CartPole-v1");
    spec.set_num_actors(actors);
    spec.set_envs_per_actor(std::max(1, absl::GetFlag(FLAGS_envs) / actors));
    spec.set_seed(absl::GetFlag(FLAGS_seed));
    spec.mutable_stop()->set_max_env_steps(absl::GetFlag(FLAGS_steps));
    spec.set_checkpoint_every_steps(100000000);
    PpoJobConfig* ppo = spec.mutable_ppo();
    ppo->set_num_steps(absl::GetFlag(FLAGS_ppo_num_steps));
    ppo->set_num_minibatches(absl::GetFlag(FLAGS_ppo_minibatches));
    ppo->set_learning_rate(absl::GetFlag(FLAGS_ppo_lr));
    return spec;  // queue size and lag bound: the algorithm's defaults
  }
  spec.set_env("CartPole-v1");
  spec.set_num_actors(actors);
  spec.set_seed(absl::GetFlag(FLAGS_seed));
  spec.set_publish_every(absl::GetFlag(FLAGS_publish_every));
  spec.mutable_stop()->set_max_env_steps(absl::GetFlag(FLAGS_steps));
  spec.set_checkpoint_every_steps(1000000);
  spec.set_table_max_size(absl::GetFlag(FLAGS_table_max_size));
  spec.set_max_policy_lag(absl::GetFlag(FLAGS_max_policy_lag));
  spec.mutable_stream_x()->set_network(absl::GetFlag(FLAGS_network));
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

// Learning curve: the mean of the last 10 training returns at env steps
// curve_every, 2 * curve_every, ..., steps (NaN before the first episode).
using Curve = std::vector<double>;

int CurvePoints() {
  return static_cast<int>(absl::GetFlag(FLAGS_steps) / absl::GetFlag(FLAGS_curve_every));
}

// Peak resident set of a running process (VmHWM of /proc/<pid>/status), MB.
double PeakRssMb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "VmHWM:")) {
      double kb = 0;
      if (absl::SimpleAtod(absl::StripAsciiWhitespace(absl::StripSuffix(line.substr(6), "kB")),
                           &kb)) {
        return kb / 1024.0;
      }
    }
  }
  return NAN;
}

struct RunResult {
  double actor_rss_mb = 0;    // peak, the largest actor
  double learner_rss_mb = 0;  // peak
  double steps_per_second = 0;
  double mean_return = 0;
  Curve curve;
  double mean_lag = 0;
  std::string lag_histogram;
};

absl::StatusOr<RunResult> RunDistributed(int actors) {
  const std::string dir = MakeTempDir("e2e_bench");
  auto replay = StartWithPortFile(dir, "replay_server", "replay", {"--metrics_port=0"});
  if (!replay.ok()) return replay.status();
  auto learner = StartWithPortFile(
      dir, "learner", "learner",
      {"--metrics_port=-1", absl::StrCat("--replay=127.0.0.1:", replay->port),
       "--checkpoint_dir=" + dir + "/learner"});
  if (!learner.ok()) return learner.status();
  std::vector<ServingProcess> actor_procs;
  for (int i = 0; i < actors; ++i) {
    auto a = StartWithPortFile(dir, "actor", absl::StrCat("actor", i),
                               {absl::StrCat("--learner=127.0.0.1:", learner->port),
                                absl::StrCat("--replay=127.0.0.1:", replay->port),
                                absl::StrCat("--nice=", absl::GetFlag(FLAGS_actor_nice))});
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
  Curve curve;
  const int64_t every = absl::GetFlag(FLAGS_curve_every);
  while (true) {
    grpc::ClientContext ctx;
    GetJobRequest r;
    r.set_name(spec.name());
    if (!stub->Get(&ctx, r, &status).ok()) return absl::InternalError("Get failed");
    if (status.env_steps() > 0 && first == absl::InfinitePast()) first = absl::Now();
    // Polled every 20 ms: a point is read within ~150 env steps of its step.
    while (static_cast<int>(curve.size()) < CurvePoints() &&
           status.env_steps() >= (static_cast<int64_t>(curve.size()) + 1) * every) {
      curve.push_back(status.episodes() > 0 ? status.mean_return() : NAN);
    }
    if (status.state() != JOB_RUNNING && status.state() != JOB_QUEUED) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  last = absl::Now();
  RunResult out;
  out.steps_per_second = status.env_steps() / absl::ToDoubleSeconds(last - first);
  out.mean_return = status.mean_return();
  out.curve = std::move(curve);
  out.mean_lag = status.mean_policy_lag();
  auto metrics = HttpGet("127.0.0.1", learner->metrics_port, "/metrics");
  if (metrics.ok()) out.lag_histogram = LagSummary(*metrics);
  for (auto& a : actor_procs) {
    out.actor_rss_mb = std::max(out.actor_rss_mb, PeakRssMb(a.process.pid()));
  }
  out.learner_rss_mb = PeakRssMb(learner->process.pid());
  for (auto& a : actor_procs) a.process.Signal(SIGTERM);
  for (auto& a : actor_procs) a.process.Wait(absl::Seconds(20));
  learner->process.Signal(SIGTERM);
  learner->process.Wait(absl::Seconds(20));
  replay->process.Signal(SIGTERM);
  replay->process.Wait(absl::Seconds(20));
  return out;
}

struct InProcessResult {
  double steps_per_second = 0;
  double mean_return = 0;  // last 10 training episodes
  Curve curve;
};

// The in-process trainer of the job's algorithm on `spec`, with `seed`.
absl::StatusOr<InProcessResult> RunInProcess(const JobSpec& spec, uint64_t seed) {
  std::vector<std::pair<int64_t, double>> episodes;  // (env step at its end, return)
  InProcessResult out;
  if (IsPpo()) {
    ppo::PpoTrainOptions options;
    options.env_name = spec.env();
    options.config = ppo::JobPpoConfig(spec);
    options.steps = spec.stop().max_env_steps();
    options.seed = seed;
    absl::StatusOr<ppo::PpoTrainResult> run = ppo::RunPpoTraining(options);
    if (!run.ok()) return run.status();
    out.steps_per_second = run->env_steps / run->seconds;
    for (const ppo::EpisodeRecord& e : run->episodes) episodes.emplace_back(e.env_step, e.episode_return);
  } else {
    StreamTrainOptions options;
    options.env_name = spec.env();
    options.config = *JobStreamConfig(spec);
    options.steps = spec.stop().max_env_steps();
    options.seed = seed;
    absl::StatusOr<StreamTrainResult> run = RunStreamTraining(options);
    if (!run.ok()) return run.status();
    out.steps_per_second = run->steps_per_second;
    for (const EpisodeRecord& e : run->episodes) episodes.emplace_back(e.env_step, e.episode_return);
  }
  const size_t k = std::min<size_t>(10, episodes.size());
  for (size_t j = episodes.size() - k; j < episodes.size(); ++j) {
    out.mean_return += episodes[j].second / k;
  }
  const int64_t every = absl::GetFlag(FLAGS_curve_every);
  size_t next = 0;
  std::deque<double> last10;
  for (int p = 1; p <= CurvePoints(); ++p) {
    while (next < episodes.size() && episodes[next].first <= p * every) {
      last10.push_back(episodes[next++].second);
      if (last10.size() > 10) last10.pop_front();
    }
    double mean = NAN;
    if (!last10.empty()) {
      mean = 0;
      for (double g : last10) mean += g / last10.size();
    }
    out.curve.push_back(mean);
  }
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The first curve point at or above the threshold, in env steps (-1: never).
int64_t SolvedAt(const Curve& c) {
  for (size_t p = 0; p < c.size(); ++p) {
    if (!std::isnan(c[p]) && c[p] >= absl::GetFlag(FLAGS_solve_threshold)) {
      return static_cast<int64_t>(p + 1) * absl::GetFlag(FLAGS_curve_every);
    }
  }
  return -1;
}

int Main() {
  SetBackendThreads(1);
  std::vector<int> actor_counts;
  for (absl::string_view a : absl::StrSplit(absl::GetFlag(FLAGS_actors), ',')) {
    int actors = 0;
    if (absl::SimpleAtoi(a, &actors) && actors > 0) actor_counts.push_back(actors);
  }
  if (actor_counts.empty()) return 1;
  for (int actors : actor_counts) {
    if (IsPpo() && absl::GetFlag(FLAGS_envs) % actors != 0) {
      std::fprintf(stderr, "--envs=%d is not a multiple of %d actors\n", absl::GetFlag(FLAGS_envs), actors);
      return 1;
    }
  }
  // The in-process reference runs the job's configuration (for PPO the same
  // rollout whatever the actor count).
  JobSpec spec = BenchJob(actor_counts[0]);
  if (absl::Status s = ValidateJobSpec(&spec); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  const int repeats = std::max(1, absl::GetFlag(FLAGS_repeats));

  // The reference spread of the final mean training return over seeds.
  double ref_min = 1e300, ref_max = -1e300;
  std::vector<Curve> ref_curves;
  for (int i = 0; i < absl::GetFlag(FLAGS_ref_seeds); ++i) {
    auto r = RunInProcess(spec, spec.seed() + i);
    if (!r.ok()) {
      std::fprintf(stderr, "in-process run failed: %s\n", r.status().ToString().c_str());
      return 1;
    }
    ref_min = std::min(ref_min, r->mean_return);
    ref_max = std::max(ref_max, r->mean_return);
    ref_curves.push_back(r->curve);
    std::printf("in-process seed %llu: %.0f env steps/s, solved at %lld\n",
                static_cast<unsigned long long>(spec.seed() + i), r->steps_per_second,
                static_cast<long long>(SolvedAt(r->curve)));
  }
  // The band (min .. max per point) of the reference curves, leaving one out.
  auto band = [&](int skip, Curve* lo, Curve* hi) {
    lo->assign(CurvePoints(), 1e300);
    hi->assign(CurvePoints(), -1e300);
    for (int i = 0; i < static_cast<int>(ref_curves.size()); ++i) {
      if (i == skip) continue;
      for (int p = 0; p < CurvePoints(); ++p) {
        if (std::isnan(ref_curves[i][p])) continue;
        (*lo)[p] = std::min((*lo)[p], ref_curves[i][p]);
        (*hi)[p] = std::max((*hi)[p], ref_curves[i][p]);
      }
    }
  };
  auto count_in = [&](const Curve& c, const Curve& lo, const Curve& hi) {
    int n = 0;
    for (int p = 0; p < CurvePoints() && p < static_cast<int>(c.size()); ++p) {
      if (!std::isnan(c[p]) && c[p] >= lo[p] && c[p] <= hi[p]) ++n;
    }
    return n;
  };
  Curve band_lo, band_hi;
  band(-1, &band_lo, &band_hi);
  // Share of a curve's points inside the band of n - 1 reference seeds,
  // averaged over which seed is left out (comparable with the figure below).
  auto in_band = [&](const Curve& c) -> double {
    if (ref_curves.size() < 3) return std::nan("");
    double in = 0;
    for (int i = 0; i < static_cast<int>(ref_curves.size()); ++i) {
      Curve lo, hi;
      band(i, &lo, &hi);
      in += count_in(c, lo, hi);
    }
    return in / (ref_curves.size() * CurvePoints());
  };
  // How often an in-process seed's own points fall inside the band of the
  // other seeds: what "within the seed spread" means for a fresh seed.
  int loo_in = 0, loo_total = 0;
  if (ref_curves.size() >= 3) {
    for (int i = 0; i < static_cast<int>(ref_curves.size()); ++i) {
      Curve lo, hi;
      band(i, &lo, &hi);
      loo_in += count_in(ref_curves[i], lo, hi);
      loo_total += CurvePoints();
    }
  }
  std::printf("job: %s, %s, %lld env steps, seed %llu, max_policy_lag %d, %s\n",
              spec.algorithm().c_str(), spec.env().c_str(),
              static_cast<long long>(spec.stop().max_env_steps()),
              static_cast<unsigned long long>(spec.seed()), spec.max_policy_lag(),
              IsPpo() ? absl::StrFormat("%d envs in all, unrolls of %d, %d minibatches, lr %g",
                                        absl::GetFlag(FLAGS_envs), spec.ppo().num_steps(),
                                        spec.ppo().num_minibatches(),
                                        spec.ppo().learning_rate()).c_str()
                      : absl::StrFormat("publish_every %d, queue %lld", spec.publish_every(),
                                        static_cast<long long>(spec.table_max_size())).c_str());
  std::printf("in-process final mean return (last 10 episodes) over %d seeds: %.1f .. %.1f\n",
              absl::GetFlag(FLAGS_ref_seeds), ref_min, ref_max);
  std::printf("learning curve = mean of the last 10 training returns every %lld env steps; "
              "in-process seed band (min .. max):\n ",
              static_cast<long long>(absl::GetFlag(FLAGS_curve_every)));
  for (int p = 0; p < CurvePoints(); ++p) std::printf(" %.0f..%.0f", band_lo[p], band_hi[p]);
  std::printf("\n");
  if (loo_total > 0) {
    std::printf("in-process seeds: %.0f%% of their points inside the band of the other %zu "
                "(the 'in band' column uses the same leave-one-out bands: a distributed run\n"
                "learns like another seed when its share is similar)\n",
                100.0 * loo_in / loo_total, ref_curves.size() - 1);
  }
  std::printf("Each distributed run sits between two in-process runs of the same job and seed;\n"
              "its ratio is to their mean (this machine's speed drifts between runs).\n");
  std::printf("%-6s %-10s %12s %12s %8s %12s %8s %10s  %s\n", "round", "run", "env steps/s",
              "in-process", "ratio", "mean return", "in band", "mean lag",
              "lag histogram (versions: items)");
  std::fflush(stdout);

  std::map<int, std::vector<double>> ratios, rates;
  std::map<int, std::vector<double>> in_band_share;
  auto in_process = RunInProcess(spec, spec.seed());
  if (!in_process.ok()) return 1;
  for (int round = 1; round <= repeats; ++round) {
    for (int actors : actor_counts) {
      const double before = in_process->steps_per_second;
      auto r = RunDistributed(actors);
      in_process = RunInProcess(spec, spec.seed());
      if (!in_process.ok()) return 1;
      if (!r.ok()) {
        std::printf("%-6d %d actors: failed: %s\n", round, actors, r.status().ToString().c_str());
        continue;
      }
      const double reference = 0.5 * (before + in_process->steps_per_second);
      const double ratio = r->steps_per_second / reference;
      ratios[actors].push_back(ratio);
      rates[actors].push_back(r->steps_per_second);
      const double share = in_band(r->curve);
      in_band_share[actors].push_back(share);
      std::printf("%-6d %-10s %12.0f %12.0f %8.2f %12.1f %8s %10.1f %s\n", round,
                  absl::StrCat(actors, " actors").c_str(), r->steps_per_second, reference, ratio,
                  r->mean_return, absl::StrFormat("%.0f%%", 100 * share).c_str(), r->mean_lag,
                  r->lag_histogram.c_str());
      std::printf("       curve:");
      for (double g : r->curve) std::printf(" %.0f", g);
      std::printf("  (solved at %lld); peak RSS: actor %.0f MB, learner %.0f MB\n",
                  static_cast<long long>(SolvedAt(r->curve)), r->actor_rss_mb,
                  r->learner_rss_mb);
      std::fflush(stdout);
    }
  }
  std::printf("summary over %d rounds:\n", repeats);
  for (int actors : actor_counts) {
    if (ratios[actors].empty()) continue;
    const auto [lo, hi] = std::minmax_element(ratios[actors].begin(), ratios[actors].end());
    std::printf("  %d actors: median %.0f env steps/s, median ratio %.2f (range %.2f .. %.2f); "
                "learning-curve points inside the in-process seed band: %.0f%%\n",
                actors, Median(rates[actors]), Median(ratios[actors]), *lo, *hi,
                100.0 * std::accumulate(in_band_share[actors].begin(), in_band_share[actors].end(),
                                        0.0) / in_band_share[actors].size());
  }
  return 0;
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  rlx::SetUpProcess();
  absl::SetProgramUsageMessage("Distributed pipeline throughput against the in-process trainer.");
  absl::ParseCommandLine(argc, argv);
  return rlx::Main();
}
