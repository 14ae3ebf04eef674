// actor: steps environments for the learner's running job and writes the
// transitions to the replay server (see actor/actor_loop.h for the loop).
//
//   actor --learner=127.0.0.1:50052 --replay=127.0.0.1:50051 --metrics_port=-1
//
// Stateless: start as many as the job wants (JobSpec.num_actors), kill and
// restart any of them. SIGTERM/SIGINT: send the pending transitions (up to
// 2 s), exit 0.
#include <sys/resource.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "actor/actor_loop.h"
#include "core/security_flags.h"
#include "core/file_util.h"
#include "core/metrics.h"
#include "core/process_identity.h"
#include "core/server.h"
#include "models/backends.h"
#include "core/process_setup.h"

ABSL_FLAG(std::string, learner, "127.0.0.1:50052",
          "Learner address (JobService + ParameterService), host:port.");
ABSL_FLAG(std::string, replay, "127.0.0.1:50051", "Replay server address, host:port.");
ABSL_FLAG(std::string, name, "",
          "Actor name sent with LeaseAssignment (default: <hostname>-<pid>-<random>, unique "
          "even for containers that share a hostname and pid).");
ABSL_FLAG(int, metrics_port, 0, "Prometheus /metrics port (0 = off, -1 = pick a free port).");
ABSL_FLAG(std::string, metrics_host, "127.0.0.1",
          "Address the /metrics endpoint binds (0.0.0.0 in a cluster).");
ABSL_FLAG(std::string, port_file, "",
          "If set, write '0\\n<metrics port>\\n' here once running (for scripts; the actor "
          "serves no gRPC port).");
ABSL_FLAG(int, max_batch_items, 64, "Most transitions per InsertRequest.");
ABSL_FLAG(int, nice, 0,
          "Raise this process's nice value by this much (0-19) at start: actors sharing cores "
          "with the learner then yield to it (rlctl up uses 5).");
ABSL_FLAG(int, max_batch_delay_ms, 5,
          "Longest a transition waits in a batch before it is sent (ms).");

namespace rlx {
namespace {

int Main() {
  SetBackendThreads(1);  // tiny per-step inference: threads only add overhead
  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<MetricsServer> metrics;
  if (const int mport = absl::GetFlag(FLAGS_metrics_port); mport != 0) {
    absl::StatusOr<std::unique_ptr<MetricsServer>> started =
        MetricsServer::Start(absl::GetFlag(FLAGS_metrics_host), mport < 0 ? 0 : mport, registry);
    if (!started.ok()) {
      std::fprintf(stderr, "actor: --metrics_port: %s\n", started.status().ToString().c_str());
      return 1;
    }
    metrics = std::move(*started);
  }

  if (absl::Status s = InstallClientSecurityFromFlags(); !s.ok()) {
    std::fprintf(stderr, "actor: %s\n", s.ToString().c_str());
    return 1;
  }
  ActorOptions options;
  options.learner_address = absl::GetFlag(FLAGS_learner);
  options.replay_address = absl::GetFlag(FLAGS_replay);
  options.name = absl::GetFlag(FLAGS_name).empty() ? UniqueProcessName("actor") : absl::GetFlag(FLAGS_name);
  options.max_batch_items = absl::GetFlag(FLAGS_max_batch_items);
  options.max_batch_delay = absl::Milliseconds(absl::GetFlag(FLAGS_max_batch_delay_ms));
  absl::StatusOr<std::unique_ptr<ActorLoop>> loop = ActorLoop::Create(options, registry.get());
  if (!loop.ok()) {
    std::fprintf(stderr, "actor: %s\n", loop.status().ToString().c_str());
    return 1;
  }

  absl::Status run_status;
  std::thread runner([&] {
    run_status = (*loop)->Run();
    RequestShutdown();  // Run returns only after Stop or on a fatal error
  });
  const int mport = metrics ? metrics->port() : 0;
  std::fprintf(stderr, "actor %s: learner %s, replay %s, metrics port %d\n", options.name.c_str(),
               options.learner_address.c_str(), options.replay_address.c_str(), mport);
  int exit_code = 0;
  if (const std::string pf = absl::GetFlag(FLAGS_port_file); !pf.empty()) {
    if (absl::Status s = WriteStringAtomically(pf, absl::StrCat("0\n", mport, "\n")); !s.ok()) {
      std::fprintf(stderr, "actor: --port_file: %s\n", s.ToString().c_str());
      exit_code = 1;
      RequestShutdown();
    }
  }
  const int sig = WaitForShutdownSignal();
  if (sig != 0) std::fprintf(stderr, "actor %s: signal %d, stopping\n", options.name.c_str(), sig);
  (*loop)->Stop();
  runner.join();
  if (!run_status.ok()) {
    std::fprintf(stderr, "actor: %s\n", run_status.ToString().c_str());
    exit_code = 1;
  }
  return exit_code;
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  rlx::SetUpProcess();
  rlx::BlockShutdownSignals();
  absl::SetProgramUsageMessage(
      "Steps environments for the learner's running job and writes transitions to the "
      "replay server.\n"
      "  actor --learner=127.0.0.1:50052 --replay=127.0.0.1:50051 --metrics_port=-1");
  absl::ParseCommandLine(argc, argv);
  if (const int nice = absl::GetFlag(FLAGS_nice); nice != 0) {
    // Before any thread of ours starts: threads inherit the main thread's value.
    if (nice < 0 || nice > 19) {
      std::fprintf(stderr, "actor: --nice must be in 0..19, got %d\n", nice);
      return 1;
    }
    if (setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + nice) != 0) {
      std::perror("actor: setpriority");
    }
  }
  return rlx::Main();
}
