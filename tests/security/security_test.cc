// TLS, mutual TLS and tokens: the role table against the protos, the tokens
// file and the header check, the bind rule, and real replay_server, learner
// and rlctl processes on 127.0.0.1 with certificates from
// deploy/make-secrets.sh (and a second, foreign CA).
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <google/protobuf/descriptor.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/file_util.h"
#include "core/security.h"
#include "core/write_grant.h"
#include "job.grpc.pb.h"
#include "learner.grpc.pb.h"
#include "preference.grpc.pb.h"
#include "replay.grpc.pb.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

// ---- Units -------------------------------------------------------------------

TEST(RolePolicyTest, EveryMethodOfEveryServiceHasARoleAndNothingElseDoes) {
  std::set<std::string> methods;
  // Every service of every rlx proto file (health is gRPC's, open to all).
  for (const google::protobuf::FileDescriptor* file :
       {InsertRequest::descriptor()->file(), SubmitJobRequest::descriptor()->file(),
        WatchParametersRequest::descriptor()->file(), CompareRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* d = file->service(s);
      for (int i = 0; i < d->method_count(); ++i) {
        const std::string name = absl::StrCat("/", d->full_name(), "/", d->method(i)->name());
        methods.insert(name);
        EXPECT_TRUE(RequiredRole(name).ok()) << name << " has no role in core/security.cc";
      }
    }
  }
  EXPECT_EQ(methods.size(), 17u);
  for (const auto& [name, role] : RolePolicy()) {
    EXPECT_TRUE(methods.count(name)) << name << " is in the policy but not in proto/";
  }
  EXPECT_EQ(*RequiredRole("/rlx.JobService/Submit"), Role::kOperator);
  EXPECT_EQ(*RequiredRole("/rlx.JobService/Get"), Role::kReader);
  EXPECT_EQ(*RequiredRole("/rlx.ReplayService/Insert"), Role::kWorker);
  EXPECT_EQ(*RequiredRole("/rlx.ReplayService/Reset"), Role::kOperator);
  EXPECT_EQ(*RequiredRole("/rlx.JobService/ReportEvaluation"), Role::kWorker);
}

constexpr char kOperator[] = "operator-token-0123456789";
constexpr char kReader[] = "reader-token-0123456789";
constexpr char kWorker[] = "worker-token-0123456789";

std::shared_ptr<const Authorizer> TestAuthorizer() {
  auto auth = Authorizer::Parse(absl::StrCat("# comment\n\n", kOperator, " operator\n", kReader,
                                             "   reader  # trailing\n", kWorker, "\tworker\n"),
                                "tokens");
  EXPECT_TRUE(auth.ok()) << auth.status();
  return auth.ok() ? *auth : nullptr;
}

TEST(AuthorizerTest, ChecksTokensAgainstTheMethodsRole) {
  auto auth = TestAuthorizer();
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->num_tokens(), 3u);
  auto check = [&](absl::string_view token, absl::string_view method) {
    return auth->CheckHeader(token.empty() ? "" : absl::StrCat("Bearer ", token), method);
  };
  EXPECT_TRUE(check(kOperator, "/rlx.JobService/Submit").ok());
  EXPECT_TRUE(check(kOperator, "/rlx.JobService/Get").ok()) << "operator includes reader";
  EXPECT_TRUE(check(kReader, "/rlx.JobService/Watch").ok());
  EXPECT_TRUE(check(kWorker, "/rlx.ReplayService/Insert").ok());

  grpc::Status s = check(kReader, "/rlx.JobService/Cancel");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("needs the operator role; this token has reader"));
  EXPECT_EQ(check(kWorker, "/rlx.JobService/Submit").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(check(kOperator, "/rlx.ReplayService/Insert").error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "operator is not worker: forged experience needs a worker token";
  EXPECT_EQ(check(kReader, "/rlx.JobService/ReportEvaluation").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  s = check("", "/rlx.JobService/Get");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("--token_file"));
  EXPECT_EQ(check("not-a-known-token-at-all", "/rlx.JobService/Get").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(check(absl::StrCat(kReader, "x"), "/rlx.JobService/Get").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth->CheckHeader(absl::StrCat("Basic ", kReader), "/rlx.JobService/Get").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(check(kOperator, "/rlx.JobService/NoSuchMethod").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST(AuthorizerTest, RefusesBadTokensFilesByLine) {
  auto error = [](absl::string_view text) {
    auto a = Authorizer::Parse(text, "tokens");
    return a.ok() ? std::string("ok") : std::string(a.status().message());
  };
  EXPECT_THAT(error(""), HasSubstr("lists no tokens"));
  EXPECT_THAT(error("# only a comment\n"), HasSubstr("lists no tokens"));
  EXPECT_THAT(error("short operator\n"), HasSubstr("tokens:1: token shorter than 16"));
  EXPECT_THAT(error(absl::StrCat(kOperator, "\n")), HasSubstr("two fields"));
  EXPECT_THAT(error(absl::StrCat("\n", kOperator, " admin\n")),
              HasSubstr("tokens:2: unknown role \"admin\""));
  EXPECT_THAT(error(absl::StrCat(kOperator, " operator\n", kOperator, " reader\n")),
              HasSubstr("tokens:2: token listed twice"));
  EXPECT_THAT(error("bad\"token-0123456789 reader\n"), HasSubstr("characters outside"));
  auto multi = Authorizer::Parse(absl::StrCat(kOperator, " worker,operator\n"), "tokens");
  ASSERT_TRUE(multi.ok()) << multi.status();
  EXPECT_TRUE((*multi)->CheckHeader(absl::StrCat("Bearer ", kOperator), "/rlx.ReplayService/Sample")
                  .ok());
  EXPECT_TRUE((*multi)->CheckHeader(absl::StrCat("Bearer ", kOperator), "/rlx.ReplayService/Reset")
                  .ok());
}

TEST(BindRuleTest, NonLoopbackNeedsTlsAndTokensOrAnExplicitFlag) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:50051"));
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.2:1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:1"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:1"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:50051"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:50051"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.5:1"));
  EXPECT_FALSE(IsLoopbackAddress("replay:50051"));
  EXPECT_FALSE(IsLoopbackAddress("127.evil.example:1"));

  ServerSecurity plain;
  EXPECT_TRUE(CheckBindAllowed("127.0.0.1:0", plain).ok());
  absl::Status s = CheckBindAllowed("0.0.0.0:50051", plain);
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_THAT(s.message(), HasSubstr("--tls_cert"));
  EXPECT_THAT(s.message(), HasSubstr("--tokens_file"));
  EXPECT_THAT(s.message(), HasSubstr("--allow_insecure"));
  ServerSecurity tls_only;
  tls_only.tls = true;
  EXPECT_FALSE(CheckBindAllowed("0.0.0.0:1", tls_only).ok()) << "TLS without tokens";
  ServerSecurity both = tls_only;
  both.authorizer = TestAuthorizer();
  EXPECT_TRUE(CheckBindAllowed("0.0.0.0:1", both).ok());
  ServerSecurity told = plain;
  told.allow_insecure = true;
  EXPECT_TRUE(CheckBindAllowed("0.0.0.0:1", told).ok());
}

TEST(ClientSecurityTest, RefusesMissingAndMalformedFiles) {
  const std::string dir = MakeTempDir("client_security");
  SecurityOptions o;
  o.tls_ca = dir + "/missing.pem";
  EXPECT_THAT(std::string(ClientSecurity::Create(o).status().message()),
              HasSubstr("cannot read the CA"));
  ASSERT_TRUE(WriteStringAtomically(dir + "/ca.pem", "not a certificate").ok());
  o.tls_ca = dir + "/ca.pem";
  EXPECT_THAT(std::string(ClientSecurity::Create(o).status().message()),
              HasSubstr("is not a PEM file"));
  o = SecurityOptions();
  ASSERT_TRUE(WriteStringAtomically(dir + "/token", "short\n").ok());
  o.token_file = dir + "/token";
  EXPECT_THAT(std::string(ClientSecurity::Create(o).status().message()),
              HasSubstr("at least 16 characters"));
  o = SecurityOptions();
  o.tls_cert = dir + "/ca.pem";
  EXPECT_THAT(std::string(ClientSecurity::Create(o).status().message()),
              HasSubstr("--tls_cert and --tls_key go together"));
  SecurityOptions server;
  server.tls_client_ca = dir + "/ca.pem";
  EXPECT_THAT(std::string(MakeServerSecurity(server).status().message()),
              HasSubstr("needs the server's own --tls_cert"));
}

constexpr char kGrantKey[] = "0123456789abcdef0123456789abcdef-grant-key";

Item ItemOf(int64_t actor_id) {
  Item item;
  item.mutable_metadata()->set_actor_id(actor_id);
  NamedTensor* t = item.add_tensors();
  t->set_name("x");
  t->mutable_tensor()->set_dtype(DTYPE_FLOAT32);
  t->mutable_tensor()->add_shape(1);
  t->mutable_tensor()->set_data(std::string(4, '\0'));
  return item;
}

WriteGrant GrantFor(const std::string& table, std::vector<int64_t> streams) {
  WriteGrant grant;
  grant.set_table(table);
  for (int64_t id : streams) grant.add_actor_ids(id);
  grant.set_lease_id(7);
  grant.set_job("job");
  return grant;
}

TEST(WriteGrantTest, SignsVerifiesAndRefusesForgedOrAlteredGrants) {
  auto signer = GrantSigner::FromKey(kGrantKey);
  ASSERT_TRUE(signer.ok()) << signer.status();
  const std::string signed_grant = (*signer)->Sign(GrantFor("t", {3, 4}));
  auto back = (*signer)->Verify(signed_grant);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->table(), "t");
  EXPECT_THAT(back->actor_ids(), ::testing::ElementsAre(3, 4));
  EXPECT_EQ(back->lease_id(), 7);

  // Another key, an altered payload (another table, more streams), garbage.
  auto other = GrantSigner::FromKey(std::string(kGrantKey) + "-other");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(absl::IsPermissionDenied((*other)->Verify(signed_grant).status()));
  const std::string forged_payload = (*other)->Sign(GrantFor("t", {3, 4, 5}));
  const std::string mac = signed_grant.substr(signed_grant.rfind('.'));
  const std::string spliced = forged_payload.substr(0, forged_payload.rfind('.')) + mac;
  auto s = (*signer)->Verify(spliced).status();
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("signature does not match"));
  for (const std::string& bad : {std::string(""), std::string("v1.."), std::string("v2.a.b"),
                                signed_grant + ".x", std::string("v1.%%%.abc")}) {
    EXPECT_TRUE(absl::IsPermissionDenied((*signer)->Verify(bad).status())) << bad;
  }
  EXPECT_THAT(std::string(GrantSigner::FromKey("short").status().message()),
              HasSubstr("at least 32 characters"));
}

TEST(WriteGrantTest, EveryRowMustBeOfTheGrantsTableAndStreams) {
  const WriteGrant grant = GrantFor("t", {3, 4});
  InsertRequest request;
  request.set_table("t");
  *request.add_items() = ItemOf(3);
  *request.add_items() = ItemOf(4);
  EXPECT_TRUE(CheckInsertAgainstGrant(request, grant).ok());
  ItemBatch* batch = request.add_batches();
  batch->set_num_rows(2);
  batch->add_actor_ids(4);
  batch->add_actor_ids(3);
  EXPECT_TRUE(CheckInsertAgainstGrant(request, grant).ok());

  batch->set_actor_ids(1, 9);
  absl::Status s = CheckInsertAgainstGrant(request, grant);
  EXPECT_TRUE(absl::IsPermissionDenied(s));
  EXPECT_THAT(std::string(s.message()), HasSubstr("batches[0].actor_ids[1]: stream 9"));
  batch->clear_actor_ids();  // every row of stream 0
  EXPECT_TRUE(absl::IsPermissionDenied(CheckInsertAgainstGrant(request, grant)));
  request.clear_batches();
  *request.add_items() = ItemOf(5);
  s = CheckInsertAgainstGrant(request, grant);
  EXPECT_THAT(std::string(s.message()), HasSubstr("items[2]: stream 5 is not one of lease 7"));
  request.set_table("u");
  s = CheckInsertAgainstGrant(request, grant);
  EXPECT_THAT(std::string(s.message()), HasSubstr("allows table 't', not 'u'"));
}

// ---- Processes -----------------------------------------------------------------

// Two deployments' secrets: ours, and a foreign CA with its own certificates.
class SecureProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(MakeTempDir("secure_process"));
    for (const char* which : {"pki", "foreign"}) {
      const std::string cmd = absl::StrCat("bash ", RLX_SOURCE_DIR, "/deploy/make-secrets.sh ",
                                           *root_, "/", which, " > /dev/null");
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
  }
  static std::string Pki(const std::string& file) { return *root_ + "/pki/" + file; }
  static std::string Foreign(const std::string& file) { return *root_ + "/foreign/" + file; }

  static SecurityOptions Client(const std::string& token = "") {
    SecurityOptions o;
    o.tls_ca = Pki("ca.pem");
    if (!token.empty()) o.token_file = Pki(token + ".token");
    return o;
  }

  static grpc::Status Info(int port, const SecurityOptions& options) {
    auto security = ClientSecurity::Create(options);
    EXPECT_TRUE(security.ok()) << security.status();
    if (!security.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "no client");
    auto stub = ReplayService::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", port), **security));
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    InfoRequest request;
    InfoResponse response;
    return stub->Info(&ctx, request, &response);
  }

  static grpc::Status Reset(int port, const SecurityOptions& options) {
    auto security = ClientSecurity::Create(options);
    EXPECT_TRUE(security.ok()) << security.status();
    auto stub = ReplayService::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", port), **security));
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    ResetRequest request;
    request.set_table("no_such_table");
    ResetResponse response;
    return stub->Reset(&ctx, request, &response);
  }

  // An empty insert stream: OK when allowed, the refusal otherwise.
  static grpc::Status EmptyInsert(int port, const SecurityOptions& options) {
    auto security = ClientSecurity::Create(options);
    EXPECT_TRUE(security.ok()) << security.status();
    auto stub = ReplayService::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", port), **security));
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    auto stream = stub->Insert(&ctx);
    stream->WritesDone();
    return stream->Finish();
  }

  static std::string* root_;
};
std::string* SecureProcessTest::root_ = nullptr;

TEST_F(SecureProcessTest, TlsServerWithTokensAnswersOnlyTrustedClientsWithTheRightRole) {
  const std::string dir = MakeTempDir("tls_replay");
  auto replay = StartWithPortFile(
      dir, "replay_server", "replay",
      {"--port=0", "--tls_cert=" + Pki("server.pem"), "--tls_key=" + Pki("server.key"),
       "--tokens_file=" + Pki("tokens"), "--tables=t:fifo:100"});
  ASSERT_TRUE(replay.ok()) << replay.status();
  const int port = replay->port;

  EXPECT_TRUE(Info(port, Client("reader")).ok());
  EXPECT_TRUE(Info(port, Client("operator")).ok());
  EXPECT_TRUE(EmptyInsert(port, Client("worker")).ok());

  grpc::Status s = Reset(port, Client("reader"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("needs the operator role"));
  s = EmptyInsert(port, Client("reader"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  s = Info(port, Client());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  // A token from another deployment.
  SecurityOptions foreign_token = Client();
  foreign_token.token_file = Foreign("operator.token");
  s = Info(port, foreign_token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("not valid on this server"));

  // A client that does not trust our CA, and one that does not speak TLS.
  SecurityOptions wrong_ca = Client("reader");
  wrong_ca.tls_ca = Foreign("ca.pem");
  EXPECT_EQ(Info(port, wrong_ca).error_code(), grpc::StatusCode::UNAVAILABLE);
  SecurityOptions plaintext;
  EXPECT_EQ(Info(port, plaintext).error_code(), grpc::StatusCode::UNAVAILABLE);

  // The server is still up and answering after all that.
  EXPECT_TRUE(Info(port, Client("reader")).ok());
  replay->process.Signal(SIGTERM);
  EXPECT_EQ(replay->process.Wait(absl::Seconds(30)), 0);
}

TEST_F(SecureProcessTest, MutualTlsRefusesClientsWithoutACertificateFromTheClientCa) {
  const std::string dir = MakeTempDir("mtls_replay");
  auto replay = StartWithPortFile(
      dir, "replay_server", "replay",
      {"--port=0", "--tls_cert=" + Pki("server.pem"), "--tls_key=" + Pki("server.key"),
       "--tls_client_ca=" + Pki("ca.pem"), "--tokens_file=" + Pki("tokens")});
  ASSERT_TRUE(replay.ok()) << replay.status();
  const int port = replay->port;

  SecurityOptions with_cert = Client("reader");
  with_cert.tls_cert = Pki("client.pem");
  with_cert.tls_key = Pki("client.key");
  EXPECT_TRUE(Info(port, with_cert).ok());

  const grpc::Status no_cert = Info(port, Client("reader"));
  EXPECT_NE(no_cert.error_code(), grpc::StatusCode::OK);
  EXPECT_NE(no_cert.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  SecurityOptions foreign_cert = Client("reader");
  foreign_cert.tls_cert = Foreign("client.pem");
  foreign_cert.tls_key = Foreign("client.key");
  EXPECT_NE(Info(port, foreign_cert).error_code(), grpc::StatusCode::OK);

  EXPECT_TRUE(Info(port, with_cert).ok());
  replay->process.Signal(SIGTERM);
  EXPECT_EQ(replay->process.Wait(absl::Seconds(30)), 0);
}

TEST_F(SecureProcessTest, TokensWithoutTlsTravelOnlyOverLoopback) {
  const std::string dir = MakeTempDir("token_replay");
  auto replay = StartWithPortFile(dir, "replay_server", "replay",
                                  {"--port=0", "--tokens_file=" + Pki("tokens")});
  ASSERT_TRUE(replay.ok()) << replay.status();
  SecurityOptions token_only;
  token_only.token_file = Pki("reader.token");
  EXPECT_TRUE(Info(replay->port, token_only).ok());
  SecurityOptions none;
  EXPECT_EQ(Info(replay->port, none).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  replay->process.Signal(SIGTERM);
  EXPECT_EQ(replay->process.Wait(absl::Seconds(30)), 0);
}

TEST_F(SecureProcessTest, ServersRefuseToStartOnAnOpenAddressWithoutTlsAndTokens) {
  const std::string dir = MakeTempDir("bind_rule");
  for (const std::string binary : {"replay_server", "learner", "preference_server"}) {
    const std::string log = dir + "/" + binary + ".log";
    // 192.0.2.1 (TEST-NET-1): not loopback, and never this machine's, so even
    // a broken rule could not open a port on every interface.
    std::vector<std::string> argv = {BinaryPath(binary), "--host=192.0.2.1", "--port=0",
                                     "--tls_cert=" + Pki("server.pem"),
                                     "--tls_key=" + Pki("server.key")};
    if (binary != "preference_server") argv.push_back("--checkpoint_dir=" + dir + "/" + binary);
    auto p = Subprocess::Start(argv, log);
    ASSERT_TRUE(p.ok()) << p.status();
    const std::optional<int> code = p->Wait(absl::Seconds(30));
    ASSERT_TRUE(code.has_value()) << binary << " did not exit";
    EXPECT_NE(*code, 0) << binary;
    auto text = ReadFileToString(log);
    ASSERT_TRUE(text.ok());
    EXPECT_THAT(*text, HasSubstr("refusing to listen on 192.0.2.1:0")) << binary;
    EXPECT_THAT(*text, HasSubstr("tokens (--tokens_file)")) << binary;
  }
  // A bad tokens file stops the start with the file and line.
  ASSERT_TRUE(WriteStringAtomically(dir + "/bad_tokens", "abc operator\n").ok());
  auto p = Subprocess::Start(
      {BinaryPath("replay_server"), "--port=0", "--tokens_file=" + dir + "/bad_tokens"},
      dir + "/bad.log");
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p->Wait(absl::Seconds(30)).value_or(0), 0);
  EXPECT_THAT(ReadFileToString(dir + "/bad.log").value_or(""),
              HasSubstr("bad_tokens:1: token shorter than 16"));
}

TEST_F(SecureProcessTest, ReplayServerWithAGrantKeyStoresOnlyWhatALeaseAllows) {
  const std::string dir = MakeTempDir("grant_replay");
  ASSERT_TRUE(WriteStringAtomically(dir + "/grant.key", absl::StrCat(kGrantKey, "\n")).ok());
  auto replay = StartWithPortFile(dir, "replay_server", "replay",
                                  {"--port=0", "--tables=t:fifo:100,u:fifo:100",
                                   "--write_grant_key_file=" + dir + "/grant.key"});
  ASSERT_TRUE(replay.ok()) << replay.status();
  auto signer = GrantSigner::FromKey(kGrantKey);
  ASSERT_TRUE(signer.ok());
  auto stub = ReplayService::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", replay->port)));
  auto insert = [&](const std::string& grant, const std::string& table, int64_t actor) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    if (!grant.empty()) ctx.AddMetadata(kWriteGrantHeader, grant);
    auto stream = stub->Insert(&ctx);
    InsertRequest request;
    request.set_table(table);
    *request.add_items() = ItemOf(actor);
    stream->Write(request);
    stream->WritesDone();
    InsertResponse response;
    while (stream->Read(&response)) {
    }
    return stream->Finish();
  };
  auto size = [&](const std::string& table) -> int64_t {
    grpc::ClientContext ctx;
    InfoRequest request;
    request.set_table(table);
    InfoResponse response;
    if (!stub->Info(&ctx, request, &response).ok() || response.tables_size() != 1) return -1;
    return response.tables(0).size();
  };
  const std::string grant = (*signer)->Sign(GrantFor("t", {3}));
  EXPECT_TRUE(insert(grant, "t", 3).ok());
  grpc::Status s = insert("", "t", 3);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("need the write grant of an actor lease"));
  s = insert(grant, "t", 4);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("stream 4 is not one of lease 7"));
  s = insert(grant, "u", 3);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  auto other = GrantSigner::FromKey(std::string(kGrantKey) + "-stolen");
  s = insert((*other)->Sign(GrantFor("u", {3})), "u", 3);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(size("t"), 1) << "only the granted insert is stored";
  EXPECT_EQ(size("u"), 0);
  replay->process.Signal(SIGTERM);
  EXPECT_EQ(replay->process.Wait(absl::Seconds(30)), 0);
}

TEST_F(SecureProcessTest, RlctlSpeaksTlsWithItsToken) {
  const std::string dir = MakeTempDir("tls_rlctl");
  auto learner = StartWithPortFile(
      dir, "learner", "learner",
      {"--port=0", "--replay=127.0.0.1:1", "--checkpoint_dir=" + dir + "/learner",
       "--tls_cert=" + Pki("server.pem"), "--tls_key=" + Pki("server.key"),
       "--tokens_file=" + Pki("tokens")});
  ASSERT_TRUE(learner.ok()) << learner.status();
  const std::string address = absl::StrCat("--address=127.0.0.1:", learner->port);
  auto rlctl = [&](const std::vector<std::string>& args, const std::string& tag) {
    std::vector<std::string> argv = {BinaryPath("rlctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = Subprocess::Start(argv, dir + "/" + tag + ".log");
    EXPECT_TRUE(p.ok());
    const int code = p->Wait(absl::Seconds(30)).value_or(-1);
    return std::make_pair(code, ReadFileToString(dir + "/" + tag + ".log").value_or(""));
  };
  auto [ok_code, ok_out] = rlctl({"list", address, "--tls_ca=" + Pki("ca.pem"),
                                  "--token_file=" + Pki("reader.token")},
                                 "list_reader");
  EXPECT_EQ(ok_code, 0) << ok_out;
  auto [denied_code, denied_out] =
      rlctl({"cancel", "nojob", address, "--tls_ca=" + Pki("ca.pem"),
             "--token_file=" + Pki("reader.token")},
            "cancel_reader");
  EXPECT_NE(denied_code, 0);
  EXPECT_THAT(denied_out, HasSubstr("needs the operator role"));
  auto [plain_code, plain_out] = rlctl({"list", address}, "list_plain");
  EXPECT_NE(plain_code, 0) << plain_out;
  auto [health_code, health_out] = rlctl(
      {"health", absl::StrCat("127.0.0.1:", learner->port), "--tls_ca=" + Pki("ca.pem")}, "health");
  EXPECT_EQ(health_code, 0) << "the health service needs no token: " << health_out;
  learner->process.Signal(SIGTERM);
  EXPECT_EQ(learner->process.Wait(absl::Seconds(30)), 0);
}

}  // namespace
}  // namespace rlx
