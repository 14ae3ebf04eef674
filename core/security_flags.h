// The command-line flags for TLS and tokens that every server and client
// binary shares (rlctl reads the same names with its own parser).
#ifndef RLX_CORE_SECURITY_FLAGS_H_
#define RLX_CORE_SECURITY_FLAGS_H_

#include "absl/status/statusor.h"
#include "core/security.h"
#include "core/write_grant.h"

namespace rlx {

SecurityOptions SecurityOptionsFromFlags();

// Loads the client side of the flags and makes it the process's
// (ProcessClientSecurity); the error names the flag and file at fault.
absl::Status InstallClientSecurityFromFlags();

// The server side of the flags (credentials, tokens) for StartGrpcServer.
absl::StatusOr<ServerSecurity> ServerSecurityFromFlags();

// --write_grant_key_file's signer; null without the flag.
absl::StatusOr<std::shared_ptr<const GrantSigner>> GrantSignerFromFlags();

}  // namespace rlx

#endif  // RLX_CORE_SECURITY_FLAGS_H_
