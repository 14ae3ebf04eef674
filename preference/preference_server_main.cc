// preference_server: answers SPO's preference queries (proto/preference.proto
// PreferenceService) with the built-in preference functions a job names
// (markovian, noisy, intransitive, non_markovian; algorithms/preferences.h).
//
//   preference_server --port=50054 [--metrics_port=-1] [--seed=1] [--port_file=F]
//
// Also serves the gRPC health service and reflection. --port_file receives
// "<grpc_port>\n<metrics_port>\n" once serving. SIGTERM/SIGINT: exit 0.
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
#include "preference/preference_service.h"
#include "core/process_setup.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Address to bind (0.0.0.0 in a cluster).");
ABSL_FLAG(int, port, 50054, "gRPC port (0 = pick a free port; see --port_file).");
ABSL_FLAG(std::string, port_file, "",
          "If set, write '<grpc port>\\n<metrics port>\\n' here once serving.");
ABSL_FLAG(int, metrics_port, 0, "Prometheus /metrics port (0 = off, -1 = pick a free port).");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the votes (function.sample).");
ABSL_FLAG(int, max_pairs, 1 << 20, "Most pairs per request.");

namespace rlx {
namespace {

absl::Status Run() {
  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<MetricsServer> metrics_server;
  if (int mport = absl::GetFlag(FLAGS_metrics_port); mport != 0) {
    ASSIGN_OR_RETURN(metrics_server, MetricsServer::Start(absl::GetFlag(FLAGS_host),
                                                          mport < 0 ? 0 : mport, registry));
  }
  PreferenceServiceOptions options;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.max_pairs = absl::GetFlag(FLAGS_max_pairs);
  ASSIGN_OR_RETURN(ServerSecurity security, ServerSecurityFromFlags());
  options.authorizer = security.authorizer;
  PreferenceServiceImpl service(options, registry.get());
  int port = 0;
  GrpcServerOptions server_options;
  server_options.security = security;
  ASSIGN_OR_RETURN(std::unique_ptr<grpc::Server> server,
                   StartGrpcServer(absl::StrCat(absl::GetFlag(FLAGS_host), ":",
                                                absl::GetFlag(FLAGS_port)),
                                   {&service}, &port, server_options));
  const int mport = metrics_server ? metrics_server->port() : 0;
  std::fprintf(stderr, "preference_server: serving on %s:%d (metrics port %d)\n",
               absl::GetFlag(FLAGS_host).c_str(), port, mport);
  if (const std::string pf = absl::GetFlag(FLAGS_port_file); !pf.empty()) {
    RETURN_IF_ERROR(WriteStringAtomically(pf, absl::StrCat(port, "\n", mport, "\n")));
  }
  const int sig = WaitForShutdownSignal();
  std::fprintf(stderr, "preference_server: signal %d, stopping\n", sig);
  StopGrpcServer(server.get(), absl::Seconds(2));
  return absl::OkStatus();
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  rlx::SetUpProcess();
  rlx::BlockShutdownSignals();
  absl::SetProgramUsageMessage(
      "Answers preference queries between trajectories (SPO).\n"
      "  preference_server --port=50054 [--metrics_port=-1] [--port_file=F]");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = rlx::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "preference_server: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
