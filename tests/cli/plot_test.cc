// The SVG line chart (cli/svg_plot.h), the learning-curve data and its
// rendering (cli/learning_curve.h), and the Prometheus config of `up
// --monitor` (cli/monitor.h). The SVGs are parsed by Python's XML parser
// (/usr/bin/python3, xml.dom.minidom) as well as counted here; the config is
// checked by Debian's `promtool check config` (skipped without them).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cli/learning_curve.h"
#include "cli/monitor.h"
#include "cli/svg_plot.h"
#include "core/file_util.h"
#include "tests/test_util.h"

namespace rlx::cli {
namespace {

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct ToolRun {
  std::optional<int> code;
  std::string output;
};

ToolRun RunTool(const std::vector<std::string>& argv) {
  const std::string log = MakeTempDir("plot_tool") + "/out.log";
  ToolRun run;
  absl::StatusOr<Subprocess> p = Subprocess::Start(argv, log);
  if (!p.ok()) return run;
  run.code = p->Wait(absl::Seconds(60));
  run.output = ReadFileToString(log).value_or("");
  return run;
}

constexpr char kPython[] = "/usr/bin/python3";

// Parses the file with xml.dom.minidom; returns its <polyline> count, or -1
// when it is not well-formed (the parser's error in *error).
int PolylinesPerPython(const std::string& svg, std::string* error) {
  const std::string path = MakeTempDir("plot_svg") + "/plot.svg";
  EXPECT_TRUE(WriteStringAtomically(path, svg).ok());
  ToolRun run = RunTool(
      {kPython, "-c",
       "import sys, xml.dom.minidom as m\n"
       "d = m.parse(sys.argv[1])\n"
       "assert d.documentElement.tagName == 'svg', d.documentElement.tagName\n"
       "print(len(d.getElementsByTagName('polyline')))\n",
       path});
  int n = -1;
  if (run.code != 0 || !absl::SimpleAtoi(absl::StripAsciiWhitespace(run.output), &n)) {
    *error = run.output;
    return -1;
  }
  return n;
}

#define REQUIRE_PYTHON()                                                              \
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is not installed (" \
                                                    "scripts/install-deps.sh installs python3)"

SvgPlot TwoSeries() {
  SvgPlot plot;
  plot.title = "Learning curve: cartpole";
  plot.subtitle = "stream_ac on CartPole-v1";
  plot.x_label = "env steps";
  plot.y_label = "return";
  SvgSeries eval{"evaluation", "#1f77b4", {{0, 10}, {1000, 50}, {2000, 200}, {3000, 480}}, {}};
  for (const SvgPoint& p : eval.points) eval.band.push_back({p.x, p.y - 5, p.y + 5});
  SvgSeries train{"training", "#ff7f0e", {{500, 20}, {1500, 90}, {2500, 300}}, {}};
  plot.series = {eval, train};
  plot.target = 475;
  plot.target_label = "target 475";
  return plot;
}

TEST(SvgPlotTest, OnePolylinePerSeriesAndWellFormed) {
  const std::string svg = RenderSvgPlot(TwoSeries());
  EXPECT_TRUE(absl::StartsWith(svg, "<?xml version=\"1.0\""));
  EXPECT_EQ(Count(svg, "<polyline"), 2);
  EXPECT_EQ(Count(svg, "<polygon"), 1);                // the evaluation's band
  EXPECT_EQ(Count(svg, "stroke-dasharray=\"6 4\""), 2);  // the target line and its legend
  EXPECT_TRUE(absl::StrContains(svg, ">target 475</text>")) << svg;
  EXPECT_TRUE(absl::StrContains(svg, ">evaluation</text>"));
  EXPECT_TRUE(absl::StrContains(svg, ">training</text>"));
  REQUIRE_PYTHON();
  std::string error;
  EXPECT_EQ(PolylinesPerPython(svg, &error), 2) << error << "\n" << svg;
}

TEST(SvgPlotTest, EscapesTextAndSkipsNonFinitePoints) {
  SvgPlot plot = TwoSeries();
  plot.title = "a < b & \"c\" > 'd'\x01";
  plot.series[0].label = "<script>alert(1)</script>";
  plot.series[1].points.push_back({NAN, 3});
  plot.series[1].points.push_back({4000, INFINITY});
  const std::string svg = RenderSvgPlot(plot);
  EXPECT_FALSE(absl::StrContains(svg, "<script>"));
  EXPECT_TRUE(absl::StrContains(svg, "a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;"));
  EXPECT_FALSE(absl::StrContains(svg, "nan"));
  EXPECT_FALSE(absl::StrContains(svg, "inf"));
  REQUIRE_PYTHON();
  std::string error;
  EXPECT_EQ(PolylinesPerPython(svg, &error), 2) << error << "\n" << svg;
}

TEST(SvgPlotTest, EmptyAndSinglePointSeriesStillParse) {
  SvgPlot plot;
  plot.title = "nothing yet";
  plot.series = {SvgSeries{"empty", "#000", {}, {}}, SvgSeries{"one", "#111", {{5, 5}}, {}}};
  const std::string svg = RenderSvgPlot(plot);
  EXPECT_EQ(Count(svg, "<polyline"), 2);
  EXPECT_EQ(Count(svg, "<circle"), 1);  // a single point gets a dot
  REQUIRE_PYTHON();
  std::string error;
  EXPECT_EQ(PolylinesPerPython(svg, &error), 2) << error << "\n" << svg;
}

TEST(SvgPlotTest, TicksAreRoundAndCoverTheRange) {
  EXPECT_EQ(NiceTicks(0, 60000, 7), (std::vector<double>{0, 10000, 20000, 30000, 40000, 50000,
                                                          60000}));
  EXPECT_EQ(NiceTicks(-3, 7, 6), (std::vector<double>{-2, 0, 2, 4, 6}));
  EXPECT_EQ(NiceTicks(5, 5, 6), (std::vector<double>{5}));
  EXPECT_EQ(ShortNumber(60000), "60k");
  EXPECT_EQ(ShortNumber(1500000), "1.5M");
  EXPECT_EQ(ShortNumber(475), "475");
  EXPECT_EQ(ShortNumber(0.25), "0.25");
  EXPECT_EQ(ShortNumber(0), "0");
}

TEST(LearningCurveTest, ReadsTheEvaluatorsCurveAndSkipsTheHeader) {
  const std::string dir = MakeTempDir("curve");
  std::ofstream(dir + "/eval_curve.csv")
      << "learner_step,policy_version,mean_return,min,max,episodes\n"
         "1000,1000,21.5,9,40,10\n2000,2000,180,120,260,10\n3000,3000,4";  // last row partial
  auto eval = ReadEvalCurve(dir + "/eval_curve.csv");
  ASSERT_TRUE(eval.ok()) << eval.status();
  ASSERT_EQ(eval->size(), 2u);
  EXPECT_EQ((*eval)[1].learner_step, 2000);
  EXPECT_DOUBLE_EQ((*eval)[1].mean_return, 180);
  EXPECT_DOUBLE_EQ((*eval)[1].min_return, 120);
  EXPECT_DOUBLE_EQ((*eval)[1].max_return, 260);
  EXPECT_TRUE(absl::IsNotFound(ReadEvalCurve(dir + "/missing.csv").status()));
}

JobStatus Status(const std::string& name, int64_t steps, int64_t episodes, double mean_return) {
  JobStatus s;
  s.set_name(name);
  s.set_env_steps(steps);
  s.set_episodes(episodes);
  s.set_mean_return(mean_return);
  return s;
}

TEST(LearningCurveTest, RecorderKeepsOneRowPerNewEpisodeCountAndRestartsForAnOlderRun) {
  const std::string dir = MakeTempDir("train") + "/job";
  {
    TrainReturnRecorder r(dir);
    r.Record(Status("job", 100, 0, 0));   // no episode yet: nothing
    r.Record(Status("job", 200, 3, 15));
    r.Record(Status("job", 250, 3, 15));  // no new episode
    r.Record(Status("job", 400, 7, 22.5));
  }
  auto rows = ReadTrainReturn(dir + "/train_return.csv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].env_steps, 200);
  EXPECT_EQ((*rows)[1].env_steps, 400);
  EXPECT_DOUBLE_EQ((*rows)[1].mean_return, 22.5);
  {
    TrainReturnRecorder again(dir);  // a second watch of the same job appends
    again.Record(Status("job", 400, 7, 22.5));
    again.Record(Status("job", 600, 9, 30));
  }
  EXPECT_EQ(ReadTrainReturn(dir + "/train_return.csv")->size(), 3u);
  {
    TrainReturnRecorder older(dir);  // a new job of the same name: starts over
    older.Record(Status("job", 50, 1, 9));
  }
  rows = ReadTrainReturn(dir + "/train_return.csv");
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].env_steps, 50);
}

TEST(LearningCurveTest, WritesOnePolylinePerSeriesAndTheTargetOfTheStopRule) {
  const std::string dir = MakeTempDir("plot_job");
  std::ofstream(dir + "/eval_curve.csv")
      << "learner_step,policy_version,mean_return,min,max,episodes\n"
         "1000,1000,21.5,9,40,10\n2000,2000,180,120,260,10\n3000,3000,480,470,500,10\n";
  JobStatus status = Status("cartpole", 3000, 90, 200);
  status.set_state(JOB_SUCCEEDED);
  status.mutable_spec()->set_algorithm("stream_ac");
  status.mutable_spec()->set_env("CartPole-v1");
  status.mutable_spec()->mutable_stop()->set_target_eval_return(475);

  // The evaluation only (nobody watched): one polyline, said so.
  auto what = WriteLearningCurve(dir, status, dir + "/a.svg");
  ASSERT_TRUE(what.ok()) << what.status();
  EXPECT_TRUE(absl::StrContains(*what, "evaluation (3 points)")) << *what;
  EXPECT_TRUE(absl::StrContains(*what, "no training-return series")) << *what;
  std::string svg = ReadFileToString(dir + "/a.svg").value_or("");
  EXPECT_EQ(Count(svg, "<polyline"), 1);
  EXPECT_TRUE(absl::StrContains(svg, "target 475 (stop rule)")) << svg;
  EXPECT_TRUE(absl::StrContains(svg, "stream_ac on CartPole-v1, SUCCEEDED at 3000 env steps"));

  // With a recorded training return: two.
  std::ofstream(dir + "/train_return.csv")
      << "env_steps,mean_return,episodes\n500,20,30\n1500,60,60\n2900,210,90\n";
  what = WriteLearningCurve(dir, status, dir + "/b.svg");
  ASSERT_TRUE(what.ok()) << what.status();
  EXPECT_TRUE(absl::StrContains(*what, "training return (3 points)")) << *what;
  svg = ReadFileToString(dir + "/b.svg").value_or("");
  EXPECT_EQ(Count(svg, "<polyline"), 2);

  // No target in the stop rule: no target line.
  status.mutable_spec()->mutable_stop()->clear_target_eval_return();
  ASSERT_TRUE(WriteLearningCurve(dir, status, dir + "/c.svg").ok());
  EXPECT_FALSE(absl::StrContains(ReadFileToString(dir + "/c.svg").value_or(""), "target"));

  // Nothing to draw.
  EXPECT_TRUE(absl::IsNotFound(
      WriteLearningCurve(MakeTempDir("empty_job"), status, dir + "/d.svg").status()));

  REQUIRE_PYTHON();
  std::string error;
  EXPECT_EQ(PolylinesPerPython(ReadFileToString(dir + "/a.svg").value_or(""), &error), 1) << error;
  EXPECT_EQ(PolylinesPerPython(ReadFileToString(dir + "/b.svg").value_or(""), &error), 2) << error;
}

TEST(MonitorConfigTest, JobsAreTheComposeServiceNames) {
  EXPECT_EQ(PrometheusJob("actor-0"), "actor");
  EXPECT_EQ(PrometheusJob("actor-12"), "actor");
  for (const char* same : {"replay", "preference", "learner", "evaluator", "prometheus"}) {
    EXPECT_EQ(PrometheusJob(same), same);
  }
}

TEST(MonitorConfigTest, GeneratedConfigPassesPromtoolWithTheProjectsAlertRules) {
  const std::vector<ScrapeTarget> targets = {{"prometheus", 9090}, {"replay", 40001},
                                             {"preference", 40002}, {"learner", 40003},
                                             {"actor-0", 40004}, {"actor-1", 40005},
                                             {"evaluator", 40006}};
  const std::string config = PrometheusConfig(targets, absl::Seconds(5), "alerts.yml", "test");
  EXPECT_TRUE(absl::StrContains(config, "scrape_interval: 5s"));
  EXPECT_TRUE(absl::StrContains(config, "scrape_timeout: 5s"));
  EXPECT_EQ(Count(config, "job_name: \"actor\""), 1);
  EXPECT_EQ(Count(config, "- targets:"), 7);
  EXPECT_TRUE(absl::StrContains(config, "process: \"actor-1\""));
  // Every job the alert rules name (RlxProcessDown) is scraped.
  auto alerts = ReadFileToString(std::string(RLX_SOURCE_DIR) + "/deploy/prometheus/alerts.yml");
  ASSERT_TRUE(alerts.ok());
  ASSERT_TRUE(absl::StrContains(*alerts, "job=~\"replay|learner|evaluator|actor|preference\""));
  for (const char* job : {"replay", "learner", "evaluator", "actor", "preference"}) {
    EXPECT_TRUE(absl::StrContains(config, absl::StrCat("job_name: \"", job, "\""))) << job;
  }

  const char* promtool = "/usr/bin/promtool";
  if (::access(promtool, X_OK) != 0) GTEST_SKIP() << "promtool (Debian package prometheus) missing";
  const std::string dir = MakeTempDir("monitor_config");
  ASSERT_TRUE(WriteStringAtomically(dir + "/alerts.yml", *alerts).ok());
  ASSERT_TRUE(WriteStringAtomically(dir + "/prometheus.yml", config).ok());
  ToolRun run = RunTool({promtool, "check", "config", dir + "/prometheus.yml"});
  EXPECT_EQ(run.code, 0) << run.output << "\n" << config;
  EXPECT_TRUE(absl::StrContains(run.output, "SUCCESS: 5 rules found")) << run.output;

  // One second, the floor: the timeout follows the interval.
  const std::string fast = PrometheusConfig(targets, absl::Milliseconds(10), "", "");
  EXPECT_TRUE(absl::StrContains(fast, "scrape_interval: 1s"));
  EXPECT_FALSE(absl::StrContains(fast, "rule_files"));
  ASSERT_TRUE(WriteStringAtomically(dir + "/fast.yml", fast).ok());
  run = RunTool({promtool, "check", "config", dir + "/fast.yml"});
  EXPECT_EQ(run.code, 0) << run.output << "\n" << fast;
}

TEST(MonitorConfigTest, AlertRulesAreFoundAboveTheBinaryOrInTheSourceTree) {
  // A build tree inside the source tree: <src>/build/bin/rlctl.
  const std::vector<std::string> c = AlertRulesCandidates("/src/build/bin/rlctl");
  ASSERT_GE(c.size(), 3u);
  EXPECT_EQ(c[0], "/src/build/bin/deploy/prometheus/alerts.yml");
  EXPECT_EQ(c[1], "/src/build/deploy/prometheus/alerts.yml");
  EXPECT_EQ(c[2], "/src/deploy/prometheus/alerts.yml");
  // The compile-time source tree comes last.
  EXPECT_EQ(c.back(), std::string(RLX_SOURCE_DIR) + "/deploy/prometheus/alerts.yml");
  // Installed elsewhere (no tree above it): the source tree it was built from.
  auto found = FindAlertRules("", "/nowhere/bin/rlctl");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, std::string(RLX_SOURCE_DIR) + "/deploy/prometheus/alerts.yml");
  // An explicit flag must exist.
  auto missing = FindAlertRules("/nowhere/alerts.yml", "/nowhere/bin/rlctl");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "--alert_rules")) << missing.status();
  EXPECT_TRUE(absl::IsNotFound(CheckPrometheusBinary("/nowhere/prometheus")));
  EXPECT_TRUE(absl::StrContains(CheckPrometheusBinary("/nowhere/prometheus").message(),
                                "Debian's package 'prometheus'"));
}

}  // namespace
}  // namespace rlx::cli
