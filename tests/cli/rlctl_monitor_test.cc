// `rlctl up --monitor` with the real binaries and Debian's Prometheus on
// 127.0.0.1: the generated config passes `promtool check config` with the
// project's alert rules, Prometheus's HTTP API shows every process's target
// "up" with the job labels the alert rules use, the actors' env-step counter
// rises between two queries, `status --output=json` lists Prometheus and its
// URL, `rlctl plot` draws the running job's curve, and `rlctl down` stops
// Prometheus with everything else (always, also when the test fails).
// Skips when /usr/bin/prometheus (Debian package prometheus) is missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/learning_curve.h"
#include "cli/local_cluster.h"
#include "cli/monitor.h"
#include "cli/process.h"
#include "core/file_util.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/cli/rlctl_topology_fixture.h"
#include "tests/test_util.h"

namespace rlx::cli {
namespace {

absl::StatusOr<google::protobuf::Struct> ParseJson(const std::string& text) {
  google::protobuf::Struct doc;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &doc);
  if (!status.ok()) return absl::InvalidArgumentError(std::string(status.message()));
  return doc;
}

const google::protobuf::Value& Get(const google::protobuf::Struct& s, const std::string& key) {
  static const google::protobuf::Value* missing = new google::protobuf::Value();
  auto it = s.fields().find(key);
  return it == s.fields().end() ? *missing : it->second;
}

class RlctlMonitorTest : public RlctlTopologyTest {
 protected:
  void SetUp() override {
    prometheus_ = DefaultPrometheusBinary();
    if (::access(prometheus_.c_str(), X_OK) != 0) {
      GTEST_SKIP() << prometheus_ << " is missing (Debian package prometheus; "
                   << "scripts/install-deps.sh installs it)";
    }
    MakeStateDir("rlctl_monitor");
  }

  // GET on Prometheus's HTTP API: the "data" member of a success answer.
  absl::StatusOr<google::protobuf::Value> Api(const std::string& path) {
    absl::StatusOr<std::string> body = HttpGet("127.0.0.1", port_, path);
    if (!body.ok()) return body.status();
    absl::StatusOr<google::protobuf::Struct> doc = ParseJson(*body);
    if (!doc.ok()) return doc.status();
    if (Get(*doc, "status").string_value() != "success") {
      return absl::InternalError(absl::StrCat(path, ": ", *body));
    }
    return Get(*doc, "data");
  }

  // A one-element instant vector's value; -1 otherwise.
  double Query(const std::string& query) {
    absl::StatusOr<google::protobuf::Value> data = Api("/api/v1/query?query=" + UrlEncode(query));
    if (!data.ok()) return -1;
    const auto& result = Get(data->struct_value(), "result").list_value();
    if (result.values_size() != 1) return -1;
    const auto& pair = Get(result.values(0).struct_value(), "value").list_value();
    double v = -1;
    if (pair.values_size() != 2 || !absl::SimpleAtod(pair.values(1).string_value(), &v)) return -1;
    return v;
  }

  std::string prometheus_;
  int port_ = 0;
};

TEST_F(RlctlMonitorTest, PrometheusScrapesEveryProcessAndDownStopsIt) {
  RlctlRun up = Rlctl({"up", "--actors=1", "--monitor", "--scrape_interval_s=1",
                       "--start_timeout_s=90"},
                      absl::Seconds(200));
  ASSERT_EQ(up.code, 0) << up.output;
  absl::StatusOr<Topology> t = ReadTopology(TopologyPath(state_dir_));
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(absl::StartsWith(t->monitor_url, "http://127.0.0.1:")) << t->monitor_url;
  EXPECT_TRUE(absl::StrContains(up.output, "monitor " + t->monitor_url)) << up.output;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripPrefix(t->monitor_url, "http://127.0.0.1:"), &port_));
  std::optional<ProcessRecord> prometheus;
  int with_metrics = 0;
  for (const ProcessRecord& p : t->processes) {
    if (p.name == kPrometheusProcess) prometheus = p;
    // /metrics is on by default: every process has a metrics port.
    EXPECT_GT(p.metrics_port, 0) << p.name;
    if (p.metrics_port > 0) ++with_metrics;
  }
  ASSERT_TRUE(prometheus.has_value()) << up.output;
  EXPECT_EQ(prometheus->port, port_);
  EXPECT_EQ(prometheus->state, "running");
  EXPECT_EQ(with_metrics, 6);  // replay, preference, learner, actor-0, evaluator, prometheus

  // The generated config and the copied alert rules pass promtool.
  const std::string promtool = prometheus_.substr(0, prometheus_.rfind('/')) + "/promtool";
  if (::access(promtool.c_str(), X_OK) == 0) {
    const std::string log = dir_ + "/promtool.log";
    absl::StatusOr<Subprocess> check =
        Subprocess::Start({promtool, "check", "config", PrometheusConfigPath(state_dir_)}, log);
    ASSERT_TRUE(check.ok());
    EXPECT_EQ(check->Wait(absl::Seconds(60)), 0) << ReadFileToString(log).value_or("");
    EXPECT_TRUE(absl::StrContains(ReadFileToString(log).value_or(""), "SUCCESS: 5 rules found"))
        << ReadFileToString(log).value_or("");
  }

  // A job that trains until cancelled (CartPole's returns end at 500, so the
  // target is never met; it is there for the plot), evaluated every 500 steps.
  const std::string job = dir_ + "/job.textproto";
  std::ofstream(job) << R"(name: "monitored" algorithm: "stream_ac" env: "CartPole-v1"
                           num_actors: 1 seed: 3
                           stop { max_env_steps: 100000000 target_eval_return: 1000 }
                           eval { every_learner_steps: 500 episodes: 2 })";
  RlctlRun submit = Rlctl({"submit", job}, absl::Seconds(30));
  ASSERT_EQ(submit.code, 0) << submit.output;

  // /api/v1/targets: one target per process, every one "up", labelled as
  // the alert rules expect (job=actor for actor-0).
  std::string targets_seen;
  const bool all_up = WaitFor(
      [&] {
        absl::StatusOr<google::protobuf::Value> data = Api("/api/v1/targets");
        if (!data.ok()) return false;
        const auto& active = Get(data->struct_value(), "activeTargets").list_value();
        targets_seen.clear();
        int up = 0;
        for (const auto& target : active.values()) {
          const auto& labels = Get(target.struct_value(), "labels").struct_value();
          const std::string health = Get(target.struct_value(), "health").string_value();
          absl::StrAppend(&targets_seen, Get(labels, "job").string_value(), "/",
                          Get(labels, "process").string_value(), "=", health, " ");
          if (health == "up") ++up;
        }
        return active.values_size() == with_metrics && up == with_metrics;
      },
      absl::Seconds(60));
  ASSERT_TRUE(all_up) << "targets: " << targets_seen << "; see " << LogDir(state_dir_)
                      << "/prometheus.log";
  for (const char* want : {"replay/replay=up", "preference/preference=up", "learner/learner=up",
                           "actor/actor-0=up", "evaluator/evaluator=up",
                           "prometheus/prometheus=up"}) {
    EXPECT_TRUE(absl::StrContains(targets_seen, want)) << want << " in " << targets_seen;
  }
  // up{job=...} as RlxProcessDown reads it.
  EXPECT_EQ(Query("count(up{job=~\"replay|learner|evaluator|actor|preference\"} == 1)"), 5);

  // The actors' env-step counter (actor/actor_loop.cc) rises between two queries.
  const std::string steps = "sum(rl_actor_env_steps_total)";
  double first = -1;
  ASSERT_TRUE(WaitFor([&] { return (first = Query(steps)) > 0; }, absl::Seconds(60)))
      << steps << " never above 0";
  double later = first;
  EXPECT_TRUE(WaitFor([&] { return (later = Query(steps)) > first; }, absl::Seconds(30)))
      << steps << " stayed at " << first;

  // The project's alert rules are loaded.
  absl::StatusOr<std::string> rules = HttpGet("127.0.0.1", port_, "/api/v1/rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  for (const char* alert : {"RlxProcessDown", "RlxActorsStalled", "RlxLearnerTdErrorNaN"}) {
    EXPECT_TRUE(absl::StrContains(*rules, alert)) << alert;
  }

  // status --output=json: Prometheus among the processes, and its URL.
  RlctlRun status = Rlctl({"status", "--output=json"}, absl::Seconds(30));
  ASSERT_EQ(status.code, 0) << status.output;
  absl::StatusOr<google::protobuf::Struct> doc = ParseJson(status.output);
  ASSERT_TRUE(doc.ok()) << doc.status() << "\n" << status.output;
  const auto& topology = Get(*doc, "topology").struct_value();
  EXPECT_EQ(Get(topology, "monitor_url").string_value(), t->monitor_url);
  bool listed = false;
  for (const auto& p : Get(topology, "processes").list_value().values()) {
    if (Get(p.struct_value(), "name").string_value() != kPrometheusProcess) continue;
    listed = true;
    EXPECT_EQ(Get(p.struct_value(), "state").string_value(), "running");
    EXPECT_EQ(Get(p.struct_value(), "port").number_value(), port_);
  }
  EXPECT_TRUE(listed) << status.output;
  ASSERT_EQ(Get(*doc, "jobs").list_value().values_size(), 1) << status.output;

  // The running job's curve, once the evaluator has written a row.
  const std::string curve = absl::StrCat(t->out_dir, "/monitored/", kEvalCurveFile);
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<std::vector<EvalCurvePoint>> rows = ReadEvalCurve(curve);
        return rows.ok() && !rows->empty();
      },
      absl::Seconds(60)))
      << "no evaluation in " << curve;
  RlctlRun plot = Rlctl({"plot", "monitored"}, absl::Seconds(30));
  ASSERT_EQ(plot.code, 0) << plot.output;
  const std::string svg = absl::StrCat(t->out_dir, "/monitored/", kLearningCurveFile);
  EXPECT_TRUE(absl::StartsWith(plot.output, svg + "\n")) << plot.output;
  const std::string svg_text = ReadFileToString(svg).value_or("");
  EXPECT_TRUE(absl::StrContains(svg_text, "<polyline")) << svg_text.substr(0, 300);
  EXPECT_TRUE(absl::StrContains(svg_text, "target 1000")) << plot.output;

  // `rlctl down` stops Prometheus first, then the rest; nothing is left.
  RlctlRun cancel = Rlctl({"cancel", "monitored"}, absl::Seconds(30));
  EXPECT_EQ(cancel.code, 0) << cancel.output;
  const std::set<pid_t> pids = StartedPids();
  RlctlRun down = Rlctl({"down"}, absl::Seconds(90));
  EXPECT_EQ(down.code, 0) << down.output;
  EXPECT_TRUE(absl::StartsWith(down.output, absl::StrCat("stopped prometheus (pid ",
                                                         prometheus->pid, ", restarts 0)")))
      << down.output;
  for (pid_t pid : pids) EXPECT_FALSE(ProcessAlive(pid)) << "pid " << pid << " still runs";
  EXPECT_FALSE(ProcessAlive(prometheus->pid));
  EXPECT_FALSE(FileExists(TopologyPath(state_dir_)));
  EXPECT_FALSE(HttpGetStatus("127.0.0.1", port_, "/-/ready", absl::Now() + absl::Seconds(1)).ok());
}

}  // namespace
}  // namespace rlx::cli
