#include "core/security_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate of this process: served by its gRPC server, and shown to servers "
          "that require client certificates (with --tls_ca).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA that signed the servers' certificates: with it, this process connects to "
          "other servers over TLS and checks their certificates.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "Mutual TLS: this process's server requires client certificates signed by this PEM CA.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name to check in the servers' certificates instead of the address's host.");
ABSL_FLAG(std::string, tokens_file, "",
          "This process's server checks a token on every call: lines \"TOKEN ROLE[,ROLE]\" "
          "with roles operator, worker, reader.");
ABSL_FLAG(std::string, token_file, "",
          "File with the token this process sends to other servers (over TLS, or plaintext to "
          "loopback addresses only).");
ABSL_FLAG(std::string, write_grant_key_file, "",
          "Shared secret of the learner and the replay server (>= 32 characters): the learner "
          "signs each actor lease's table and streams with it, the replay server accepts "
          "inserts only within such a grant.");
ABSL_FLAG(bool, allow_insecure, false,
          "Let the gRPC server listen on a non-loopback address without TLS and tokens.");

namespace rlx {

SecurityOptions SecurityOptionsFromFlags() {
  SecurityOptions o;
  o.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key = absl::GetFlag(FLAGS_tls_key);
  o.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  o.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  o.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  o.tokens_file = absl::GetFlag(FLAGS_tokens_file);
  o.token_file = absl::GetFlag(FLAGS_token_file);
  o.allow_insecure = absl::GetFlag(FLAGS_allow_insecure);
  return o;
}

absl::Status InstallClientSecurityFromFlags() {
  absl::StatusOr<std::shared_ptr<const ClientSecurity>> client =
      ClientSecurity::Create(SecurityOptionsFromFlags());
  if (!client.ok()) return client.status();
  SetProcessClientSecurity(*std::move(client));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const GrantSigner>> GrantSignerFromFlags() {
  const std::string path = absl::GetFlag(FLAGS_write_grant_key_file);
  if (path.empty()) return std::shared_ptr<const GrantSigner>();
  return GrantSigner::Load(path);
}

absl::StatusOr<ServerSecurity> ServerSecurityFromFlags() {
  return MakeServerSecurity(SecurityOptionsFromFlags());
}

}  // namespace rlx
