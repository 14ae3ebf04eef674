// The real topology on 127.0.0.1 (free ports, every process serving /metrics)
// running a CartPole job:
//  - every process's /metrics passes `promtool check metrics`;
//  - every rl_* metric the Grafana dashboard and the alert rules query is
//    exposed by some process;
//  - the Debian Prometheus server scrapes the topology (1 s interval, config
//    generated here, deploy/prometheus/alerts.yml loaded): each target is up
//    and the env-step and replay counters increase (HTTP query API).
#include <gtest/gtest.h>
#include <signal.h>

#include "deploy_util.h"

namespace rlx::deploy {
namespace {

constexpr int kActors = 2;

class DeployMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    topo_ = std::make_unique<LocalTopology>(MakeTempDir("deploy_metrics"));
    ASSERT_TRUE(topo_->StartAll(kActors).ok()) << "topology did not start; logs in " << topo_->dir();
    ASSERT_TRUE(SubmitJob(topo_->learner().port, EndlessCartPoleJob("deploy", kActors)).ok());
    // The job's replay table exists and experience flows.
    ASSERT_TRUE(WaitFor(
        [&] {
          auto s = GetJob(topo_->learner().port, "deploy");
          return s.ok() && s->env_steps() > 200;
        },
        absl::Seconds(60)))
        << "the job did not start training; logs in " << topo_->dir();
  }
  void TearDown() override {
    if (!topo_) return;
    // Clean drain (SIGTERM), then the Subprocess destructors SIGKILL leftovers.
    for (auto it = topo_->procs.rbegin(); it != topo_->procs.rend(); ++it) it->process.Signal(SIGTERM);
    for (auto& p : topo_->procs) p.process.Wait(absl::Seconds(20));
  }

  std::string Metrics(Proc& p) {
    auto body = HttpGet("127.0.0.1", p.metrics_port, "/metrics");
    EXPECT_TRUE(body.ok()) << p.tag << ": " << body.status();
    return body.ok() ? *body : "";
  }

  std::unique_ptr<LocalTopology> topo_;
};

TEST_F(DeployMetricsTest, EveryProcessMetricsPassPromtoolCheckMetrics) {
  RLX_REQUIRE_TOOL(promtool, "promtool");
  for (Proc& p : topo_->procs) {
    ASSERT_GT(p.metrics_port, 0) << p.tag;
    const std::string text = Metrics(p);
    ASSERT_FALSE(text.empty()) << p.tag;
    const std::string file = absl::StrCat(topo_->dir(), "/", p.tag, ".metrics");
    ASSERT_TRUE(WriteStringAtomically(file, text).ok());
    RunResult r = RunTool({"/bin/sh", "-c", absl::StrCat("'", *promtool, "' check metrics < '", file, "'")});
    EXPECT_EQ(r.exit_code, 0) << p.tag << " /metrics:\n" << r.output;
    EXPECT_TRUE(r.output.empty()) << p.tag << " lint problems:\n" << r.output;
  }
}

void CollectExprs(const google::protobuf::Value& v, std::vector<std::string>* out) {
  if (v.has_struct_value()) {
    for (const auto& [k, f] : v.struct_value().fields()) {
      if (k == "expr" && f.has_string_value()) {
        out->push_back(f.string_value());
      } else {
        CollectExprs(f, out);
      }
    }
  } else if (v.has_list_value()) {
    for (const auto& e : v.list_value().values()) CollectExprs(e, out);
  }
}

TEST_F(DeployMetricsTest, DashboardAndAlertMetricsAreExposed) {
  std::set<std::string> exposed;
  for (Proc& p : topo_->procs) {
    for (const auto& n : ExposedNames(Metrics(p))) exposed.insert(n);
  }
  auto text = ReadFileToString(SourceDir() + "/deploy/grafana/dashboards/rlx.json");
  ASSERT_TRUE(text.ok()) << text.status();
  auto doc = ParseJson(*text);
  ASSERT_TRUE(doc.ok()) << doc.status();
  google::protobuf::Value root;
  *root.mutable_struct_value() = *doc;
  std::vector<std::string> exprs;
  CollectExprs(root, &exprs);
  ASSERT_GE(exprs.size(), 10u);
  std::set<std::string> queried;
  for (const auto& e : exprs) {
    for (const auto& n : RlMetricNames(e)) queried.insert(n);
  }
  // The alert rules query rl_* metrics too.
  auto alerts = ReadFileToString(SourceDir() + "/deploy/prometheus/alerts.yml");
  ASSERT_TRUE(alerts.ok());
  for (absl::string_view line : absl::StrSplit(*alerts, '\n')) {
    if (absl::StrContains(line, "expr:") || absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "rl_") ||
        absl::StrContains(line, "(rl_") || absl::StrContains(line, " rl_")) {
      if (absl::StrContains(line, "summary:") || absl::StrContains(line, "description:")) continue;
      for (const auto& n : RlMetricNames(line)) queried.insert(n);
    }
  }
  EXPECT_GE(queried.size(), 10u);
  // Series that only a multi-agent job has (this topology runs CartPole):
  // tests/evaluator/evaluator_test.cc (MultiAgentJobExposesFigures...)
  // checks that the evaluator exposes them.
  const std::set<std::string> multi_agent_only = {"rl_evaluator_swarm_success_ratio",
                                                  "rl_evaluator_swarm_collisions_per_agent",
                                                  "rl_evaluator_swarm_time_to_goal_seconds"};
  for (const auto& name : queried) {
    if (multi_agent_only.count(name) > 0) continue;
    EXPECT_TRUE(NameExposed(name, exposed)) << name << " is queried but no process exposes it";
  }
  for (const auto& name : multi_agent_only) EXPECT_TRUE(queried.count(name) > 0) << name;
}

// The Debian Prometheus server on a free port scraping the topology.
TEST_F(DeployMetricsTest, PrometheusScrapesEveryProcessAndCountersIncrease) {
  RLX_REQUIRE_TOOL(prometheus, "prometheus");
  const std::string dir = topo_->dir();
  std::string scrape;
  auto job = [&](const std::string& name, const std::vector<int>& ports) {
    absl::StrAppend(&scrape, "  - job_name: ", name, "\n    static_configs:\n      - targets: [");
    for (size_t i = 0; i < ports.size(); ++i) {
      absl::StrAppend(&scrape, i ? ", " : "", "\"127.0.0.1:", ports[i], "\"");
    }
    absl::StrAppend(&scrape, "]\n");
  };
  std::vector<int> actor_ports;
  int evaluator_port = 0, preference_port = 0;
  for (auto& p : topo_->procs) {
    if (absl::StartsWith(p.tag, "actor")) actor_ports.push_back(p.metrics_port);
    if (p.tag == "evaluator") evaluator_port = p.metrics_port;
    if (p.tag == "preference") preference_port = p.metrics_port;
  }
  job("replay", {topo_->replay().metrics_port});
  job("learner", {topo_->learner().metrics_port});
  job("evaluator", {evaluator_port});
  job("preference", {preference_port});
  job("actor", actor_ports);
  const std::string config = absl::StrCat(
      "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n", "rule_files:\n  - ",
      SourceDir(), "/deploy/prometheus/alerts.yml\n", "scrape_configs:\n", scrape);
  ASSERT_TRUE(WriteStringAtomically(dir + "/prometheus.yml", config).ok());
  const int port = FreePort();
  auto prom = Subprocess::Start(
      {*prometheus, "--config.file=" + dir + "/prometheus.yml",
       "--storage.tsdb.path=" + dir + "/tsdb", absl::StrCat("--web.listen-address=127.0.0.1:", port)},
      dir + "/prometheus.log");
  ASSERT_TRUE(prom.ok()) << prom.status();
  ASSERT_TRUE(WaitFor(
      [&] { return !prom->Running() || HttpGet("127.0.0.1", port, "/-/ready").ok(); },
      absl::Seconds(60)) && prom->Running())
      << "prometheus did not become ready; see " << dir << "/prometheus.log";

  // Every target up.
  std::vector<Sample> up;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = PromQuery(port, "up");
        if (!r.ok()) return false;
        up = *r;
        if (up.size() != topo_->procs.size()) return false;
        for (const auto& s : up) {
          if (s.value != 1) return false;
        }
        return true;
      },
      absl::Seconds(30)))
      << "not every target is up (" << up.size() << " series); see " << dir << "/prometheus.log";
  std::map<std::string, int> per_job;
  for (const auto& s : up) per_job[s.labels.at("job")]++;
  EXPECT_EQ(per_job["replay"], 1);
  EXPECT_EQ(per_job["learner"], 1);
  EXPECT_EQ(per_job["evaluator"], 1);
  EXPECT_EQ(per_job["preference"], 1);
  EXPECT_EQ(per_job["actor"], kActors);

  // Counters increase between scrapes: env steps (each actor), replay inserts
  // and samples.
  auto value = [&](const std::string& q) -> double {
    auto r = PromQuery(port, q);
    return r.ok() && r->size() == 1 ? (*r)[0].value : -1;
  };
  for (const char* q : {"sum(rl_actor_env_steps_total)", "sum(rl_replay_inserts_total)",
                        "sum(rl_replay_samples_total)", "rl_learner_steps_total"}) {
    double first = -1;
    ASSERT_TRUE(WaitFor([&] { return (first = value(q)) > 0; }, absl::Seconds(20))) << q;
    double later = first;
    EXPECT_TRUE(WaitFor([&] { return (later = value(q)) > first; }, absl::Seconds(20)))
        << q << " stayed at " << first;
  }
  std::vector<Sample> actor_rates;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto r = PromQuery(port, "rate(rl_actor_env_steps_total[5s]) > 0");
        if (r.ok()) actor_rates = *r;
        return r.ok() && static_cast<int>(r->size()) == kActors;
      },
      absl::Seconds(20)))
      << actor_rates.size() << " of " << kActors << " actors step";

  // The shipped alert rules are loaded by the real server.
  auto rules = HttpGet("127.0.0.1", port, "/api/v1/rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  for (const char* a : {"RlxProcessDown", "RlxActorsStalled", "RlxPolicyLagHigh",
                        "RlxReplayRateLimiterBlocking", "RlxLearnerTdErrorNaN"}) {
    EXPECT_NE(rules->find(a), std::string::npos) << a << " not loaded";
  }
  // None of them fires on a healthy topology (pending needs `for`, so check
  // the firing expression directly for the instant ones).
  auto nan = PromQuery(port, "rl_learner_td_error_abs != rl_learner_td_error_abs");
  ASSERT_TRUE(nan.ok());
  EXPECT_TRUE(nan->empty());
  prom->Signal(SIGTERM);
  prom->Wait(absl::Seconds(20));
}

}  // namespace
}  // namespace rlx::deploy
