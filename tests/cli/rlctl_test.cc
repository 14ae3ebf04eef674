// rlctl's commands in-process against a fake JobService, and the real binary
// for help and job-file errors (one line on stderr, non-zero exit).
#include "cli/rlctl.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "cli/local_cluster.h"
#include "core/file_util.h"
#include "core/server.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "job.grpc.pb.h"
#include "tests/test_util.h"

namespace rlx::cli {
namespace {

class FakeJobService final : public JobService::Service {
 public:
  explicit FakeJobService(JobState final_state) : final_state_(final_state) {}

  grpc::Status Submit(grpc::ServerContext*, const SubmitJobRequest* request,
                      JobStatus* status) override {
    absl::MutexLock lock(&mu_);
    submitted_.push_back(request->spec());
    status->set_name(request->spec().name());
    status->set_state(JOB_QUEUED);
    return grpc::Status::OK;
  }
  grpc::Status Get(grpc::ServerContext*, const GetJobRequest* request, JobStatus* status) override {
    if (request->name() == "zero") {  // evaluated once, at step 0, with return 0
      *status = Running();
      status->set_name("zero");
      status->set_last_eval_return(0);
      status->set_last_eval_step(0);
      status->set_best_eval_return(0);
      return grpc::Status::OK;
    }
    if (request->name() == "fresh") {  // never evaluated
      *status = Running();
      status->set_name("fresh");
      status->clear_last_eval_return();
      status->set_last_eval_step(0);
      status->clear_best_eval_return();
      return grpc::Status::OK;
    }
    if (request->name() == "plotted") {  // finished, with its curve on disk
      absl::MutexLock lock(&mu_);
      *status = Final();
      status->set_name("plotted");
      status->set_curve_path(plotted_curve_);
      status->mutable_spec()->set_algorithm("stream_ac");
      status->mutable_spec()->set_env("CartPole-v1");
      status->mutable_spec()->mutable_stop()->set_target_eval_return(475);
      return grpc::Status::OK;
    }
    if (request->name() != "cartpole") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no job named '" + request->name() + "'");
    }
    absl::MutexLock lock(&mu_);
    *status = watched_to_end_ ? Final() : Running();
    return grpc::Status::OK;
  }
  grpc::Status List(grpc::ServerContext*, const ListJobsRequest*, ListJobsResponse* r) override {
    *r->add_jobs() = Running();
    return grpc::Status::OK;
  }
  grpc::Status Cancel(grpc::ServerContext*, const CancelJobRequest* request,
                      JobStatus* status) override {
    *status = Running();
    status->set_state(JOB_CANCELLED);
    return grpc::Status::OK;
  }
  grpc::Status Watch(grpc::ServerContext*, const WatchJobRequest* request,
                     grpc::ServerWriter<JobStatus>* writer) override {
    if (request->name() != "cartpole") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no job");
    JobStatus s = Running();
    writer->Write(s);
    s.set_env_steps(2000);
    writer->Write(s);
    // The last streamed status predates the last evaluation report, which
    // only a Get after the end shows (Final()).
    JobStatus last = Final();
    last.set_last_eval_return(120);
    last.set_last_eval_step(1000);
    last.set_best_eval_return(120);
    {
      absl::MutexLock lock(&mu_);
      watched_to_end_ = true;
    }
    writer->Write(last);
    return grpc::Status::OK;
  }
  std::vector<JobSpec> submitted() {
    absl::MutexLock lock(&mu_);
    return submitted_;
  }
  void set_plotted_curve(const std::string& path) {
    absl::MutexLock lock(&mu_);
    plotted_curve_ = path;
  }

 private:
  JobStatus Final() const {
    JobStatus s = Running();
    s.set_env_steps(2000);
    s.set_state(final_state_);
    s.set_message(final_state_ == JOB_SUCCEEDED ? "target_eval_return reached" : "diverged");
    s.set_started_unix(100);
    s.set_finished_unix(112.5);
    s.set_curve_path("/out/cartpole/eval_curve.csv");
    s.set_last_eval_return(480);
    s.set_last_eval_step(2000);
    s.set_best_eval_return(480);
    return s;
  }
  static JobStatus Running() {
    JobStatus s;
    s.set_name("cartpole");
    s.set_state(JOB_RUNNING);
    s.set_env_steps(1000);
    s.set_episodes(40);
    s.set_mean_return(87.5);
    s.set_last_eval_return(120);
    s.set_last_eval_step(1000);
    s.set_best_eval_return(120);
    s.set_policy_version(990);
    s.set_env_steps_per_second(500);
    return s;
  }
  const JobState final_state_;
  absl::Mutex mu_;
  std::vector<JobSpec> submitted_ ABSL_GUARDED_BY(mu_);
  bool watched_to_end_ ABSL_GUARDED_BY(mu_) = false;
  std::string plotted_curve_ ABSL_GUARDED_BY(mu_);
};

struct Result {
  int code;
  std::string out, err;
};

Result Rlctl(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = RunRlctl(args, RlctlIo{&out, &err, false});
  return {code, out.str(), err.str()};
}

std::string WriteJob(const std::string& text) {
  const std::string path = MakeTempDir("rlctl_job") + "/job.textproto";
  std::ofstream(path) << text;
  return path;
}

bool OneLine(const std::string& s) {
  return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

class RlctlTest : public ::testing::Test {
 protected:
  void Start(JobState final_state) {
    service_ = std::make_unique<FakeJobService>(final_state);
    auto server = StartGrpcServer("127.0.0.1:0", {service_.get()}, &port_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    if (server_) StopGrpcServer(server_.get(), absl::Seconds(1));
  }
  std::string Address() const { return absl::StrCat("--address=127.0.0.1:", port_); }

  std::unique_ptr<FakeJobService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(RlctlTest, HealthReportsServingServersAndFailsOnDeadOnes) {
  Start(JOB_SUCCEEDED);  // StartGrpcServer turns the health service on
  Result ok = Rlctl({"health", absl::StrCat("127.0.0.1:", port_)});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("SERVING"), std::string::npos);
  StopGrpcServer(server_.get(), absl::Seconds(1));
  server_.reset();
  Result dead = Rlctl({"health", absl::StrCat("127.0.0.1:", port_), "--timeout_ms=500"});
  EXPECT_EQ(dead.code, 1);
  EXPECT_TRUE(OneLine(dead.err)) << dead.err;
}

TEST_F(RlctlTest, SubmitSendsTheParsedSpecAndPrintsTheName) {
  Start(JOB_SUCCEEDED);
  const std::string job = WriteJob(
      "name: \"cartpole\" algorithm: \"stream_ac\" env: \"CartPole-v1\" "
      "stop { max_env_steps: 100 }");
  Result r = Rlctl({"submit", job, Address()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "cartpole\n");
  ASSERT_EQ(service_->submitted().size(), 1u);
  EXPECT_EQ(service_->submitted()[0].env(), "CartPole-v1");
}

TEST_F(RlctlTest, StatusListAndCancelPrintStatusLines) {
  Start(JOB_SUCCEEDED);
  Result status = Rlctl({"status", "cartpole", Address()});
  EXPECT_EQ(status.code, 0) << status.err;
  for (const char* want : {"cartpole", "RUNNING", "steps=1000", "episodes=40", "return=87.5",
                           "eval=120.0@1000", "version=990"}) {
    EXPECT_TRUE(absl::StrContains(status.out, want)) << want << " in " << status.out;
  }
  EXPECT_EQ(Rlctl({"list", Address()}).code, 0);
  Result cancel = Rlctl({"cancel", "cartpole", Address()});
  EXPECT_EQ(cancel.code, 0);
  EXPECT_TRUE(absl::StrContains(cancel.out, "CANCELLED"));
  Result missing = Rlctl({"status", "nope", Address()});
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(OneLine(missing.err)) << missing.err;
  EXPECT_TRUE(absl::StartsWith(missing.err, "rlctl: status: no job named 'nope'")) << missing.err;
}

TEST_F(RlctlTest, WatchSucceedsWithSummary) {
  Start(JOB_SUCCEEDED);
  Result r = Rlctl({"watch", "cartpole", Address(), "--interval_ms=50"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "2000 steps (500/s)")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "job cartpole SUCCEEDED: target_eval_return reached"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "in 12.5 s")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "/out/cartpole/eval_curve.csv")) << r.out;
}

TEST_F(RlctlTest, WatchEndsWithAFreshStatusNotTheLastStreamedOne) {
  Start(JOB_SUCCEEDED);
  Result r = Rlctl({"watch", "cartpole", Address(), "--interval_ms=50"});
  EXPECT_EQ(r.code, 0) << r.err;
  // The stream's last status shows the evaluation before the last report (120).
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 3u) << r.out;
  const std::string& final_progress = lines[lines.size() - 3];
  EXPECT_TRUE(absl::StrContains(final_progress, "SUCCEEDED")) << r.out;
  EXPECT_TRUE(absl::StrContains(final_progress, "eval 480.0")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "best eval 480.0")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "best eval 120.0")) << r.out;
}

TEST_F(RlctlTest, WatchOnATerminalRewritesTheLastLineWithTheFreshStatus) {
  Start(JOB_SUCCEEDED);
  std::ostringstream out, err;
  ASSERT_EQ(RunRlctl({"watch", "cartpole", Address(), "--interval_ms=50"},
                     RlctlIo{&out, &err, /*tty=*/true}),
            0)
      << err.str();
  const std::string text = out.str();
  const size_t last_rewrite = text.rfind("\r\x1b[K");
  ASSERT_NE(last_rewrite, std::string::npos) << text;
  const std::string final_line = text.substr(last_rewrite, text.find('\n', last_rewrite) - last_rewrite);
  EXPECT_TRUE(absl::StrContains(final_line, "eval 480.0")) << text;
}

TEST_F(RlctlTest, StatusShowsAnEvaluationAtStepZeroAndADashBeforeAny) {
  Start(JOB_SUCCEEDED);
  Result zero = Rlctl({"status", "zero", Address()});
  EXPECT_EQ(zero.code, 0) << zero.err;
  EXPECT_TRUE(absl::StrContains(zero.out, "eval=0.0@0 best=0.0")) << zero.out;
  Result fresh = Rlctl({"status", "fresh", Address()});
  EXPECT_EQ(fresh.code, 0) << fresh.err;
  EXPECT_TRUE(absl::StrContains(fresh.out, "eval=- version=")) << fresh.out;
  EXPECT_FALSE(absl::StrContains(fresh.out, "best=")) << fresh.out;
}

TEST_F(RlctlTest, WatchOfAFailedJobExitsNonZero) {
  Start(JOB_FAILED);
  Result r = Rlctl({"watch", "cartpole", Address()});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::StrContains(r.out, "job cartpole FAILED: diverged")) << r.out;
  Result missing = Rlctl({"watch", "nope", Address()});
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(OneLine(missing.err)) << missing.err;
}

// Parses a JSON document (google.protobuf.Struct: numbers are doubles).
google::protobuf::Struct ParseJson(const std::string& text) {
  google::protobuf::Struct doc;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &doc);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << text;
  return doc;
}

const google::protobuf::Value& Field(const google::protobuf::Struct& s, const std::string& key) {
  static const google::protobuf::Value* missing = new google::protobuf::Value();
  auto it = s.fields().find(key);
  EXPECT_NE(it, s.fields().end()) << key;
  return it == s.fields().end() ? *missing : it->second;
}

TEST_F(RlctlTest, StatusAsJsonHasTheFactsOfTheStatusLines) {
  Start(JOB_SUCCEEDED);
  Result r = Rlctl({"status", Address(), "--output=json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const google::protobuf::Struct doc = ParseJson(r.out);
  EXPECT_TRUE(Field(doc, "topology").has_null_value());  // --address: no local topology
  EXPECT_EQ(Field(doc, "learner_address").string_value(), absl::StrCat("127.0.0.1:", port_));
  const auto& jobs = Field(doc, "jobs").list_value();
  ASSERT_EQ(jobs.values_size(), 1);
  const google::protobuf::Struct& job = jobs.values(0).struct_value();
  EXPECT_EQ(Field(job, "name").string_value(), "cartpole");
  EXPECT_EQ(Field(job, "state").string_value(), "RUNNING");
  EXPECT_EQ(Field(job, "env_steps").number_value(), 1000);
  EXPECT_EQ(Field(job, "episodes").number_value(), 40);
  EXPECT_EQ(Field(job, "mean_return").number_value(), 87.5);
  EXPECT_EQ(Field(job, "last_eval_return").number_value(), 120);
  EXPECT_EQ(Field(job, "last_eval_step").number_value(), 1000);
  EXPECT_EQ(Field(job, "best_eval_return").number_value(), 120);
  EXPECT_EQ(Field(job, "policy_version").number_value(), 990);
  EXPECT_EQ(Field(job, "env_steps_per_second").number_value(), 500);

  // Before any evaluation: null, as the text shows "-".
  Result fresh = Rlctl({"status", "fresh", Address(), "--output=json"});
  ASSERT_EQ(fresh.code, 0) << fresh.err;
  const google::protobuf::Struct fresh_doc = ParseJson(fresh.out);
  const auto& fresh_job = Field(fresh_doc, "jobs").list_value().values(0).struct_value();
  EXPECT_TRUE(Field(fresh_job, "last_eval_return").has_null_value()) << fresh.out;
  EXPECT_TRUE(Field(fresh_job, "best_eval_return").has_null_value()) << fresh.out;

  Result list = Rlctl({"list", Address(), "--output=json"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(Field(ParseJson(list.out), "jobs").list_value().values_size(), 1);

  Result bad = Rlctl({"status", Address(), "--output=yaml"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(OneLine(bad.err)) << bad.err;
}

TEST_F(RlctlTest, StatusAsJsonListsTheProcessesOfTheTopologyAndTheMonitor) {
  Start(JOB_SUCCEEDED);
  const std::string state_dir = MakeTempDir("rlctl_json_state");
  Topology t;  // no supervisor recorded: as `status` sees a topology whose supervisor died
  t.learner_address = absl::StrCat("127.0.0.1:", port_);
  t.out_dir = state_dir + "/out";
  t.monitor_url = "http://127.0.0.1:9";
  ProcessRecord learner;
  learner.name = "learner";
  learner.port = port_;
  learner.metrics_port = 4321;
  learner.binary = "/bin/learner";
  learner.log = state_dir + "/logs/learner.log";
  learner.state = "backoff";
  learner.restarts = 2;
  learner.last_exit = "signal:9";
  ProcessRecord prometheus = learner;
  prometheus.name = "prometheus";
  prometheus.state = "running";
  prometheus.restarts = 0;
  prometheus.last_exit = "-";
  t.processes = {learner, prometheus};
  ASSERT_TRUE(WriteTopology(TopologyPath(state_dir), t).ok());

  Result text = Rlctl({"status", "--state_dir=" + state_dir});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_TRUE(absl::StrContains(text.out, "NO SUPERVISOR")) << text.out;
  EXPECT_TRUE(absl::StrContains(text.out, "  prometheus ")) << text.out;
  EXPECT_TRUE(absl::StrContains(text.out, "monitor    http://127.0.0.1:9")) << text.out;

  Result r = Rlctl({"status", "--state_dir=" + state_dir, "--output=json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const google::protobuf::Struct doc = ParseJson(r.out);
  const google::protobuf::Struct& topology = Field(doc, "topology").struct_value();
  EXPECT_FALSE(Field(topology, "supervised").bool_value());
  EXPECT_TRUE(Field(topology, "supervisor_pid").has_null_value());
  EXPECT_EQ(Field(topology, "monitor_url").string_value(), "http://127.0.0.1:9");
  EXPECT_EQ(Field(topology, "learner_address").string_value(), t.learner_address);
  const auto& processes = Field(topology, "processes").list_value();
  ASSERT_EQ(processes.values_size(), 2);
  const google::protobuf::Struct& p0 = processes.values(0).struct_value();
  EXPECT_EQ(Field(p0, "name").string_value(), "learner");
  EXPECT_TRUE(Field(p0, "pid").has_null_value());
  EXPECT_EQ(Field(p0, "port").number_value(), port_);
  EXPECT_EQ(Field(p0, "metrics_port").number_value(), 4321);
  EXPECT_EQ(Field(p0, "restarts").number_value(), 2);
  EXPECT_EQ(Field(p0, "state").string_value(), "backoff");
  EXPECT_EQ(Field(p0, "last_exit").string_value(), "killed by signal 9");
  const google::protobuf::Struct& p1 = processes.values(1).struct_value();
  EXPECT_EQ(Field(p1, "name").string_value(), "prometheus");
  EXPECT_TRUE(Field(p1, "last_exit").has_null_value());
  EXPECT_EQ(Field(doc, "jobs").list_value().values_size(), 1);
}

constexpr char kCurve[] =
    "learner_step,policy_version,mean_return,min,max,episodes\n"
    "500,500,20,10,31,10\n1000,1000,120,80,200,10\n2000,2000,480,475,500,10\n";

int Polylines(const std::string& path) {
  const std::string svg = ReadFileToString(path).value_or("");
  int n = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1)) {
    ++n;
  }
  return n;
}

TEST_F(RlctlTest, PlotWritesTheSvgOfTheEvaluatorsCurveWithTheTarget) {
  Start(JOB_SUCCEEDED);
  const std::string job_dir = MakeTempDir("rlctl_plot") + "/out/plotted";
  ASSERT_TRUE(MakeDirs(job_dir).ok());
  ASSERT_TRUE(WriteStringAtomically(job_dir + "/eval_curve.csv", kCurve).ok());
  service_->set_plotted_curve(job_dir + "/eval_curve.csv");

  // Default: next to the curve.
  Result r = Rlctl({"plot", "plotted", Address()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, job_dir + "/learning_curve.svg\n")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "evaluation (3 points)")) << r.out;
  EXPECT_EQ(Polylines(job_dir + "/learning_curve.svg"), 1);
  EXPECT_TRUE(absl::StrContains(ReadFileToString(job_dir + "/learning_curve.svg").value_or(""),
                                "target 475"));

  // --svg, and a training return recorded by a watch: two series.
  ASSERT_TRUE(WriteStringAtomically(job_dir + "/train_return.csv",
                                    "env_steps,mean_return,episodes\n400,15,20\n1900,300,70\n")
                  .ok());
  const std::string svg = MakeTempDir("rlctl_plot_svg") + "/sub/curve.svg";
  r = Rlctl({"plot", "plotted", Address(), "--svg=" + svg});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, svg + "\n")) << r.out;
  EXPECT_EQ(Polylines(svg), 2);

  Result missing = Rlctl({"plot", "nope", Address()});
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(OneLine(missing.err)) << missing.err;
}

TEST(RlctlPlotTest, PlotReadsTheLearnersRegistryWhenNoTopologyRuns) {
  // After `rlctl run` / `rlctl down`: no learner, but its registry and the curve stay.
  const std::string state_dir = MakeTempDir("rlctl_plot_offline");
  ASSERT_TRUE(MakeDirs(state_dir + "/out/done").ok());
  ASSERT_TRUE(WriteStringAtomically(state_dir + "/out/done/eval_curve.csv", kCurve).ok());
  ListJobsResponse registry;
  JobStatus* job = registry.add_jobs();
  job->set_name("done");
  job->set_state(JOB_SUCCEEDED);
  job->set_env_steps(2000);
  job->mutable_spec()->mutable_stop()->set_target_eval_return(475);
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(registry, &text));
  ASSERT_TRUE(MakeDirs(state_dir + "/checkpoints").ok());
  ASSERT_TRUE(WriteStringAtomically(state_dir + "/checkpoints/jobs.textproto", text).ok());

  Result r = Rlctl({"plot", "done", "--state_dir=" + state_dir});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, state_dir + "/out/done/learning_curve.svg\n")) << r.out;
  EXPECT_EQ(Polylines(state_dir + "/out/done/learning_curve.svg"), 1);

  Result unknown = Rlctl({"plot", "other", "--state_dir=" + state_dir});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_TRUE(OneLine(unknown.err)) << unknown.err;
  EXPECT_TRUE(absl::StrContains(unknown.err, "jobs.textproto")) << unknown.err;
}

TEST(RlctlErrorsTest, JobFileErrorsAreOneLineAndNonZero) {
  const std::string state = "--state_dir=" + MakeTempDir("rlctl_nostate");
  struct Case {
    std::string text, want;
  };
  for (const Case& c : std::vector<Case>{
           {"name: \"x\" num_actors: two", "malformed job file"},
           {"name: \"x\" algorithm: \"stream_ac\" env: \"Foo-v0\" stop { max_env_steps: 1 }",
            "invalid job: env:"},
           {"name: \"x\" algorithm: \"stream_ac\" env: \"CartPole-v1\" num_actors: -2 "
            "stop { max_env_steps: 1 }",
            "rlctl: submit: invalid job: num_actors: must be in [1, 1024], got -2"}}) {
    Result r = Rlctl({"submit", WriteJob(c.text), state});
    EXPECT_EQ(r.code, 1) << c.text;
    EXPECT_TRUE(OneLine(r.err)) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, c.want)) << r.err;
  }
  Result missing = Rlctl({"submit", "/nonexistent.textproto", state});
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(absl::StrContains(missing.err, "cannot read job file /nonexistent.textproto"))
      << missing.err;
  const std::string dir = MakeTempDir("rlctl_jobdir");
  Result directory = Rlctl({"submit", dir, state});
  EXPECT_EQ(directory.code, 1);
  EXPECT_TRUE(OneLine(directory.err)) << directory.err;
  EXPECT_TRUE(absl::StrContains(directory.err, "rlctl: submit: job file " + dir + " is a directory"))
      << directory.err;
  Result empty = Rlctl({"submit", WriteJob("  \n"), state});
  EXPECT_EQ(empty.code, 1);
  EXPECT_TRUE(absl::StrContains(empty.err, "is empty")) << empty.err;
  // A valid file with nowhere to send it.
  Result nowhere = Rlctl({"submit", WriteJob("name: \"x\" algorithm: \"stream_ac\" env: "
                                             "\"CartPole-v1\" stop { max_env_steps: 1 }"),
                          state});
  EXPECT_EQ(nowhere.code, 1);
  EXPECT_TRUE(absl::StrContains(nowhere.err, "no --address given")) << nowhere.err;
  // Names the cluster's learner port rather than silently trying it.
  EXPECT_TRUE(absl::StrContains(nowhere.err, "HOST:50052")) << nowhere.err;
  Result down = Rlctl({"down", state});
  EXPECT_EQ(down.code, 1);
  EXPECT_TRUE(OneLine(down.err)) << down.err;
}

TEST(RlctlErrorsTest, UnreachableLearnerIsOneLine) {
  Result r = Rlctl({"list", "--address=127.0.0.1:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "cannot reach the learner at 127.0.0.1:1")) << r.err;
}

TEST(RlctlBinaryTest, HelpAndErrorsFromTheRealBinary) {
  const std::string dir = MakeTempDir("rlctl_bin_test");
  auto help = Subprocess::Start({BinaryPath("rlctl"), "--help"}, dir + "/help.log");
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->Wait(absl::Seconds(10)), 0);
  auto help_text = ReadFileToString(dir + "/help.log");
  ASSERT_TRUE(help_text.ok());
  EXPECT_TRUE(absl::StrContains(*help_text, "usage: rlctl COMMAND")) << *help_text;

  auto bad = Subprocess::Start(
      {BinaryPath("rlctl"), "submit",
       WriteJob("name: \"x\" algorithm: \"stream_ac\" env: \"CartPole-v1\" num_actors: -2 "
                "stop { max_env_steps: 1 }")},
      dir + "/bad.log");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->Wait(absl::Seconds(10)), 1);
  auto bad_text = ReadFileToString(dir + "/bad.log");
  ASSERT_TRUE(bad_text.ok());
  EXPECT_EQ(*bad_text, "rlctl: submit: invalid job: num_actors: must be in [1, 1024], got -2\n");

  auto usage = Subprocess::Start({BinaryPath("rlctl"), "up", "--actorz=3"}, dir + "/usage.log");
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->Wait(absl::Seconds(10)), 2);
}

}  // namespace
}  // namespace rlx::cli
