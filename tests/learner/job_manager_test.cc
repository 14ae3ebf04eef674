// The learner's job manager over a real in-process replay server: job
// validation, the queue of jobs, and the distributed learner reproducing the
// in-process trainer exactly with one lock-step actor (lag 0).
#include "learner/job_manager.h"

#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/file_util.h"
#include "core/server.h"
#include "core/status_macros.h"
#include "envs/registry.h"
#include "learner/algorithms/actor.h"
#include "learner/algorithms/state_io.h"
#include "learner/job_spec.h"
#include "learner/stream_trainer.h"
#include "learner/transition_codec.h"
#include "replay/client.h"
#include "replay/replay_service.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

// Steps one env with a StreamActor in RunStreamTraining's order (Act, Step,
// Observe; then, after the caller's sync, Reset + Observe at an episode end)
// and encodes each transition as a replay item of one stream.
class TransitionSource {
 public:
  TransitionSource(StreamActor* actor, Env* env, std::string job, int64_t stream_id)
      : actor_(actor), env_(env), job_(std::move(job)), stream_id_(stream_id) {}
  void Start(uint64_t seed) {
    env_->Reset(seed, &t_.observation);
    actor_->Observe(t_.observation, true);
    t_.episode_start = true;
  }
  // Acts and steps the env; the item carries policy_version.
  absl::StatusOr<Item> Step(int64_t policy_version) {
    ActorAction action;
    RETURN_IF_ERROR(actor_->Act(false, &action));
    RETURN_IF_ERROR(env_->Step(action.env_action, &result_));
    actor_->Observe(result_.observation, false);
    t_.action = action.action;
    t_.reward = result_.reward;
    t_.next_observation = result_.observation;
    t_.terminated = result_.terminated;
    t_.truncated = result_.truncated;
    ItemMetadata md;
    md.set_job_id(job_);
    md.set_actor_id(stream_id_);
    md.set_episode_id(episode_);
    md.set_step_index(step_in_episode_++);
    md.set_policy_version(policy_version);
    return EncodeTransition(t_, md);
  }
  // After the step's item is handled: a new episode at the end of one.
  void EndStep() {
    if (result_.done()) {
      env_->Reset(std::nullopt, &t_.observation);
      actor_->Observe(t_.observation, true);
      t_.episode_start = true;
      ++episode_;
      step_in_episode_ = 0;
    } else {
      std::swap(t_.observation, t_.next_observation);
      t_.episode_start = false;
    }
  }

 private:
  StreamActor* actor_;
  Env* env_;
  const std::string job_;
  const int64_t stream_id_;
  Transition t_;
  StepResult result_;
  int64_t episode_ = 0, step_in_episode_ = 0;
};

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto replay = ReplayServiceImpl::Create(ReplayConfig(), ReplayServiceOptions(), nullptr);
    ASSERT_TRUE(replay.ok());
    replay_ = std::move(*replay);
    auto server = StartGrpcServer("127.0.0.1:0", {replay_.get()}, &replay_port_);
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
    dir_ = MakeTempDir("job_manager");
    JobManagerOptions options;
    options.replay_address = absl::StrCat("127.0.0.1:", replay_port_);
    options.checkpoint_dir = dir_;
    auto manager = JobManager::Create(options);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
  }
  void TearDown() override {
    manager_->Shutdown();
    replay_->Close();
    StopGrpcServer(server_.get(), absl::Seconds(1));
  }

  static JobSpec CartPoleJob(const std::string& name, int64_t steps) {
    JobSpec spec;
    spec.set_name(name);
    spec.set_algorithm("stream_ac");
    spec.set_env("CartPole-v1");
    spec.set_num_actors(1);
    spec.set_seed(7);
    spec.mutable_stop()->set_max_env_steps(steps);
    spec.set_publish_every(1);
    spec.set_max_policy_lag(0);
    return spec;
  }

  std::unique_ptr<ReplayServiceImpl> replay_;
  std::unique_ptr<grpc::Server> server_;
  int replay_port_ = 0;
  std::string dir_;
  std::unique_ptr<JobManager> manager_;
};

TEST_F(JobManagerTest, SubmitRejectsInvalidJobsNamingEveryField) {
  JobSpec spec = CartPoleJob("bad", 100);
  spec.set_env("NoSuchEnv-v9");
  spec.set_algorithm("sarsa");
  spec.set_num_actors(-2);
  spec.set_envs_per_actor(-1);
  auto s = manager_->Submit(spec);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(s.status().message());
  EXPECT_THAT(msg, HasSubstr("env: "));
  EXPECT_THAT(msg, HasSubstr("algorithm: unknown algorithm 'sarsa'"));
  EXPECT_THAT(msg, HasSubstr("num_actors: must be >= 1, got -2"));
  EXPECT_THAT(msg, HasSubstr("envs_per_actor"));
  EXPECT_TRUE(manager_->List().empty());
}

TEST_F(JobManagerTest, SubmitRejectsAJobWithoutStopRuleAndBadNames) {
  JobSpec spec = CartPoleJob("no stop", 0);
  auto s = manager_->Submit(spec);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("name: "));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("stop: set at least one"));
}

TEST_F(JobManagerTest, ParsesTextAndJsonJobFilesAndReportsSyntaxErrors) {
  auto text = ParseJobSpec("name: 'a' env: 'CartPole-v1' algorithm: 'stream_q'");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->algorithm(), "stream_q");
  auto json = ParseJobSpec(R"({"name": "b", "env": "Acrobot-v1", "numActors": 3})");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->num_actors(), 3);
  auto bad = ParseJobSpec("name: 'a' bogus_field: 3");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("line 1"));
}

TEST_F(JobManagerTest, SecondSubmitWithTheSameNameIsRejectedAndQueuedJobsCancel) {
  ASSERT_TRUE(manager_->Submit(CartPoleJob("first", 1000000)).ok());
  ASSERT_TRUE(manager_->Submit(CartPoleJob("second", 100)).ok());
  auto dup = manager_->Submit(CartPoleJob("first", 5));
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  // "first" runs (waiting for an actor), "second" waits in the queue.
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("first") != nullptr; }, absl::Seconds(10)));
  auto second = manager_->Get("second");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->state(), JOB_QUEUED);
  auto cancelled = manager_->Cancel("second");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), JOB_CANCELLED);
  // The running job is unaffected and can be cancelled cleanly too.
  EXPECT_EQ(manager_->Get("first")->state(), JOB_RUNNING);
  auto first = manager_->Cancel("first");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->state(), JOB_CANCELLED);
  EXPECT_TRUE(FileExists(dir_ + "/first/learner.ckpt"));
}

// One lock-step actor in this test (the same order as RunStreamTraining:
// Act, Step, Observe, send, wait for the learner's version, Sync, then Reset
// on episode end) drives the job; the learner's state after K steps must equal
// the in-process trainer's for the same seed.
TEST_F(JobManagerTest, LockStepActorReproducesTheInProcessTrainerExactly) {
  constexpr int64_t kSteps = 300;
  JobSpec spec = CartPoleJob("equivalence", kSteps);
  ASSERT_TRUE(manager_->Submit(spec).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("equivalence") != nullptr; },
                      absl::Seconds(10)));
  std::shared_ptr<JobRun> run = manager_->Running("equivalence");
  LeaseAssignmentRequest lease;
  lease.set_role("actor");
  auto assignment = manager_->Lease(lease);
  ASSERT_TRUE(assignment.ok());
  ASSERT_EQ(assignment->stream_ids_size(), 1);
  const int64_t stream_id = assignment->stream_ids(0);
  ASSERT_EQ(stream_id, 0);

  JobSpec full = assignment->spec();
  auto problem = JobProblem(full);
  auto config = JobStreamConfig(full);
  ASSERT_TRUE(problem.ok() && config.ok());
  auto actor = StreamActor::Create(*problem, *config, StreamActorSeed(full.seed(), stream_id));
  ASSERT_TRUE(actor.ok());
  auto env = MakeEnv(full.env());
  ASSERT_TRUE(env.ok());
  ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", replay_port_)));

  auto sync_to = [&](int64_t version) {
    auto p = run->parameters().WaitNewer(version - 1, absl::Now() + absl::Seconds(10));
    ASSERT_NE(p, nullptr) << "no version " << version;
    ASSERT_EQ(p->version(), version);
    StateDict dict(p->tensors().begin(), p->tensors().end());
    PolicySnapshot snapshot;
    ASSERT_TRUE(LoadSnapshot(dict, &snapshot).ok());
    ASSERT_TRUE((*actor)->Sync(snapshot).ok());
  };
  sync_to(0);
  TransitionSource source(actor->get(), env->get(), full.name(), stream_id);
  source.Start(StreamEnvSeed(full.seed(), stream_id));
  for (int64_t k = 1; k <= kSteps; ++k) {
    absl::StatusOr<Item> item = source.Step(/*policy_version=*/k - 1);
    ASSERT_TRUE(item.ok()) << item.status();
    ASSERT_TRUE(client.Insert(full.table(), {*std::move(item)}).ok());
    sync_to(k);
    source.EndStep();
  }
  ASSERT_TRUE(WaitFor([&] { return manager_->Get("equivalence")->state() == JOB_SUCCEEDED; },
                      absl::Seconds(20)));
  EXPECT_EQ(manager_->Get("equivalence")->env_steps(), kSteps);

  // The in-process trainer, same seed and configuration.
  StreamTrainOptions options;
  options.env_name = full.env();
  options.config = *config;
  options.steps = kSteps;
  options.seed = full.seed();
  auto reference = RunStreamTraining(options);
  ASSERT_TRUE(reference.ok()) << reference.status();

  auto saved = ReadStateFile(dir_ + "/equivalence/learner.ckpt");
  ASSERT_TRUE(saved.ok()) << saved.status();
  auto distributed = StreamLearner::Create(*problem, *config, full.seed());
  ASSERT_TRUE(distributed.ok());
  ASSERT_TRUE((*distributed)->RestoreState(*saved).ok());
  ASSERT_EQ((*distributed)->steps(), reference->learner->steps());
  for (int n = 0; n < reference->learner->num_networks(); ++n) {
    auto a = reference->learner->network(n).params();
    auto b = (*distributed)->network(n).params();
    ASSERT_EQ(a.size(), b.size());
    double max_diff = 0;
    for (size_t i = 0; i < a.size(); ++i) max_diff = std::max<double>(max_diff, std::abs(a[i] - b[i]));
    EXPECT_LE(max_diff, 1e-6) << reference->learner->network_name(n);
  }
}

TEST_F(JobManagerTest, WatchParametersWithStrideSendsOneVersionPerInterval) {
  constexpr int64_t kSteps = 200, kStride = 50;
  JobSpec spec = CartPoleJob("stride", kSteps);
  ASSERT_TRUE(manager_->Submit(spec).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("stride") != nullptr; }, absl::Seconds(10)));
  ParameterServiceImpl service(manager_.get());
  int port = 0;
  auto server = StartGrpcServer("127.0.0.1:0", {&service}, &port);
  ASSERT_TRUE(server.ok());
  auto stub = ParameterService::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", port)));

  // A bad stride is refused by name.
  {
    grpc::ClientContext ctx;
    WatchParametersRequest bad;
    bad.set_job_name("stride");
    bad.set_stride(-1);
    Parameters p;
    auto reader = stub->WatchParameters(&ctx, bad);
    EXPECT_FALSE(reader->Read(&p));
    const grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("stride"));
  }

  std::vector<int64_t> strided, all;
  std::atomic<int> connected{0};
  auto watch = [&](int64_t stride, std::vector<int64_t>* versions) {
    grpc::ClientContext ctx;
    WatchParametersRequest request;
    request.set_job_name("stride");
    request.set_after_version(-1);
    request.set_stride(stride);
    auto reader = stub->WatchParameters(&ctx, request);
    Parameters p;
    while (reader->Read(&p)) {
      if (versions->empty()) ++connected;
      versions->push_back(p.version());
    }
    EXPECT_TRUE(reader->Finish().ok());
  };
  std::thread strided_reader(watch, kStride, &strided);
  std::thread all_reader(watch, 0, &all);
  ASSERT_TRUE(WaitFor([&] { return connected.load() == 2; }, absl::Seconds(10)));

  // Feed the job kSteps transitions of its initial policy.
  JobSpec full = spec;
  ASSERT_TRUE(ValidateJobSpec(&full).ok());
  auto problem = JobProblem(full);
  auto config = JobStreamConfig(full);
  ASSERT_TRUE(problem.ok() && config.ok());
  auto actor = StreamActor::Create(*problem, *config, 1);
  auto env = MakeEnv(full.env());
  ASSERT_TRUE(actor.ok() && env.ok());
  {
    std::shared_ptr<const Parameters> first =
        manager_->Running("stride")->parameters().WaitNewer(-1, absl::Now() + absl::Seconds(10));
    ASSERT_NE(first, nullptr);
    StateDict dict(first->tensors().begin(), first->tensors().end());
    PolicySnapshot snapshot;
    ASSERT_TRUE(LoadSnapshot(dict, &snapshot).ok());
    ASSERT_TRUE((*actor)->Sync(snapshot).ok());
  }
  ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", replay_port_)));
  TransitionSource source(actor->get(), env->get(), full.name(), /*stream_id=*/0);
  source.Start(3);
  std::vector<Item> items;
  for (int64_t k = 1; k <= kSteps; ++k) {
    absl::StatusOr<Item> item = source.Step(/*policy_version=*/0);
    ASSERT_TRUE(item.ok()) << item.status();
    items.push_back(*std::move(item));
    source.EndStep();
    // Slowly enough that the unstrided reader sees many versions.
    if (items.size() == 10) {
      ASSERT_TRUE(client.Insert(full.table(), std::move(items)).ok());
      items.clear();
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  ASSERT_TRUE(WaitFor([&] { return manager_->Get("stride")->state() == JOB_SUCCEEDED; },
                      absl::Seconds(20)));
  strided_reader.join();
  all_reader.join();
  StopGrpcServer(server->get(), absl::Seconds(1));

  // The strided stream: the first version, then one per new multiple of 50.
  ASSERT_FALSE(strided.empty());
  EXPECT_EQ(strided.front(), 0);
  for (size_t i = 1; i < strided.size(); ++i) {
    EXPECT_GT(strided[i] / kStride, strided[i - 1] / kStride) << i;
  }
  EXPECT_LE(strided.size(), static_cast<size_t>(kSteps / kStride + 1));
  EXPECT_EQ(strided.back() / kStride, kSteps / kStride);
  EXPECT_GT(all.size(), strided.size());
}

}  // namespace
}  // namespace rlx
