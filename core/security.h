// Transport security and authorisation for every gRPC server and client.
//
// TLS: a server with --tls_cert/--tls_key serves TLS; with --tls_client_ca it
// also requires a client certificate signed by that CA (mutual TLS). A client
// with --tls_ca speaks TLS and checks the server's certificate against that
// CA; under mutual TLS it presents its own --tls_cert/--tls_key.
//
// Tokens: a server with --tokens_file checks a bearer token on every RPC
// against the role the method needs (operator, worker, reader; see
// RequiredRole). A client with --token_file sends its token as call
// credentials: over TLS, or over plaintext only to a loopback address.
//
// Binding: a server on a non-loopback address without TLS and tokens refuses
// to start unless --allow_insecure says so.
//
// docs/deploy.md, "Certificates and tokens", is the user-facing guide.
#ifndef RLX_CORE_SECURITY_H_
#define RLX_CORE_SECURITY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rlx {

// What a process was told on its command line (file paths; empty = off).
struct SecurityOptions {
  std::string tls_cert;       // PEM certificate chain of this process
  std::string tls_key;        // PEM private key of tls_cert
  std::string tls_ca;         // clients: CA that signed the servers' certificates
  std::string tls_client_ca;  // servers: require client certificates signed by it
  // Clients: the name to check in the server's certificate instead of the
  // host of the address (e.g. when connecting by an IP the certificate lacks).
  std::string tls_server_name;
  std::string tokens_file;  // servers: "TOKEN ROLE[,ROLE...]" lines
  std::string token_file;   // clients: the token this process sends
  bool allow_insecure = false;
};

// ---- Roles -----------------------------------------------------------------

enum class Role : uint32_t {
  kReader = 1u << 0,    // get, list, watch jobs; table info
  kWorker = 1u << 1,    // lease, insert, sample, parameters, report evaluations, compare
  kOperator = 1u << 2,  // submit, cancel; create/delete/reset/checkpoint tables
};
using RoleSet = uint32_t;
// "reader", "worker", "operator".
absl::string_view RoleName(Role role);
absl::StatusOr<Role> ParseRole(absl::string_view name);
// "operator,reader" (sorted by role), "none" for an empty set.
std::string RoleSetName(RoleSet roles);

// The role a fully named RPC ("/rlx.JobService/Submit") needs; NOT_FOUND for a
// method without one (every method of our services has one: a test checks the
// table against the protos). The operator role includes reader.
absl::StatusOr<Role> RequiredRole(absl::string_view method);
// Every method RequiredRole knows, with its role.
std::vector<std::pair<std::string, Role>> RolePolicy();

// ---- Server side -------------------------------------------------------------

// Checks the bearer token of each call against a tokens file. Immutable after
// Load; shared by the services of one server.
class Authorizer {
 public:
  // Lines "TOKEN ROLE[,ROLE...]"; '#' starts a comment; blank lines skipped.
  // Tokens must be at least 16 characters of [A-Za-z0-9._~+/=-].
  static absl::StatusOr<std::shared_ptr<const Authorizer>> Load(const std::string& path);
  static absl::StatusOr<std::shared_ptr<const Authorizer>> Parse(absl::string_view text,
                                                                 const std::string& origin);

  // OK when the call's "authorization: Bearer TOKEN" names a token with
  // the method's role; UNAUTHENTICATED without a known token;
  // PERMISSION_DENIED when the token lacks the role.
  grpc::Status Check(const grpc::ServerContextBase& context, absl::string_view method) const;
  // The same on a raw header value (tests, and the check itself).
  grpc::Status CheckHeader(absl::string_view authorization, absl::string_view method) const;
  size_t num_tokens() const { return tokens_.size(); }

 private:
  Authorizer() = default;
  std::vector<std::pair<std::string, RoleSet>> tokens_;
};

// Null authorizer = every call allowed (no --tokens_file).
inline grpc::Status Authorize(const Authorizer* auth, const grpc::ServerContextBase& context,
                              absl::string_view method) {
  return auth == nullptr ? grpc::Status::OK : auth->Check(context, method);
}

// Reactors for callback handlers that end a call at once with status (a
// refused token, a bad request): `return new FinishedWriteReactor<T>(status);`.
template <class Request, class Response>
class FinishedBidiReactor final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit FinishedBidiReactor(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};
template <class Response>
class FinishedWriteReactor final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit FinishedWriteReactor(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

// What a server needs: its credentials and its token checker (null = none).
struct ServerSecurity {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::shared_ptr<const Authorizer> authorizer;
  bool tls = false;
  bool mutual_tls = false;
  bool allow_insecure = false;
};
// Reads the certificate, key, client CA and tokens files. Plain (insecure)
// credentials and no authorizer when none is given.
absl::StatusOr<ServerSecurity> MakeServerSecurity(const SecurityOptions& options);

// "127.0.0.1:50051", "localhost:1", "[::1]:2" -> true; "0.0.0.0:1", "[::]:1",
// "10.0.0.5:1", "replay:50051" -> false.
bool IsLoopbackAddress(absl::string_view address);
// OK, or FAILED_PRECONDITION naming the flags for a server that would listen on
// a non-loopback address without TLS and tokens (and without allow_insecure).
absl::Status CheckBindAllowed(absl::string_view address, const ServerSecurity& security);

// ---- Client side -------------------------------------------------------------

// What a client needs to open channels.
class ClientSecurity {
 public:
  // Reads the CA, client certificate/key and token files.
  static absl::StatusOr<std::shared_ptr<const ClientSecurity>> Create(
      const SecurityOptions& options);
  // Plaintext, no token.
  static std::shared_ptr<const ClientSecurity> Insecure();

  // Credentials for a channel to address (TLS when a CA is set; the token as
  // call credentials over TLS, or over plaintext to a loopback address).
  std::shared_ptr<grpc::ChannelCredentials> Credentials(absl::string_view address) const;
  // Adds the TLS target-name override to args when one is set.
  void ApplyTo(grpc::ChannelArguments* args) const;
  bool tls() const { return tls_; }
  bool has_token() const { return !token_.empty(); }

 private:
  ClientSecurity() = default;
  bool tls_ = false;
  std::string ca_pem_, cert_pem_, key_pem_, server_name_, token_;
};

// The process's client identity, used by MakeChannel (set once in main, from
// the flags; Insecure() until then).
void SetProcessClientSecurity(std::shared_ptr<const ClientSecurity> security);
std::shared_ptr<const ClientSecurity> ProcessClientSecurity();

// A channel to address with the process's client security, message limits of
// max_message_bytes both ways, keepalive and quick reconnects.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           int max_message_bytes = 64 << 20);
// The same with explicit security (tests, tools).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ClientSecurity& security,
                                           int max_message_bytes = 64 << 20);

}  // namespace rlx

#endif  // RLX_CORE_SECURITY_H_
