// learner: runs submitted jobs' algorithms and serves JobService and
// ParameterService on one port.
//
//   learner --port=50052 --replay=127.0.0.1:50051 --checkpoint_dir=/var/lib/rlx/learner
//
// Jobs queue and run one at a time; the registry and each job's checkpoint
// live under --checkpoint_dir, so a restarted learner resumes the running job
// with its counters. SIGTERM/SIGINT: final checkpoint, exit 0.
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "core/security_flags.h"
#include "core/file_util.h"
#include "core/metrics.h"
#include "core/server.h"
#include "core/status_macros.h"
#include "learner/job_manager.h"
#include "models/backends.h"
#include "core/process_setup.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Address to bind (0.0.0.0 in a cluster).");
ABSL_FLAG(int, port, 50052, "gRPC port (0 = pick a free port; see --port_file).");
ABSL_FLAG(std::string, port_file, "",
          "If set, write '<grpc port>\\n<metrics port>\\n' here once serving.");
ABSL_FLAG(int, metrics_port, 0, "Prometheus /metrics port (0 = off, -1 = pick a free port).");
ABSL_FLAG(std::string, replay, "127.0.0.1:50051", "Replay server address (host:port).");
ABSL_FLAG(std::string, preference, "127.0.0.1:50054",
          "PreferenceService (host:port) for SPO jobs that name none.");
ABSL_FLAG(std::string, checkpoint_dir, "./checkpoints/learner",
          "Job registry and per-job checkpoints.");
ABSL_FLAG(std::string, device, "cpu",
          "cpu, or cuda: refuse to start without a CUDA device LibTorch can use (jobs choose "
          "their device with JobSpec.device; device: cuda jobs are taken whenever LibTorch "
          "has CUDA, with or without this flag).");

namespace rlx {
namespace {

absl::Status Run() {
  if (const std::string device = absl::GetFlag(FLAGS_device); device != "cpu") {
    if (device != "cuda") {
      return absl::InvalidArgumentError(
          absl::StrCat("--device=", device.substr(0, 32), ": must be cpu or cuda"));
    }
    if (!BackendCudaAvailable()) {
      return absl::FailedPreconditionError(
          "--device=cuda: LibTorch cannot use CUDA here (Debian's LibTorch is CPU-only: build "
          "with -DTorch_DIR pointing at a CUDA LibTorch; docs/operations.md, \"GPUs\")");
    }
  }
  SetBackendThreads(1);
  auto registry = std::make_shared<prometheus::Registry>();
  LearnerMetrics metrics(*registry);
  std::unique_ptr<MetricsServer> metrics_server;
  if (int mport = absl::GetFlag(FLAGS_metrics_port); mport != 0) {
    ASSIGN_OR_RETURN(metrics_server, MetricsServer::Start(absl::GetFlag(FLAGS_host),
                                                          mport < 0 ? 0 : mport, registry));
  }
  RETURN_IF_ERROR(InstallClientSecurityFromFlags());
  ASSIGN_OR_RETURN(ServerSecurity security, ServerSecurityFromFlags());
  JobManagerOptions options;
  options.replay_address = absl::GetFlag(FLAGS_replay);
  options.preference_address = absl::GetFlag(FLAGS_preference);
  options.checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  options.metrics = &metrics;
  options.cuda_available = BackendCudaAvailable;
  ASSIGN_OR_RETURN(options.grant_signer, GrantSignerFromFlags());
  ASSIGN_OR_RETURN(std::unique_ptr<JobManager> manager, JobManager::Create(options));
  JobServiceImpl jobs(manager.get(), security.authorizer);
  ParameterServiceImpl parameters(manager.get(), security.authorizer);
  int port = 0;
  GrpcServerOptions server_options;
  server_options.security = security;
  ASSIGN_OR_RETURN(std::unique_ptr<grpc::Server> server,
                   StartGrpcServer(absl::StrCat(absl::GetFlag(FLAGS_host), ":",
                                                absl::GetFlag(FLAGS_port)),
                                   {&jobs, &parameters}, &port, server_options));
  const int mport = metrics_server ? metrics_server->port() : 0;
  std::fprintf(stderr, "learner: serving on %s:%d (metrics port %d), replay %s\n",
               absl::GetFlag(FLAGS_host).c_str(), port, mport, options.replay_address.c_str());
  if (const std::string pf = absl::GetFlag(FLAGS_port_file); !pf.empty()) {
    RETURN_IF_ERROR(WriteStringAtomically(pf, absl::StrCat(port, "\n", mport, "\n")));
  }
  const int sig = WaitForShutdownSignal();
  std::fprintf(stderr, "learner: signal %d, checkpointing and stopping\n", sig);
  manager->Shutdown();  // the running job checkpoints; its parameter streams end
  StopGrpcServer(server.get(), absl::Seconds(3));
  return absl::OkStatus();
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  rlx::SetUpProcess();
  rlx::BlockShutdownSignals();
  absl::SetProgramUsageMessage(
      "Runs submitted jobs and serves JobService + ParameterService.\n"
      "  learner --port=50052 --replay=127.0.0.1:50051 --checkpoint_dir=DIR");
  absl::ParseCommandLine(argc, argv);
  absl::Status status = rlx::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "learner: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
