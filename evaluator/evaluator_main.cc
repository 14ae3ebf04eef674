// evaluator: follows the learner's running job, evaluates its newest policy
// greedily every eval.every_learner_steps learner steps, reports the returns,
// writes <out_dir>/<job>/eval_curve.csv and best_policy.ckpt.
//
//   evaluator --learner=127.0.0.1:50050 --out_dir=out --metrics_port=-1
//
// Serves only the gRPC health service (on --host:--port) and /metrics.
// --port_file receives "<grpc_port>\n<metrics_port>\n" once running.
// SIGTERM or SIGINT: stop the evaluation in progress, exit 0.
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "core/file_util.h"
#include "core/metrics.h"
#include "core/security_flags.h"
#include "core/server.h"
#include "core/status_macros.h"
#include "evaluator/evaluator.h"
#include "core/process_setup.h"

ABSL_FLAG(std::string, learner, "127.0.0.1:50052", "Learner address (JobService, ParameterService).");
ABSL_FLAG(std::string, out_dir, "./out", "Directory for <job>/eval_curve.csv and best_policy.ckpt.");
ABSL_FLAG(std::string, name, "evaluator", "Name given to the learner when leasing.");
ABSL_FLAG(std::string, host, "127.0.0.1", "Address to bind the health service (0.0.0.0 in a cluster).");
ABSL_FLAG(int, port, 50053, "Health-service gRPC port (0 = pick a free port).");
ABSL_FLAG(std::string, metrics_host, "127.0.0.1", "Address to bind /metrics.");
ABSL_FLAG(int, metrics_port, 0, "Prometheus /metrics port (0 = off, -1 = pick a free port).");
ABSL_FLAG(std::string, port_file, "",
          "If set, write \"<grpc_port>\\n<metrics_port>\\n\" here once running.");

namespace rlx {
namespace {

absl::Status Run() {
  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<MetricsServer> metrics;
  if (const int mport = absl::GetFlag(FLAGS_metrics_port); mport != 0) {
    ASSIGN_OR_RETURN(metrics, MetricsServer::Start(absl::GetFlag(FLAGS_metrics_host),
                                                   mport < 0 ? 0 : mport, registry));
  }
  RETURN_IF_ERROR(InstallClientSecurityFromFlags());
  GrpcServerOptions server_options;
  // The evaluator serves only the health service (open to all, as on every server).
  ASSIGN_OR_RETURN(server_options.security, ServerSecurityFromFlags());
  int port = 0;
  ASSIGN_OR_RETURN(std::unique_ptr<grpc::Server> server,
                   StartGrpcServer(absl::StrCat(absl::GetFlag(FLAGS_host), ":",
                                                absl::GetFlag(FLAGS_port)),
                                   {}, &port, server_options));

  std::shared_ptr<grpc::Channel> channel = MakeChannel(absl::GetFlag(FLAGS_learner), -1);
  EvaluatorOptions options;
  options.name = absl::GetFlag(FLAGS_name);
  options.out_dir = absl::GetFlag(FLAGS_out_dir);
  ASSIGN_OR_RETURN(std::unique_ptr<Evaluator> evaluator,
                   Evaluator::Create(channel, options, registry.get()));

  std::fprintf(stderr, "evaluator: learner %s, out_dir %s, health port %d, metrics port %d\n",
               absl::GetFlag(FLAGS_learner).c_str(), options.out_dir.c_str(), port,
               metrics ? metrics->port() : 0);
  if (const std::string pf = absl::GetFlag(FLAGS_port_file); !pf.empty()) {
    RETURN_IF_ERROR(WriteStringAtomically(
        pf, absl::StrCat(port, "\n", metrics ? metrics->port() : 0, "\n")));
  }

  absl::Status run_status;
  std::thread worker([&] {
    run_status = evaluator->Run();
    RequestShutdown();  // Run only returns early on a fatal error
  });
  const int sig = WaitForShutdownSignal();
  if (sig != 0) std::fprintf(stderr, "evaluator: signal %d, stopping\n", sig);
  evaluator->Stop();
  worker.join();
  StopGrpcServer(server.get(), absl::Seconds(1));
  return run_status;
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  rlx::SetUpProcess();
  rlx::BlockShutdownSignals();
  absl::SetProgramUsageMessage(
      "Evaluates the learner's running job greedily and keeps its learning curve.\n"
      "  evaluator --learner=HOST:PORT --out_dir=DIR [--metrics_port=-1] [--port_file=F]");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = rlx::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "evaluator: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
