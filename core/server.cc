#include "core/server.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace rlx {
namespace {

absl::Mutex g_shutdown_mu;
bool g_shutdown ABSL_GUARDED_BY(g_shutdown_mu) = false;
int g_signal ABSL_GUARDED_BY(g_shutdown_mu) = 0;

void SignalWaiterLoop(sigset_t set) {
  int sig = 0;
  while (sigwait(&set, &sig) == 0) {
    absl::MutexLock lock(&g_shutdown_mu);
    g_shutdown = true;
    g_signal = sig;
  }
}

}  // namespace

void BlockShutdownSignals() {
  static std::atomic<bool> started{false};
  if (started.exchange(true)) return;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // SIGPIPE from a closed socket must not kill a server.
  signal(SIGPIPE, SIG_IGN);
  std::thread(SignalWaiterLoop, set).detach();
}

int WaitForShutdownSignal() {
  absl::MutexLock lock(&g_shutdown_mu);
  g_shutdown_mu.Await(absl::Condition(&g_shutdown));
  return g_signal;
}

void RequestShutdown() {
  absl::MutexLock lock(&g_shutdown_mu);
  g_shutdown = true;
}

bool ShutdownRequested() {
  absl::MutexLock lock(&g_shutdown_mu);
  return g_shutdown;
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& address, const std::vector<grpc::Service*>& services,
    int* bound_port, const GrpcServerOptions& options) {
  if (absl::Status allowed = CheckBindAllowed(address, options.security); !allowed.ok()) {
    return allowed;
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address,
                           options.security.credentials != nullptr
                               ? options.security.credentials
                               : grpc::InsecureServerCredentials(),
                           &port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  for (grpc::Service* s : services) builder.RegisterService(s);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  if (auto* health = server->GetHealthCheckService()) {
    health->SetServingStatus(true);
  }
  if (bound_port != nullptr) *bound_port = port;
  return server;
}

void StopGrpcServer(grpc::Server* server, absl::Duration deadline) {
  if (server == nullptr) return;
  if (auto* health = server->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  server->Shutdown(absl::ToChronoTime(absl::Now() + deadline));
}

}  // namespace rlx
