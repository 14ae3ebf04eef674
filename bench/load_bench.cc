// load_bench: many actors against one replay server and one learner.
//
// Starts replay_server and learner as processes (127.0.0.1, free ports),
// submits a Stream AC CartPole job with num_actors = --clients, and runs
// --clients actor loops in this process (the actor library: lease, parameter
// stream, batched inserts) for --seconds, while --probes extra clients time
// single inserts and samples on a table of their own. Prints the job's
// throughput, the probes' insert and sample latency (p50/p99, as a client
// sees it), the replay server's own insert and sample latency for the job's
// table (its histograms, at /metrics), each server's peak RSS, and the error
// count. Exit status 1 on any error, when fewer than --clients actors held a
// lease, or when a server's peak RSS exceeds --max_rss_mb.
//
//   build/bin/load_bench [--clients=64] [--seconds=30] [--probes=4]
//
// Figures: docs/benchmarks.md, "Load".
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "actor/actor_loop.h"
#include "core/file_util.h"
#include "core/security.h"
#include "job.grpc.pb.h"
#include "replay/client.h"
#include "tests/test_util.h"

ABSL_FLAG(int, clients, 64, "Actor loops (each leases one of the job's num_actors places).");
ABSL_FLAG(int, seconds, 30, "How long the load runs.");
ABSL_FLAG(int, probes, 4, "Extra clients timing single inserts and samples on their own table.");
ABSL_FLAG(double, max_rss_mb, 1024, "Fail when a server's peak RSS exceeds this (MB).");

namespace rlx {
namespace {

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  return v[i];
}

// p-quantile of a Prometheus histogram (cumulative buckets "le" -> count)
// by linear interpolation inside the bucket, as histogram_quantile does.
double HistogramQuantile(const std::map<double, double>& buckets, double q) {
  if (buckets.empty()) return NAN;
  const double total = buckets.rbegin()->second;
  if (total <= 0) return NAN;
  const double rank = q * total;
  double lo = 0, below = 0;
  for (const auto& [le, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(le)) return lo;
      return lo + (le - lo) * (count > below ? (rank - below) / (count - below) : 0);
    }
    lo = le;
    below = count;
  }
  return lo;
}

// The buckets of metric{table="table"} in a /metrics text.
std::map<double, double> Buckets(const std::string& text, const std::string& metric,
                                 const std::string& table) {
  std::map<double, double> out;
  const std::string prefix = metric + "_bucket{";
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, prefix)) continue;
    if (!absl::StrContains(line, absl::StrCat("table=\"", table, "\""))) continue;
    const size_t le = line.find(",le=\"");  // not the "le=" of "table="
    const size_t close = line.find("\"}", le);
    if (le == absl::string_view::npos || close == absl::string_view::npos) continue;
    const absl::string_view bound = line.substr(le + 5, close - le - 5);
    double b = 0, c = 0;
    if (bound == "+Inf") {
      b = INFINITY;
    } else if (!absl::SimpleAtod(bound, &b)) {
      continue;
    }
    if (!absl::SimpleAtod(absl::StripAsciiWhitespace(line.substr(close + 2)), &c)) continue;
    out[b] = c;
  }
  return out;
}

double RssMb(pid_t pid, const char* field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, field)) {
      double kb = 0;
      if (absl::SimpleAtod(
              absl::StripAsciiWhitespace(absl::StripSuffix(line.substr(std::strlen(field)), "kB")),
              &kb)) {
        return kb / 1024.0;
      }
    }
  }
  return NAN;
}

Item ProbeItem(int64_t id) {
  Item item;
  item.mutable_metadata()->set_actor_id(id);
  NamedTensor* t = item.add_tensors();
  t->set_name("x");
  t->mutable_tensor()->set_dtype(DTYPE_FLOAT32);
  t->mutable_tensor()->add_shape(16);
  t->mutable_tensor()->set_data(std::string(64, '\1'));
  return item;
}

int Run() {
  const int clients = absl::GetFlag(FLAGS_clients);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  const int probes = absl::GetFlag(FLAGS_probes);
  const std::string dir = MakeTempDir("load_bench");
  auto replay = StartWithPortFile(dir, "replay_server", "replay",
                                  {"--port=0", "--metrics_port=-1", "--tables=probe:uniform:1000"});
  if (!replay.ok()) {
    std::fprintf(stderr, "load_bench: replay_server: %s\n", replay.status().ToString().c_str());
    return 1;
  }
  const std::string replay_address = absl::StrCat("127.0.0.1:", replay->port);
  auto learner = StartWithPortFile(dir, "learner", "learner",
                                   {"--port=0", "--metrics_port=-1", "--replay=" + replay_address,
                                    "--checkpoint_dir=" + dir + "/learner"});
  if (!learner.ok()) {
    std::fprintf(stderr, "load_bench: learner: %s\n", learner.status().ToString().c_str());
    return 1;
  }
  const std::string learner_address = absl::StrCat("127.0.0.1:", learner->port);
  auto jobs = JobService::NewStub(MakeChannel(learner_address));
  JobSpec spec;
  spec.set_name("load");
  spec.set_algorithm("stream_ac");
  spec.set_env("CartPole-v1");
  spec.set_num_actors(clients);
  spec.set_seed(1);
  spec.set_publish_every(10);
  spec.mutable_stop()->set_max_wall_seconds(seconds + 600);
  {
    grpc::ClientContext ctx;
    SubmitJobRequest request;
    *request.mutable_spec() = spec;
    JobStatus status;
    grpc::Status s = jobs->Submit(&ctx, request, &status);
    if (!s.ok()) {
      std::fprintf(stderr, "load_bench: submit: %s\n", s.error_message().c_str());
      return 1;
    }
  }
  std::printf("load_bench: %d actor clients, %d probes, %d s; replay %s, learner %s\n", clients,
              probes, seconds, replay_address.c_str(), learner_address.c_str());
  std::fflush(stdout);

  std::vector<std::unique_ptr<ActorLoop>> actors;
  std::vector<std::thread> threads;
  std::atomic<int> actor_errors{0};
  for (int i = 0; i < clients; ++i) {
    ActorOptions options;
    options.learner_address = learner_address;
    options.replay_address = replay_address;
    options.name = absl::StrCat("load-", i);
    auto loop = ActorLoop::Create(options, nullptr);
    if (!loop.ok()) {
      std::fprintf(stderr, "load_bench: actor %d: %s\n", i, loop.status().ToString().c_str());
      return 1;
    }
    actors.push_back(*std::move(loop));
  }
  for (auto& a : actors) {
    threads.emplace_back([&actor_errors, loop = a.get()] {
      if (!loop->Run().ok()) ++actor_errors;
    });
  }

  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  absl::Mutex mu;
  std::vector<double> insert_ms, sample_ms;
  std::atomic<int> probe_errors{0};
  std::vector<std::thread> probe_threads;
  for (int p = 0; p < probes; ++p) {
    probe_threads.emplace_back([&, p] {
      ReplayClient client(MakeChannel(replay_address));
      std::vector<double> ins, smp;
      int64_t id = 0;
      while (absl::Now() < end) {
        absl::Time t0 = absl::Now();
        if (!client.Insert("probe", {ProbeItem(p * 1000000 + id++)}).ok()) ++probe_errors;
        absl::Time t1 = absl::Now();
        if (!client.Sample("probe", 1).ok()) ++probe_errors;
        absl::Time t2 = absl::Now();
        ins.push_back(absl::ToDoubleMilliseconds(t1 - t0));
        smp.push_back(absl::ToDoubleMilliseconds(t2 - t1));
        absl::SleepFor(absl::Milliseconds(5));
      }
      absl::MutexLock lock(&mu);
      insert_ms.insert(insert_ms.end(), ins.begin(), ins.end());
      sample_ms.insert(sample_ms.end(), smp.begin(), smp.end());
    });
  }
  // Peak RSS, sampled (VmHWM at the end says the same; this also gives the
  // last value, to see whether memory still grows).
  double replay_rss_start = NAN, replay_rss_mid = NAN;
  int max_leased = 0;
  JobStatus status;
  while (absl::Now() < end) {
    absl::SleepFor(absl::Seconds(1));
    if (std::isnan(replay_rss_start) && absl::Now() - start > absl::Seconds(5)) {
      replay_rss_start = RssMb(replay->process.pid(), "VmRSS:");
    }
    if (std::isnan(replay_rss_mid) && absl::Now() - start > absl::Seconds(seconds) / 2) {
      replay_rss_mid = RssMb(replay->process.pid(), "VmRSS:");
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    GetJobRequest request;
    request.set_name("load");
    if (jobs->Get(&ctx, request, &status).ok()) max_leased = std::max(max_leased, status.actors());
  }
  const double wall = absl::ToDoubleSeconds(absl::Now() - start);
  for (auto& t : probe_threads) t.join();
  const double replay_hwm = RssMb(replay->process.pid(), "VmHWM:");
  const double replay_rss_end = RssMb(replay->process.pid(), "VmRSS:");
  const double learner_hwm = RssMb(learner->process.pid(), "VmHWM:");
  int64_t items = 0, env_steps = 0;
  for (auto& a : actors) {
    items += a->stats().items_acknowledged;
    env_steps += a->stats().env_steps;
  }
  auto metrics = HttpGet("127.0.0.1", replay->metrics_port, "/metrics");
  std::map<double, double> server_insert, server_sample;
  if (metrics.ok()) {
    server_insert = Buckets(*metrics, "rl_replay_insert_latency_seconds", status.spec().table());
    server_sample = Buckets(*metrics, "rl_replay_sample_latency_seconds", status.spec().table());
    if (server_insert.empty()) {
      (void)WriteStringAtomically(dir + "/replay_metrics.txt", *metrics);
      std::fprintf(stderr, "load_bench: no histogram for table '%s'; metrics in %s\n",
                   status.spec().table().c_str(), (dir + "/replay_metrics.txt").c_str());
    }
  } else {
    std::fprintf(stderr, "load_bench: replay /metrics: %s\n", metrics.status().ToString().c_str());
  }
  {
    // Stop every actor at once (each may wait its stop_grace).
    std::vector<std::thread> stoppers;
    for (auto& a : actors) stoppers.emplace_back([loop = a.get()] { loop->Stop(); });
    for (auto& t : stoppers) t.join();
  }
  for (auto& t : threads) t.join();
  {
    grpc::ClientContext ctx;
    CancelJobRequest request;
    request.set_name("load");
    JobStatus cancelled;
    (void)jobs->Cancel(&ctx, request, &cancelled);
  }
  learner->process.Signal(SIGTERM);
  replay->process.Signal(SIGTERM);
  const bool learner_clean = learner->process.Wait(absl::Seconds(30)) == 0;
  const bool replay_clean = replay->process.Wait(absl::Seconds(30)) == 0;

  const int errors = actor_errors.load() + probe_errors.load() + (learner_clean ? 0 : 1) +
                     (replay_clean ? 0 : 1) + (status.state() == JOB_RUNNING ? 0 : 1);
  std::printf("\n%-44s %s\n", "figure", "value");
  auto row = [](const std::string& name, const std::string& value) {
    std::printf("%-44s %s\n", name.c_str(), value.c_str());
  };
  row("actor clients (leases held, max seen)", absl::StrCat(clients, " (", max_leased, ")"));
  row("duration", absl::StrFormat("%.1f s", wall));
  row("env steps by the actors", absl::StrFormat("%lld (%.0f /s)", static_cast<long long>(env_steps),
                                                  env_steps / wall));
  row("items acknowledged to the actors", absl::StrFormat("%lld (%.0f /s)",
                                                          static_cast<long long>(items), items / wall));
  row("env steps learned (job status)",
      absl::StrFormat("%lld (%.0f /s)", static_cast<long long>(status.env_steps()),
                      status.env_steps() / wall));
  row("probe insert latency p50 / p99",
      absl::StrFormat("%.2f / %.2f ms (%zu calls)", Quantile(insert_ms, 0.5),
                      Quantile(insert_ms, 0.99), insert_ms.size()));
  row("probe sample latency p50 / p99",
      absl::StrFormat("%.2f / %.2f ms (%zu calls)", Quantile(sample_ms, 0.5),
                      Quantile(sample_ms, 0.99), sample_ms.size()));
  // The job's table is a queue of table_max_size items: an insert waits
  // there until the learner has taken enough (backpressure, by design).
  row("server insert time p50 / p99 (job queue)",
      absl::StrFormat("%.3f / %.3f ms", 1e3 * HistogramQuantile(server_insert, 0.5),
                      1e3 * HistogramQuantile(server_insert, 0.99)));
  row("server sample time p50 / p99 (job queue)",
      absl::StrFormat("%.3f / %.3f ms", 1e3 * HistogramQuantile(server_sample, 0.5),
                      1e3 * HistogramQuantile(server_sample, 0.99)));
  row("replay_server peak RSS (RSS at 5 s, half-time, end)",
      absl::StrFormat("%.1f MB (%.1f, %.1f, %.1f)", replay_hwm, replay_rss_start, replay_rss_mid,
                      replay_rss_end));
  row("learner peak RSS", absl::StrFormat("%.1f MB", learner_hwm));
  row("errors", absl::StrCat(errors, " (actors ", actor_errors.load(), ", probes ",
                             probe_errors.load(), ", job ", JobState_Name(status.state()),
                             status.message().empty() ? "" : ": " + status.message(), ")"));
  bool ok = errors == 0;
  if (max_leased < clients) {
    std::printf("load_bench: only %d of %d actors held a lease\n", max_leased, clients);
    ok = false;
  }
  const double max_rss = absl::GetFlag(FLAGS_max_rss_mb);
  if (!(replay_hwm <= max_rss) || !(learner_hwm <= max_rss)) {
    std::printf("load_bench: a server's peak RSS exceeds --max_rss_mb=%.0f\n", max_rss);
    ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "load_bench [--clients=64] [--seconds=30] [--probes=4] [--max_rss_mb=1024]: many actors "
      "against one replay server and learner; latency, RSS, errors.");
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  return rlx::Run();
}
