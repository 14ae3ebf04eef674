#include "core/security.h"

#include <algorithm>
#include <map>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "core/file_util.h"

namespace rlx {
namespace {

constexpr size_t kMinTokenLength = 16;
constexpr absl::string_view kBearer = "Bearer ";

bool TokenCharOk(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("._~+/=-").find(c) != absl::string_view::npos;
}

// Compares without an early exit on the first differing byte.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? a[i] : 0;
    const unsigned char y = i < b.size() ? b[i] : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  absl::StatusOr<std::string> pem = ReadFileToString(path);
  if (!pem.ok()) {
    return absl::Status(pem.status().code(),
                        absl::StrCat("cannot read ", what, " ", path, ": ", pem.status().message()));
  }
  if (!absl::StrContains(*pem, "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " is not a PEM file (no -----BEGIN line)"));
  }
  return pem;
}

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("cannot read the token file ", path,
                                                           ": ", text.status().message()));
  }
  const std::string token(absl::StripAsciiWhitespace(*text));
  if (token.size() < kMinTokenLength || !std::all_of(token.begin(), token.end(), TokenCharOk)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the token file ", path, " must hold one token of at least ", kMinTokenLength,
        " characters of [A-Za-z0-9._~+/=-]"));
  }
  return token;
}

// The host part of "host:port", "[v6]:port" or a bare host.
absl::string_view HostOf(absl::string_view address) {
  absl::ConsumePrefix(&address, "dns:///");
  absl::ConsumePrefix(&address, "ipv4:");
  absl::ConsumePrefix(&address, "ipv6:");
  if (absl::StartsWith(address, "[")) {
    const size_t end = address.find(']');
    return end == absl::string_view::npos ? address.substr(1) : address.substr(1, end - 1);
  }
  const size_t colon = address.rfind(':');
  if (colon != absl::string_view::npos && address.find(':') == colon) {
    return address.substr(0, colon);
  }
  return address;
}

class TokenPlugin final : public grpc::MetadataCredentialsPlugin {
 public:
  explicit TokenPlugin(std::string token) : header_(absl::StrCat(kBearer, token)) {}
  bool IsBlocking() const override { return false; }
  const char* GetType() const override { return "rlx-token"; }
  grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
                           std::multimap<std::string, std::string>* metadata) override {
    metadata->insert({"authorization", header_});
    return grpc::Status::OK;
  }

 private:
  const std::string header_;
};

}  // namespace

// ---- Roles -------------------------------------------------------------------

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kWorker:
      return "worker";
    case Role::kOperator:
      return "operator";
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (Role r : {Role::kReader, Role::kWorker, Role::kOperator}) {
    if (name == RoleName(r)) return r;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role \"", name, "\" (roles: operator, worker, reader)"));
}

std::string RoleSetName(RoleSet roles) {
  std::vector<absl::string_view> names;
  for (Role r : {Role::kOperator, Role::kReader, Role::kWorker}) {
    if (roles & static_cast<RoleSet>(r)) names.push_back(RoleName(r));
  }
  return names.empty() ? "none" : absl::StrJoin(names, ",");
}

std::vector<std::pair<std::string, Role>> RolePolicy() {
  return {
      {"/rlx.JobService/Submit", Role::kOperator},
      {"/rlx.JobService/Cancel", Role::kOperator},
      {"/rlx.JobService/Get", Role::kReader},
      {"/rlx.JobService/List", Role::kReader},
      {"/rlx.JobService/Watch", Role::kReader},
      {"/rlx.JobService/LeaseAssignment", Role::kWorker},
      {"/rlx.JobService/ReportEvaluation", Role::kWorker},
      {"/rlx.ParameterService/WatchParameters", Role::kWorker},
      {"/rlx.ReplayService/Insert", Role::kWorker},
      {"/rlx.ReplayService/Sample", Role::kWorker},
      {"/rlx.ReplayService/UpdatePriorities", Role::kWorker},
      {"/rlx.ReplayService/Info", Role::kReader},
      {"/rlx.ReplayService/CreateTable", Role::kOperator},
      {"/rlx.ReplayService/DeleteTable", Role::kOperator},
      {"/rlx.ReplayService/Checkpoint", Role::kOperator},
      {"/rlx.ReplayService/Reset", Role::kOperator},
      {"/rlx.PreferenceService/Compare", Role::kWorker},
  };
}

absl::StatusOr<Role> RequiredRole(absl::string_view method) {
  static const auto* const kPolicy = [] {
    auto* m = new std::map<std::string, Role, std::less<>>();
    for (auto& [name, role] : RolePolicy()) m->emplace(name, role);
    return m;
  }();
  auto it = kPolicy->find(method);
  if (it == kPolicy->end()) {
    return absl::NotFoundError(absl::StrCat("no role is defined for ", method));
  }
  return it->second;
}

// ---- Authorizer --------------------------------------------------------------

absl::StatusOr<std::shared_ptr<const Authorizer>> Authorizer::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("cannot read the tokens file ", path,
                                                           ": ", text.status().message()));
  }
  return Parse(*text, path);
}

absl::StatusOr<std::shared_ptr<const Authorizer>> Authorizer::Parse(absl::string_view text,
                                                                    const std::string& origin) {
  std::shared_ptr<Authorizer> auth(new Authorizer());
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    const size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(origin, ":", line_no, ": ", why,
                                                     " (expected \"TOKEN ROLE[,ROLE...]\")"));
    };
    if (fields.size() != 2) return bad("two fields needed");
    const absl::string_view token = fields[0];
    if (token.size() < kMinTokenLength) {
      return bad(absl::StrCat("token shorter than ", kMinTokenLength, " characters"));
    }
    if (!std::all_of(token.begin(), token.end(), TokenCharOk)) {
      return bad("token has characters outside [A-Za-z0-9._~+/=-]");
    }
    RoleSet roles = 0;
    for (absl::string_view name : absl::StrSplit(fields[1], ',', absl::SkipEmpty())) {
      absl::StatusOr<Role> role = ParseRole(name);
      if (!role.ok()) return bad(role.status().message());
      roles |= static_cast<RoleSet>(*role);
    }
    if (roles == 0) return bad("no role");
    for (const auto& [known, unused] : auth->tokens_) {
      if (known == token) return bad("token listed twice");
    }
    auth->tokens_.emplace_back(std::string(token), roles);
  }
  if (auth->tokens_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, " lists no tokens: every call would be refused"));
  }
  return std::shared_ptr<const Authorizer>(std::move(auth));
}

grpc::Status Authorizer::CheckHeader(absl::string_view authorization,
                                     absl::string_view method) const {
  absl::StatusOr<Role> needed = RequiredRole(method);
  if (!needed.ok()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, std::string(needed.status().message()));
  }
  if (authorization.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        absl::StrCat(method, " needs a token (role ", RoleName(*needed),
                                     "): give the client --token_file (tokens are sent only "
                                     "over TLS or to a loopback address)"));
  }
  if (!absl::ConsumePrefix(&authorization, kBearer)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the authorization header is not \"Bearer TOKEN\"");
  }
  // Look at every token, so the time taken does not tell which one matched.
  RoleSet roles = 0;
  bool found = false;
  for (const auto& [token, token_roles] : tokens_) {
    if (ConstantTimeEquals(token, authorization)) {
      found = true;
      roles = token_roles;
    }
  }
  if (!found) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the token is not valid on this server");
  }
  RoleSet granted = roles;
  if (granted & static_cast<RoleSet>(Role::kOperator)) granted |= static_cast<RoleSet>(Role::kReader);
  if ((granted & static_cast<RoleSet>(*needed)) == 0) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat(method, " needs the ", RoleName(*needed),
                                     " role; this token has ", RoleSetName(roles)));
  }
  return grpc::Status::OK;
}

grpc::Status Authorizer::Check(const grpc::ServerContextBase& context,
                               absl::string_view method) const {
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return CheckHeader("", method);
  return CheckHeader(absl::string_view(it->second.data(), it->second.size()), method);
}

// ---- Server ------------------------------------------------------------------

absl::StatusOr<ServerSecurity> MakeServerSecurity(const SecurityOptions& options) {
  ServerSecurity out;
  out.allow_insecure = options.allow_insecure;
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  if (!options.tls_client_ca.empty() && options.tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca (mutual TLS) needs the server's own --tls_cert and --tls_key");
  }
  if (!options.tls_cert.empty()) {
    absl::StatusOr<std::string> cert = ReadPem(options.tls_cert, "the certificate");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(options.tls_key, "the private key");
    if (!key.ok()) return key.status();
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!options.tls_client_ca.empty()) {
      absl::StatusOr<std::string> ca = ReadPem(options.tls_client_ca, "the client CA");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
      out.mutual_tls = true;
    }
    out.credentials = grpc::SslServerCredentials(ssl);
    out.tls = true;
  } else {
    out.credentials = grpc::InsecureServerCredentials();
  }
  if (!options.tokens_file.empty()) {
    absl::StatusOr<std::shared_ptr<const Authorizer>> auth = Authorizer::Load(options.tokens_file);
    if (!auth.ok()) return auth.status();
    out.authorizer = *std::move(auth);
  }
  return out;
}

bool IsLoopbackAddress(absl::string_view address) {
  const absl::string_view host = HostOf(address);
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8, written as a dotted quad.
  const std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  if (parts.size() != 4 || parts[0] != "127") return false;
  for (absl::string_view p : parts) {
    if (p.empty() || p.size() > 3 || !std::all_of(p.begin(), p.end(), [](char c) {
          return absl::ascii_isdigit(static_cast<unsigned char>(c));
        })) {
      return false;
    }
  }
  return true;
}

absl::Status CheckBindAllowed(absl::string_view address, const ServerSecurity& security) {
  if (IsLoopbackAddress(address) || security.allow_insecure) return absl::OkStatus();
  if (security.tls && security.authorizer != nullptr) return absl::OkStatus();
  std::vector<absl::string_view> missing;
  if (!security.tls) missing.push_back("TLS (--tls_cert, --tls_key)");
  if (security.authorizer == nullptr) missing.push_back("tokens (--tokens_file)");
  return absl::FailedPreconditionError(absl::StrCat(
      "refusing to listen on ", address, ", which is not a loopback address, without ",
      absl::StrJoin(missing, " and "),
      ": anyone who reaches the port could submit and cancel jobs or write experience. Give "
      "them, or pass --allow_insecure on a network you trust (see docs/deploy.md)"));
}

// ---- Client ------------------------------------------------------------------

absl::StatusOr<std::shared_ptr<const ClientSecurity>> ClientSecurity::Create(
    const SecurityOptions& options) {
  std::shared_ptr<ClientSecurity> out(new ClientSecurity());
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  if (!options.tls_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(options.tls_ca, "the CA");
    if (!ca.ok()) return ca.status();
    out->ca_pem_ = *std::move(ca);
    out->tls_ = true;
    if (!options.tls_cert.empty()) {
      absl::StatusOr<std::string> cert = ReadPem(options.tls_cert, "the certificate");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPem(options.tls_key, "the private key");
      if (!key.ok()) return key.status();
      out->cert_pem_ = *std::move(cert);
      out->key_pem_ = *std::move(key);
    }
    out->server_name_ = options.tls_server_name;
  } else if (!options.tls_server_name.empty()) {
    return absl::InvalidArgumentError("--tls_server_name needs --tls_ca");
  }
  if (!options.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadToken(options.token_file);
    if (!token.ok()) return token.status();
    out->token_ = *std::move(token);
  }
  return std::shared_ptr<const ClientSecurity>(std::move(out));
}

std::shared_ptr<const ClientSecurity> ClientSecurity::Insecure() {
  static const auto* const kInsecure =
      new std::shared_ptr<const ClientSecurity>(new ClientSecurity());
  return *kInsecure;
}

std::shared_ptr<grpc::ChannelCredentials> ClientSecurity::Credentials(
    absl::string_view address) const {
  if (tls_) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_pem_;
    ssl.pem_private_key = key_pem_;
    ssl.pem_cert_chain = cert_pem_;
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::SslCredentials(ssl);
    if (token_.empty()) return creds;
    return grpc::CompositeChannelCredentials(
        creds, grpc::MetadataCredentialsFromPlugin(std::make_unique<TokenPlugin>(token_)));
  }
  if (!token_.empty() && IsLoopbackAddress(address)) {
    // Local credentials: still plaintext, but gRPC lets call credentials
    // through because the peer is on this machine.
    return grpc::CompositeChannelCredentials(
        grpc::experimental::LocalCredentials(LOCAL_TCP),
        grpc::experimental::MetadataCredentialsFromPlugin(std::make_unique<TokenPlugin>(token_),
                                                          GRPC_SECURITY_NONE));
  }
  return grpc::InsecureChannelCredentials();
}

void ClientSecurity::ApplyTo(grpc::ChannelArguments* args) const {
  if (tls_ && !server_name_.empty()) args->SetSslTargetNameOverride(server_name_);
}

namespace {
absl::Mutex g_client_mu;
std::shared_ptr<const ClientSecurity>* g_client ABSL_GUARDED_BY(g_client_mu) = nullptr;
}  // namespace

void SetProcessClientSecurity(std::shared_ptr<const ClientSecurity> security) {
  absl::MutexLock lock(&g_client_mu);
  if (g_client == nullptr) g_client = new std::shared_ptr<const ClientSecurity>();
  *g_client = std::move(security);
}

std::shared_ptr<const ClientSecurity> ProcessClientSecurity() {
  absl::MutexLock lock(&g_client_mu);
  if (g_client == nullptr || *g_client == nullptr) return ClientSecurity::Insecure();
  return *g_client;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, int max_message_bytes) {
  return MakeChannel(address, *ProcessClientSecurity(), max_message_bytes);
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ClientSecurity& security,
                                           int max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(max_message_bytes);
  args.SetMaxSendMessageSize(max_message_bytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  security.ApplyTo(&args);
  return grpc::CreateCustomChannel(address, security.Credentials(address), args);
}

}  // namespace rlx
