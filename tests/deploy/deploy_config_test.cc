// Static checks of deploy/: the compose file, the Prometheus configuration and
// alert rules (promtool), and the Grafana dashboard's JSON. Each test skips
// with a message when its tool is not installed.
#include <algorithm>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/strip.h"
#include "deploy_util.h"

namespace rlx::deploy {
namespace {

TEST(DeployConfigTest, ComposeFileIsValid) {
  RLX_REQUIRE_TOOL(compose, "docker-compose");
  RunResult r = RunTool({*compose, "-f", SourceDir() + "/deploy/docker-compose.yml", "config",
                         "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // Every service of the topology is there, with a healthcheck.
  RunResult services =
      RunTool({*compose, "-f", SourceDir() + "/deploy/docker-compose.yml", "config", "--services"});
  ASSERT_EQ(services.exit_code, 0) << services.output;
  for (const char* s : {"replay", "learner", "evaluator", "actor", "prometheus", "grafana"}) {
    EXPECT_NE(services.output.find(s), std::string::npos) << "no service " << s;
  }
}

// Published ports only where a person needs them (rlctl -> learner,
// Prometheus, Grafana); every rlx server listening on 0.0.0.0 has TLS and
// tokens, every client the CA and a token; secrets come from files.
TEST(DeployConfigTest, ComposePublishesOnlyWhatPeopleUseAndSecuresEveryServer) {
  RLX_REQUIRE_TOOL(compose, "docker-compose");
  RunResult r =
      RunTool({*compose, "-f", SourceDir() + "/deploy/docker-compose.yml", "config"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // docker-compose v1 prints each published port as "published: N".
  std::vector<std::string> published;
  for (absl::string_view line : absl::StrSplit(r.output, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumePrefix(&line, "- ");
    if (absl::ConsumePrefix(&line, "published:")) {
      published.push_back(std::string(absl::StripAsciiWhitespace(line)));
    }
  }
  std::sort(published.begin(), published.end());
  EXPECT_EQ(published, (std::vector<std::string>{"3000", "50052", "9090"})) << r.output;

  auto text = ReadFileToString(SourceDir() + "/deploy/docker-compose.yml");
  ASSERT_TRUE(text.ok());
  // One block per service: from "  NAME:" to the next service.
  for (const char* service : {"replay", "learner", "evaluator", "preference"}) {
    const size_t at = text->find(absl::StrCat("\n  ", service, ":\n"));
    ASSERT_NE(at, std::string::npos) << service;
    const size_t end = text->find("\n\n", at + 1);
    const std::string block = text->substr(at, end - at);
    for (const char* flag : {"--host=0.0.0.0", "--tls_cert=/run/secrets/", "--tls_key=/run/secrets/",
                             "--tokens_file=/run/secrets/"}) {
      EXPECT_NE(block.find(flag), std::string::npos) << service << " lacks " << flag;
    }
  }
  for (const char* client : {"learner", "evaluator", "actor"}) {
    const size_t at = text->find(absl::StrCat("\n  ", client, ":\n"));
    ASSERT_NE(at, std::string::npos) << client;
    const std::string block = text->substr(at, text->find("\n\n", at + 1) - at);
    EXPECT_NE(block.find("--tls_ca=/run/secrets/rlx_ca"), std::string::npos) << client;
    EXPECT_NE(block.find("--token_file=/run/secrets/"), std::string::npos) << client;
  }
  EXPECT_NE(text->find("\nsecrets:\n"), std::string::npos);
  EXPECT_EQ(text->find("--allow_insecure"), std::string::npos);
}

TEST(DeployConfigTest, PrometheusConfigIsValid) {
  RLX_REQUIRE_TOOL(promtool, "promtool");
  RunResult r = RunTool({*promtool, "check", "config",
                         SourceDir() + "/deploy/prometheus/prometheus.yml"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(DeployConfigTest, AlertRulesAreValid) {
  RLX_REQUIRE_TOOL(promtool, "promtool");
  RunResult r = RunTool({*promtool, "check", "rules",
                         SourceDir() + "/deploy/prometheus/alerts.yml"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(DeployConfigTest, AlertRuleUnitTestsPass) {
  RLX_REQUIRE_TOOL(promtool, "promtool");
  RunResult r = RunTool({*promtool, "test", "rules",
                         SourceDir() + "/deploy/prometheus/alerts_test.yml"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("SUCCESS"), std::string::npos) << r.output;
}

// Every alert in alerts.yml has a firing case in alerts_test.yml.
TEST(DeployConfigTest, EveryAlertHasAFiringTest) {
  auto rules = ReadFileToString(SourceDir() + "/deploy/prometheus/alerts.yml");
  auto tests = ReadFileToString(SourceDir() + "/deploy/prometheus/alerts_test.yml");
  ASSERT_TRUE(rules.ok() && tests.ok());
  int alerts = 0;
  for (absl::string_view line : absl::StrSplit(*rules, '\n')) {
    const size_t at = line.find("- alert:");
    if (at == absl::string_view::npos) continue;
    std::string name(absl::StripAsciiWhitespace(line.substr(at + 8)));
    ++alerts;
    // A test block names the alert and expects alerts (exp_labels).
    const size_t pos = tests->find("alertname: " + name + "\n");
    ASSERT_NE(pos, std::string::npos) << name << " is not tested";
    bool fires = false;
    for (size_t p = pos; p != std::string::npos; p = tests->find("alertname: " + name + "\n", p + 1)) {
      const size_t next = tests->find("alertname:", p + 1);
      const std::string block = tests->substr(p, next == std::string::npos ? std::string::npos : next - p);
      if (block.find("exp_labels:") != std::string::npos) fires = true;
    }
    EXPECT_TRUE(fires) << name << " has no firing case";
  }
  EXPECT_GE(alerts, 5);
}

TEST(DeployConfigTest, DashboardIsValidJsonWithQueries) {
  auto text = ReadFileToString(SourceDir() + "/deploy/grafana/dashboards/rlx.json");
  ASSERT_TRUE(text.ok()) << text.status();
  auto doc = ParseJson(*text);
  ASSERT_TRUE(doc.ok()) << doc.status();
  const auto& panels = doc->fields().at("panels").list_value();
  EXPECT_GE(panels.values_size(), 10);
  for (const auto& p : panels.values()) {
    const auto& f = p.struct_value().fields();
    EXPECT_GT(f.at("targets").list_value().values_size(), 0) << f.at("title").string_value();
  }
}

// The binaries' default ports agree with each other and with the compose
// file: replay 50051, learner 50052, evaluator 50053, preference 50054 (a
// learner started without --port must be where actors look for it by
// default), and every binary's --help lists its own flags.
TEST(DeployConfigTest, BinariesDefaultToTheClusterPorts) {
  struct Expect {
    const char* binary;
    const char* flag;
    const char* value;
  };
  for (const Expect& e : std::vector<Expect>{{"replay_server", "--port", "50051"},
                                             {"learner", "--port", "50052"},
                                             {"learner", "--replay", "\"127.0.0.1:50051\""},
                                             {"evaluator", "--port", "50053"},
                                             {"evaluator", "--learner", "\"127.0.0.1:50052\""},
                                             {"actor", "--learner", "\"127.0.0.1:50052\""},
                                             {"actor", "--replay", "\"127.0.0.1:50051\""},
                                             {"preference_server", "--port", "50054"},
                                             {"learner", "--preference", "\"127.0.0.1:50054\""}}) {
    RunResult r = RunTool({BinaryPath(e.binary), "--helpfull"});
    // absl prints "    --flag (help...); default: value;" possibly over two lines.
    const std::string key = absl::StrCat("    ", e.flag, " (");
    const size_t at = r.output.find(key);
    ASSERT_NE(at, std::string::npos) << e.binary << " has no " << e.flag << "\n" << r.output;
    const size_t def = r.output.find("default: ", at);
    ASSERT_NE(def, std::string::npos) << e.binary;
    EXPECT_EQ(r.output.substr(def + 9, std::strlen(e.value)), e.value)
        << e.binary << " " << e.flag;
  }
  auto compose = ReadFileToString(SourceDir() + "/deploy/docker-compose.yml");
  ASSERT_TRUE(compose.ok());
  for (const char* port : {"--port=50051", "--port=50052", "--port=50053", "--port=50054"}) {
    EXPECT_NE(compose->find(port), std::string::npos) << port;
  }
  for (const char* binary :
       {"replay_server", "learner", "actor", "evaluator", "preference_server", "rlctl"}) {
    RunResult r = RunTool({BinaryPath(binary), "--help"});
    EXPECT_NE(r.output.find("--"), std::string::npos) << binary << " --help lists no flags:\n"
                                                      << r.output;
    EXPECT_EQ(r.output.find("No flags matched"), std::string::npos) << binary;
  }
}

// A learner told to use a GPU refuses to start where LibTorch has none
// (Debian's CPU-only LibTorch), saying how to get one; a bad value is named.
TEST(DeployConfigTest, LearnerDeviceFlagIsCheckedAtStart) {
  RunResult cuda = RunTool({BinaryPath("learner"), "--device=cuda", "--port=0"});
  EXPECT_NE(cuda.exit_code, 0) << cuda.output;
  EXPECT_NE(cuda.output.find("--device=cuda: LibTorch cannot use CUDA here"), std::string::npos)
      << cuda.output;
  EXPECT_NE(cuda.output.find("-DTorch_DIR"), std::string::npos) << cuda.output;
  RunResult bad = RunTool({BinaryPath("learner"), "--device=tpu", "--port=0"});
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_NE(bad.output.find("--device=tpu: must be cpu or cuda"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace rlx::deploy
