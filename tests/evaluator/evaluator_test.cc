// The evaluator against an in-process fake learner (JobService +
// ParameterService publishing snapshots of a real StreamLearner), and the
// evaluator binary as a process (health, /metrics, SIGTERM).
#include "evaluator/evaluator.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "core/file_util.h"
#include "core/server.h"
#include "evaluator/greedy_evaluation.h"
#include "algorithms/registry.h"
#include "prometheus/text_serializer.h"
#include "algorithms/stream_x/learner.h"
#include "core/state_dict.h"
#include "algorithms/job_spec.h"
#include "algorithms/stream_x/job_config.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

JobSpec SmallCartPoleJob() {
  JobSpec spec;
  spec.set_name("eval_test");
  spec.set_algorithm("stream_ac");
  spec.set_env("CartPole-v1");
  spec.mutable_stream_x()->add_hidden(16);
  spec.mutable_stream_x()->add_hidden(16);
  spec.mutable_stop()->set_max_env_steps(1000);
  spec.mutable_eval()->set_every_learner_steps(100);
  spec.mutable_eval()->set_episodes(3);
  spec.mutable_eval()->set_seed(7);
  spec.set_seed(3);
  EXPECT_TRUE(ValidateJobSpec(&spec).ok());
  return spec;
}

// Hands out one assignment, then UNAVAILABLE; records evaluation reports.
class FakeJobService final : public JobService::Service {
 public:
  explicit FakeJobService(JobSpec spec) : spec_(std::move(spec)) {}

  grpc::Status LeaseAssignment(grpc::ServerContext*, const LeaseAssignmentRequest* request,
                               Assignment* assignment) override {
    absl::MutexLock lock(&mu_);
    roles_.push_back(request->role());
    if (leased_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no job");
    leased_ = true;
    assignment->set_job_name(spec_.name());
    *assignment->mutable_spec() = spec_;
    return grpc::Status::OK;
  }
  grpc::Status ReportEvaluation(grpc::ServerContext*, const EvaluationReport* report,
                                EvaluationAck*) override {
    absl::MutexLock lock(&mu_);
    reports_.push_back(*report);
    return grpc::Status::OK;
  }
  std::vector<EvaluationReport> reports() {
    absl::MutexLock lock(&mu_);
    return reports_;
  }
  std::vector<std::string> roles() {
    absl::MutexLock lock(&mu_);
    return roles_;
  }

 private:
  const JobSpec spec_;
  absl::Mutex mu_;
  bool leased_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<EvaluationReport> reports_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> roles_ ABSL_GUARDED_BY(mu_);
};

// Publishes the given snapshots as versions, then ends the stream (job over).
class FakeParameterService final : public ParameterService::Service {
 public:
  explicit FakeParameterService(std::vector<std::pair<int64_t, StateDict>> versions)
      : versions_(std::move(versions)) {}

  grpc::Status WatchParameters(grpc::ServerContext*, const WatchParametersRequest* request,
                               grpc::ServerWriter<Parameters>* writer) override {
    for (const auto& [version, dict] : versions_) {
      if (version <= request->after_version()) continue;
      Parameters p;
      p.set_job_name(request->job_name());
      p.set_version(version);
      for (const NamedTensor& t : dict) *p.add_tensors() = t;
      if (!writer->Write(p)) return grpc::Status::CANCELLED;
    }
    return grpc::Status::OK;
  }

 private:
  std::vector<std::pair<int64_t, StateDict>> versions_;
};

std::vector<std::pair<int64_t, StateDict>> AsParameters(
    const std::vector<std::pair<int64_t, PolicySnapshot>>& snapshots) {
  std::vector<std::pair<int64_t, StateDict>> out;
  for (const auto& [version, snapshot] : snapshots) {
    StateDict dict;
    SaveSnapshot(snapshot, &dict);
    out.emplace_back(version, std::move(dict));
  }
  return out;
}

std::vector<std::pair<int64_t, PolicySnapshot>> LearnerSnapshots(const JobSpec& spec,
                                                                 std::vector<int64_t> versions) {
  auto problem = JobProblem(spec);
  auto config = JobStreamConfig(spec);
  EXPECT_TRUE(problem.ok() && config.ok());
  auto learner = StreamLearner::Create(*problem, *config, spec.seed());
  EXPECT_TRUE(learner.ok()) << learner.status();
  std::vector<std::pair<int64_t, PolicySnapshot>> out;
  for (int64_t v : versions) {
    PolicySnapshot s;
    (*learner)->GetSnapshot(&s);
    s.learner_steps = v;  // stands in for v learned transitions
    out.emplace_back(v, s);
  }
  return out;
}

struct FakeLearner {
  FakeJobService jobs;
  FakeParameterService parameters;
  std::unique_ptr<grpc::Server> server;
  int port = 0;

  FakeLearner(const JobSpec& spec, std::vector<int64_t> versions)
      : FakeLearner(spec, AsParameters(LearnerSnapshots(spec, std::move(versions)))) {}
  FakeLearner(const JobSpec& spec, std::vector<std::pair<int64_t, StateDict>> versions)
      : jobs(spec), parameters(std::move(versions)) {
    auto s = StartGrpcServer("127.0.0.1:0", {&jobs, &parameters}, &port);
    EXPECT_TRUE(s.ok()) << s.status();
    server = std::move(*s);
  }
  ~FakeLearner() { StopGrpcServer(server.get(), absl::Seconds(1)); }
  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                               grpc::InsecureChannelCredentials());
  }
};

std::vector<std::string> Lines(const std::string& path) {
  auto contents = ReadFileToString(path);
  if (!contents.ok()) return {};
  return absl::StrSplit(*contents, '\n', absl::SkipEmpty());
}

TEST(EvaluatorTest, EvaluatesEveryIntervalReportsAndWritesCurveAndBestPolicy) {
  const JobSpec spec = SmallCartPoleJob();
  // 0: no evaluation; 100 and 250 cross multiples of 100; 260 does not.
  FakeLearner learner(spec, {0, 100, 250, 260});
  const std::string out_dir = MakeTempDir("evaluator_test");
  prometheus::Registry registry;
  EvaluatorOptions options;
  options.out_dir = out_dir;
  options.max_backoff = absl::Milliseconds(200);
  auto evaluator = Evaluator::Create(learner.Channel(), options, &registry);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  absl::Status run_status;
  std::thread runner([&] { run_status = (*evaluator)->Run(); });
  const bool done = WaitFor([&] { return learner.jobs.reports().size() >= 2; }, absl::Seconds(60));
  // Back to leasing after the stream ended: a second lease attempt arrives.
  WaitFor([&] { return learner.jobs.roles().size() >= 2; }, absl::Seconds(10));
  (*evaluator)->Stop();
  runner.join();
  ASSERT_TRUE(done);
  EXPECT_TRUE(run_status.ok()) << run_status;
  EXPECT_EQ(learner.jobs.roles().front(), "evaluator");
  EXPECT_GE(learner.jobs.roles().size(), 2u);

  const auto reports = learner.jobs.reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].job_name(), "eval_test");
  EXPECT_EQ(reports[0].policy_version(), 100);
  EXPECT_EQ(reports[1].policy_version(), 250);
  EXPECT_EQ(reports[1].learner_steps(), 250);
  ASSERT_EQ(reports[0].returns_size(), 3);
  double sum = 0;
  for (double r : reports[0].returns()) sum += r;
  EXPECT_DOUBLE_EQ(reports[0].mean_return(), sum / 3);
  EXPECT_EQ((*evaluator)->evaluations(), 2);

  const std::string dir = out_dir + "/eval_test";
  const auto lines = Lines(dir + "/eval_curve.csv");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "learner_step,policy_version,mean_return,min,max,episodes");
  EXPECT_TRUE(absl::StartsWith(lines[1], "100,100,")) << lines[1];
  EXPECT_TRUE(absl::StartsWith(lines[2], "250,250,")) << lines[2];
  EXPECT_TRUE(absl::EndsWith(lines[2], ",3")) << lines[2];

  auto best = ReadStateFile(dir + "/best_policy.ckpt");
  ASSERT_TRUE(best.ok()) << best.status();
  PolicySnapshot snapshot;
  ASSERT_TRUE(LoadSnapshot(*best, &snapshot).ok());
  EXPECT_TRUE(snapshot.learner_steps == 100 || snapshot.learner_steps == 250);
  if (reports[1].mean_return() > reports[0].mean_return()) {
    EXPECT_EQ(snapshot.learner_steps, 250);
  } else {
    EXPECT_EQ(snapshot.learner_steps, 100);
  }
}

TEST(EvaluatorTest, StopEndsTheLeaseRetryLoop) {
  prometheus::Registry registry;
  EvaluatorOptions options;
  options.out_dir = MakeTempDir("evaluator_stop");
  auto evaluator = Evaluator::Create(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()), options, &registry);
  ASSERT_TRUE(evaluator.ok());
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    EXPECT_TRUE((*evaluator)->Run().ok());
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const absl::Time stop_at = absl::Now();
  (*evaluator)->Stop();
  EXPECT_TRUE(WaitFor([&] { return returned.load(); }, absl::Seconds(5)));
  runner.join();
  EXPECT_LT(absl::Now() - stop_at, absl::Seconds(3));
}

TEST(GreedyEvaluationTest, SameIndexRepeatsAndEpisodesUseDistinctSeeds) {
  const JobSpec spec = SmallCartPoleJob();
  const auto snapshots = LearnerSnapshots(spec, {100});
  StateDict dict;
  SaveSnapshot(snapshots[0].second, &dict);
  auto a = EvaluateGreedy(spec, dict, 0, 3);
  auto b = EvaluateGreedy(spec, dict, 0, 3);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status();
  EXPECT_EQ(a->returns, b->returns);
  const uint64_t base = EvalSeedBase(spec);
  EXPECT_NE(EvalEpisodeSeed(base, 0, 0), EvalEpisodeSeed(base, 0, 1));
  EXPECT_NE(EvalEpisodeSeed(base, 0, 0), EvalEpisodeSeed(base, 1, 0));
  EXPECT_EQ(base, 7u);
}

TEST(GreedyEvaluationTest, MultiAgentJobIsEvaluatedAtEveryAgentCountWithAPicture) {
  JobSpec spec;
  spec.set_name("swarm");
  spec.set_algorithm("ppo");
  spec.set_env("Navigation-v0");
  spec.set_env_options("agents=4,episode_steps=60");
  spec.mutable_ppo()->set_network("gnn");
  spec.mutable_stop()->set_max_env_steps(10000);
  spec.mutable_eval()->set_every_learner_steps(1000);
  spec.mutable_eval()->add_agents(4);
  spec.mutable_eval()->add_agents(12);
  ASSERT_TRUE(ValidateJobSpec(&spec).ok()) << ValidateJobSpec(&spec);
  auto algorithm = FindAlgorithm("ppo");
  ASSERT_TRUE(algorithm.ok());
  auto learner = (*algorithm)->make_learner(spec, LearnerContext());
  ASSERT_TRUE(learner.ok()) << learner.status();
  StateDict dict;
  (*learner)->Parameters(&dict);
  auto a = EvaluateGreedy(spec, dict, 0, 2);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->swarm.size(), 2u);
  EXPECT_EQ(a->swarm[0].agents, 4);
  EXPECT_EQ(a->swarm[1].agents, 12);
  EXPECT_EQ(a->returns.size(), 2u);  // the first N's episodes
  // Every episode runs its 60 steps (nobody is home that early): 2 x (4 + 12) x 60.
  EXPECT_EQ(a->env_steps, 2 * (4 + 12) * 60);
  for (const SwarmFigures& f : a->swarm) {
    EXPECT_GE(f.success_rate, 0.0);
    EXPECT_LE(f.success_rate, 1.0);
    EXPECT_GE(f.collisions_per_agent, 0.0);
  }
  EXPECT_TRUE(absl::StrContains(a->paths_svg, "<svg"));
  EXPECT_TRUE(absl::StrContains(a->paths_svg, "N=4"));
  auto b = EvaluateGreedy(spec, dict, 0, 2);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->returns, b->returns);  // same evaluation index, same episodes
}

// The multi-agent figures per N reach /metrics (the deploy test's CartPole
// topology has no multi-agent job, so this is where they are checked), and
// the paths picture lands beside the curve.
TEST(EvaluatorTest, MultiAgentJobExposesFiguresPerAgentCountAndWritesPaths) {
  JobSpec spec;
  spec.set_name("swarm_eval");
  spec.set_algorithm("ppo");
  spec.set_env("Navigation-v0");
  spec.set_env_options("agents=4,episode_steps=40");
  spec.mutable_ppo()->set_network("gnn");
  spec.mutable_stop()->set_max_env_steps(10000);
  spec.mutable_eval()->set_every_learner_steps(100);
  spec.mutable_eval()->set_episodes(2);
  spec.mutable_eval()->add_agents(4);
  spec.mutable_eval()->add_agents(16);
  ASSERT_TRUE(ValidateJobSpec(&spec).ok()) << ValidateJobSpec(&spec);
  auto learner_made = (*FindAlgorithm("ppo"))->make_learner(spec, LearnerContext());
  ASSERT_TRUE(learner_made.ok());
  StateDict dict;
  (*learner_made)->Parameters(&dict);
  FakeLearner learner(spec, std::vector<std::pair<int64_t, StateDict>>{{100, dict}});
  const std::string out_dir = MakeTempDir("evaluator_swarm_test");
  prometheus::Registry registry;
  EvaluatorOptions options;
  options.out_dir = out_dir;
  options.max_backoff = absl::Milliseconds(200);
  auto evaluator = Evaluator::Create(learner.Channel(), options, &registry);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  std::thread runner([&] { (void)(*evaluator)->Run(); });
  const bool done = WaitFor([&] { return learner.jobs.reports().size() >= 1; }, absl::Seconds(60));
  (*evaluator)->Stop();
  runner.join();
  ASSERT_TRUE(done);
  EXPECT_EQ(learner.jobs.reports()[0].returns_size(), 2);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  for (const char* name : {"rl_evaluator_swarm_success_ratio", "rl_evaluator_swarm_collisions_per_agent",
                           "rl_evaluator_swarm_time_to_goal_seconds"}) {
    for (const char* n : {"4", "16"}) {
      EXPECT_TRUE(absl::StrContains(text, absl::StrCat(name, "{agents=\"", n, "\"}")))
          << name << " N=" << n << " missing from\n" << text;
    }
  }
  auto svg = ReadFileToString(out_dir + "/swarm_eval/paths.svg");
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_TRUE(absl::StrContains(*svg, "N=4"));
}

TEST(EvaluatorProcessTest, ServesMetricsAndExitsCleanlyOnSigterm) {
  const JobSpec spec = SmallCartPoleJob();
  FakeLearner learner(spec, {0, 100});
  const std::string dir = MakeTempDir("evaluator_proc");
  auto p = Subprocess::Start({BinaryPath("evaluator"), absl::StrCat("--learner=127.0.0.1:", learner.port),
                              "--out_dir=" + dir + "/out", "--metrics_port=-1", "--port=0",
                              "--port_file=" + dir + "/port"},
                             dir + "/evaluator.log");
  ASSERT_TRUE(p.ok()) << p.status();
  auto contents = WaitForFileContents(dir + "/port", absl::Seconds(30));
  ASSERT_TRUE(contents.ok()) << contents.status();
  std::vector<std::string> lines = absl::StrSplit(*contents, '\n', absl::SkipEmpty());
  int metrics_port = 0;
  ASSERT_EQ(lines.size(), 2u);
  ASSERT_TRUE(absl::SimpleAtoi(lines[1], &metrics_port));
  ASSERT_TRUE(WaitFor([&] { return !learner.jobs.reports().empty(); }, absl::Seconds(60)));
  // The report goes out first; the curve, checkpoint and counters follow.
  std::string metrics;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto m = HttpGet("127.0.0.1", metrics_port, "/metrics");
        if (m.ok()) metrics = *m;
        return absl::StrContains(metrics, "rl_evaluator_evaluations_total 1");
      },
      absl::Seconds(10)))
      << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "rl_evaluator_episodes_total 3")) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "rl_evaluator_best_return")) << metrics;
  p->Signal(SIGTERM);
  EXPECT_EQ(p->Wait(absl::Seconds(15)), 0);
  EXPECT_TRUE(FileExists(dir + "/out/eval_test/best_policy.ckpt"));
}

}  // namespace
}  // namespace rlx
