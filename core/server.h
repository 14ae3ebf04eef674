// Helpers every server process uses: health service + reflection on every
// gRPC server, and SIGTERM/SIGINT turned into a clean drain.
//
// Usage in main():
//   rlx::BlockShutdownSignals();        // first thing, before any thread starts
//   ... build the services ...
//   ASSIGN_OR_RETURN(auto server, rlx::StartGrpcServer(addr, {&svc}, &port));
//   rlx::WaitForShutdownSignal();       // returns on SIGTERM/SIGINT
//   ... checkpoint, server->Shutdown(deadline) ..., exit 0
#ifndef RLX_CORE_SERVER_H_
#define RLX_CORE_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/security.h"

namespace rlx {

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts
// later, and starts one thread that waits for them. Call once, first in main.
void BlockShutdownSignals();

// Blocks until SIGTERM/SIGINT arrives or RequestShutdown() is called. Returns
// the signal number (0 for RequestShutdown).
int WaitForShutdownSignal();
// Wakes WaitForShutdownSignal (used by tests and by in-process topologies).
void RequestShutdown();
bool ShutdownRequested();

struct GrpcServerOptions {
  int max_message_bytes = 64 << 20;
  // Credentials, and whether a non-loopback address is allowed
  // (CheckBindAllowed). Default: plaintext, loopback addresses only.
  ServerSecurity security;
};

// Builds and starts a server on address ("host:port", port 0 = pick a free
// one; the bound port is stored in *bound_port) with the gRPC health service
// (every service reported SERVING) and server reflection. FAILED_PRECONDITION
// for a non-loopback address without TLS and tokens (CheckBindAllowed).
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& address, const std::vector<grpc::Service*>& services,
    int* bound_port, const GrpcServerOptions& options = {});

// Marks the health service NOT_SERVING and shuts the server down, cancelling
// calls still running after the deadline.
void StopGrpcServer(grpc::Server* server, absl::Duration deadline);

}  // namespace rlx

#endif  // RLX_CORE_SERVER_H_
