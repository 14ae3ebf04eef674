// The learner's job manager over a real in-process replay server: job
// validation, the queue of jobs, and the distributed learner reproducing the
// in-process trainer exactly with one lock-step actor (lag 0).
#include "learner/job_manager.h"
#include "learner/parameter_hub.h"

#include <dirent.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/text_format.h>

#include "core/file_util.h"
#include "core/server.h"
#include "core/status_macros.h"
#include "envs/registry.h"
#include "models/backends.h"
#include "algorithms/stream_x/actor.h"
#include "core/state_dict.h"
#include "algorithms/job_spec.h"
#include "algorithms/stream_x/job_config.h"
#include "algorithms/stream_x/stream_trainer.h"
#include "algorithms/stream_x/transition_codec.h"
#include "replay/client.h"
#include "replay/replay_service.h"
#include "tests/test_util.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

int ThreadCount() {
  int n = 0;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return -1;
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

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
    StartManager(Options());
  }
  JobManagerOptions Options() const {
    JobManagerOptions options;
    options.replay_address = absl::StrCat("127.0.0.1:", replay_port_);
    options.checkpoint_dir = dir_;
    return options;
  }
  // (Re)starts the manager on dir_: the old one shuts down cleanly first.
  void StartManager(const JobManagerOptions& options) {
    if (manager_ != nullptr) manager_->Shutdown();
    manager_.reset();
    auto manager = JobManager::Create(options);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
  }
  // An actor synced to the running job's first published parameters, and an env.
  void ActAsTheJobsFirstPolicy(const std::string& job, std::unique_ptr<StreamActor>* actor,
                               std::unique_ptr<Env>* env) {
    JobSpec full = manager_->Get(job)->spec();
    auto problem = JobProblem(full);
    auto config = JobStreamConfig(full);
    ASSERT_TRUE(problem.ok() && config.ok());
    auto made = StreamActor::Create(*problem, *config, 1);
    auto made_env = MakeEnv(full.env());
    ASSERT_TRUE(made.ok() && made_env.ok());
    std::shared_ptr<const Parameters> first =
        manager_->Running(job)->parameters().WaitNewer(-1, absl::Now() + absl::Seconds(10));
    ASSERT_NE(first, nullptr);
    StateDict dict(first->tensors().begin(), first->tensors().end());
    PolicySnapshot snapshot;
    ASSERT_TRUE(LoadSnapshot(dict, &snapshot).ok());
    ASSERT_TRUE((*made)->Sync(snapshot).ok());
    *actor = std::move(*made);
    *env = std::move(*made_env);
  }
  // Feeds `steps` transitions of `source` (acting with version 0) to the
  // job's table in rounds of 10, 5 ms apart: the learner takes them in
  // several batches and publishes between them.
  void FeedInRounds(TransitionSource* source, const std::string& table, int64_t steps) {
    ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", replay_port_)));
    std::vector<Item> items;
    for (int64_t k = 1; k <= steps; ++k) {
      absl::StatusOr<Item> item = source->Step(/*policy_version=*/0);
      ASSERT_TRUE(item.ok()) << item.status();
      items.push_back(*std::move(item));
      source->EndStep();
      if (items.size() == 10) {
        ASSERT_TRUE(client.Insert(table, std::move(items)).ok());
        items.clear();
        absl::SleepFor(absl::Milliseconds(5));
      }
    }
  }
  std::string Registry() const {
    auto text = ReadFileToString(dir_ + "/jobs.textproto");
    return text.ok() ? *text : "";
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
  EXPECT_THAT(msg, HasSubstr("num_actors: must be in [1, 1024], got -2"));
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
  std::unique_ptr<StreamActor> actor;
  std::unique_ptr<Env> env;
  ASSERT_NO_FATAL_FAILURE(ActAsTheJobsFirstPolicy("stride", &actor, &env));
  LeaseAssignmentRequest lease;
  lease.set_role("actor");
  auto assignment = manager_->Lease(lease);
  ASSERT_TRUE(assignment.ok()) << assignment.status();
  TransitionSource source(actor.get(), env.get(), full.name(), assignment->stream_ids(0));
  source.Start(3);
  // Slowly enough that the unstrided reader sees many versions.
  ASSERT_NO_FATAL_FAILURE(FeedInRounds(&source, full.table(), kSteps));
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


// ParameterHub::Progress: newer counts reach subscribers and later
// subscribers; nothing before the first version or after Close.
TEST(ParameterHubTest, ProgressReachesSubscribersOnlyWhileVersionsExist) {
  struct Recorder : ParameterSubscriber {
    void OnPublished(const PublishedParameters& p) override {
      published.push_back(p.parameters->version());
      last_counts = *p.consumed;
    }
    void OnProgress(const std::shared_ptr<const ConsumedCounts>& c) override {
      ++progress;
      last_counts = *c;
    }
    void OnClosed() override { closed = true; }
    std::vector<int64_t> published;
    ConsumedCounts last_counts;
    int progress = 0;
    bool closed = false;
  };
  ParameterHub hub;
  Recorder early;
  hub.Subscribe(&early);
  hub.Progress(std::make_shared<ConsumedCounts>(ConsumedCounts{{1, 5}}));
  EXPECT_EQ(early.progress, 0);  // no version yet
  auto v0 = std::make_shared<Parameters>();
  v0->set_version(0);
  hub.Publish(v0, std::make_shared<ConsumedCounts>(ConsumedCounts{{1, 0}}));
  hub.Progress(std::make_shared<ConsumedCounts>(ConsumedCounts{{1, 7}}));
  EXPECT_EQ(early.progress, 1);
  EXPECT_EQ(early.last_counts, (ConsumedCounts{{1, 7}}));
  Recorder late;
  hub.Subscribe(&late);  // gets the newest version with the newest counts
  EXPECT_EQ(late.published, std::vector<int64_t>{0});
  EXPECT_EQ(late.last_counts, (ConsumedCounts{{1, 7}}));
  hub.Close();
  hub.Progress(std::make_shared<ConsumedCounts>(ConsumedCounts{{1, 9}}));
  EXPECT_EQ(early.progress, 1);
  EXPECT_TRUE(early.closed && late.closed);
  hub.Unsubscribe(&early);
  hub.Unsubscribe(&late);
}

// A lease holder hears how many of its items the learner took between
// published versions (progress_only messages: counts only, no tensors, the
// last sent version), at least max_policy_lag / 2 more each time; a watcher
// without a lease gets none. Versions still carry the newest counts.
TEST_F(JobManagerTest, LeaseHoldersHearOfTakenItemsBetweenVersions) {
  constexpr int64_t kSteps = 200;
  JobSpec spec = CartPoleJob("progress", kSteps);
  spec.set_publish_every(1000);  // no version between the first and the last
  spec.set_max_policy_lag(8);    // progress every 4 items or more
  ASSERT_TRUE(manager_->Submit(spec).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("progress") != nullptr; },
                      absl::Seconds(10)));
  ParameterServiceImpl service(manager_.get());
  int port = 0;
  auto server = StartGrpcServer("127.0.0.1:0", {&service}, &port);
  ASSERT_TRUE(server.ok());
  auto stub = ParameterService::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", port)));
  LeaseAssignmentRequest lease;
  lease.set_role("actor");
  auto assignment = manager_->Lease(lease);
  ASSERT_TRUE(assignment.ok()) << assignment.status();
  const int64_t stream_id = assignment->stream_ids(0);

  struct Seen {
    bool progress;
    int64_t version, consumed;
    int tensors;
  };
  std::vector<Seen> leased, unleased;
  std::atomic<int> connected{0};
  auto watch = [&](int64_t lease_id, std::vector<Seen>* seen) {
    grpc::ClientContext ctx;
    WatchParametersRequest request;
    request.set_job_name("progress");
    request.set_after_version(-1);
    request.set_lease_id(lease_id);
    auto reader = stub->WatchParameters(&ctx, request);
    Parameters p;
    while (reader->Read(&p)) {
      if (seen->empty()) ++connected;
      auto it = p.consumed_per_stream().find(stream_id);
      seen->push_back({p.progress_only(), p.version(),
                       it == p.consumed_per_stream().end() ? -1 : it->second, p.tensors_size()});
    }
    EXPECT_TRUE(reader->Finish().ok());
  };
  std::thread leased_reader(watch, assignment->lease_id(), &leased);
  std::thread unleased_reader(watch, 0, &unleased);
  ASSERT_TRUE(WaitFor([&] { return connected.load() == 2; }, absl::Seconds(10)));

  JobSpec full = spec;
  ASSERT_TRUE(ValidateJobSpec(&full).ok());
  std::unique_ptr<StreamActor> actor;
  std::unique_ptr<Env> env;
  ASSERT_NO_FATAL_FAILURE(ActAsTheJobsFirstPolicy("progress", &actor, &env));
  TransitionSource source(actor.get(), env.get(), full.name(), stream_id);
  source.Start(3);
  ASSERT_NO_FATAL_FAILURE(FeedInRounds(&source, full.table(), kSteps));
  ASSERT_TRUE(WaitFor([&] { return manager_->Get("progress")->state() == JOB_SUCCEEDED; },
                      absl::Seconds(20)));
  leased_reader.join();
  unleased_reader.join();
  StopGrpcServer(server->get(), absl::Seconds(1));

  // Unleased: the versions only (the first and the last).
  ASSERT_FALSE(unleased.empty());
  for (const Seen& m : unleased) EXPECT_FALSE(m.progress);
  EXPECT_EQ(unleased.back().version, kSteps);

  // Leased: version 0, progress in steps of at least 4, the last version
  // with every item counted.
  ASSERT_GE(leased.size(), 3u);
  EXPECT_FALSE(leased.front().progress);
  EXPECT_EQ(leased.front().version, 0);
  int progress = 0;
  for (size_t i = 1; i < leased.size(); ++i) {
    const Seen& m = leased[i];
    EXPECT_GE(m.consumed, leased[i - 1].consumed) << i;
    if (!m.progress) continue;
    ++progress;
    EXPECT_EQ(m.tensors, 0) << i;
    EXPECT_EQ(m.version, 0) << i;  // the newest version sent before
    EXPECT_GE(m.consumed - leased[i - 1].consumed, 4) << i;
  }
  EXPECT_GE(progress, 5);
  EXPECT_FALSE(leased.back().progress);
  EXPECT_EQ(leased.back().version, kSteps);
  EXPECT_EQ(leased.back().consumed, kSteps);
  EXPECT_GT(leased.back().tensors, 0);
}

// ---- Robustness: nothing a job file or a client does wedges the learner ----

TEST_F(JobManagerTest, BadJobFilesAreRejectedNamingFieldAndLimitWhileARunningJobGoesOn) {
  ASSERT_TRUE(manager_->Submit(CartPoleJob("running", 1000000)).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("running") != nullptr; }, absl::Seconds(10)));
  const std::string folder = std::string(RLX_SOURCE_DIR) + "/tests/data/bad_jobs";
  DIR* d = opendir(folder.c_str());
  ASSERT_NE(d, nullptr) << folder;
  int files = 0;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (!absl::EndsWith(name, ".textproto")) continue;
    ++files;
    auto text = ReadFileToString(folder + "/" + name);
    ASSERT_TRUE(text.ok()) << name;
    absl::string_view first_line = *text;
    first_line = first_line.substr(0, first_line.find('\n'));
    ASSERT_TRUE(absl::ConsumePrefix(&first_line, "# expect: ")) << name << ": no expectation";
    auto spec = ParseJobSpec(*text);
    ASSERT_TRUE(spec.ok()) << name << ": " << spec.status();
    auto s = manager_->Submit(*spec);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(std::string(first_line))) << name;
  }
  closedir(d);
  EXPECT_GE(files, 15);

  // A 10 MB job: a million hidden sizes, and a 10 MB name, echoed back short.
  JobSpec many = CartPoleJob("many", 100);
  for (int i = 0; i < 1000000; ++i) many.mutable_stream_x()->add_hidden(64);
  auto s = manager_->Submit(many);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("stream_x.hidden: at most 8 layers, got 1000000"));
  JobSpec long_name = CartPoleJob(std::string(10 << 20, 'x'), 100);
  s = manager_->Submit(long_name);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(s.status().message().size(), 1000u);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("(10485760 bytes)"));

  // Nothing was queued, and the running job is untouched.
  EXPECT_EQ(manager_->List().size(), 1u);
  EXPECT_EQ(manager_->Get("running")->state(), JOB_RUNNING);
  EXPECT_TRUE(manager_->Cancel("running").ok());
}

TEST_F(JobManagerTest, DeviceCudaIsForPpoJobsOnALearnerWithCuda) {
  JobManagerOptions options = Options();
  options.cuda_available = [] { return true; };  // a learner with a CUDA LibTorch
  StartManager(options);
  // Stream-x learns one transition at a time on the CPU: refused at submit.
  JobSpec spec = CartPoleJob("gpu", 100);
  spec.set_device("cuda");
  auto s = manager_->Submit(spec);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("device: cuda is not used by the stream-x algorithms"));
  // PPO runs its MLP on the device: accepted. This test's learner only
  // claims CUDA, so where LibTorch has none the job ends FAILED saying why
  // (a learner with a GPU trains it).
  JobSpec ppo = CartPoleJob("gpu_ppo", 2048);
  ppo.set_algorithm("ppo");
  ppo.clear_max_policy_lag();
  ppo.set_device("cuda");
  auto accepted = manager_->Submit(ppo);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  if (!BackendCudaAvailable()) {
    ASSERT_TRUE(WaitFor([&] { return manager_->Get("gpu_ppo")->state() == JOB_FAILED; },
                        absl::Seconds(30)));
    EXPECT_THAT(manager_->Get("gpu_ppo")->message(), HasSubstr("cannot use CUDA"));
  } else {
    EXPECT_TRUE(manager_->Cancel("gpu_ppo").ok());
  }
}

TEST_F(JobManagerTest, AJobThatKeepsKillingTheLearnerEndsFailedAndTheNextJobRuns) {
  // What a learner killed for memory during three starts of "oom" leaves.
  manager_->Shutdown();
  manager_.reset();
  ListJobsResponse registry;
  for (const char* name : {"oom", "next"}) {
    JobStatus* s = registry.add_jobs();
    s->set_name(name);
    JobSpec spec = CartPoleJob(name, 1000000);
    ASSERT_TRUE(ValidateJobSpec(&spec).ok());
    *s->mutable_spec() = spec;
    s->set_state(std::string(name) == "oom" ? JOB_RUNNING : JOB_QUEUED);
    if (std::string(name) == "oom") s->set_unclean_starts(kMaxUncleanStarts);
  }
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(registry, &text));
  ASSERT_TRUE(WriteStringAtomically(dir_ + "/jobs.textproto", text).ok());
  StartManager(Options());
  auto oom = manager_->Get("oom");
  ASSERT_TRUE(oom.ok());
  EXPECT_EQ(oom->state(), JOB_FAILED);
  EXPECT_THAT(oom->message(), HasSubstr("died during each of the job's last 3 starts"));
  EXPECT_TRUE(WaitFor([&] { return manager_->Running("next") != nullptr; }, absl::Seconds(10)));
  EXPECT_TRUE(manager_->Cancel("next").ok());
}

TEST_F(JobManagerTest, AResumingJobShowsItsNewestCheckpointsProgressFromTheFirstMoment) {
  // What a learner killed at 99,751 env steps leaves: the registry saved at the
  // run's first checkpoint (1,000 steps), the newest checkpoint at 99,000.
  manager_->Shutdown();
  manager_.reset();
  ListJobsResponse registry;
  JobStatus* s = registry.add_jobs();
  s->set_name("resumed");
  JobSpec spec = CartPoleJob("resumed", 1000000);
  ASSERT_TRUE(ValidateJobSpec(&spec).ok());
  *s->mutable_spec() = spec;
  s->set_state(JOB_RUNNING);
  s->set_unclean_starts(1);
  s->set_env_steps(1000);
  s->set_episodes(3);
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(registry, &text));
  ASSERT_TRUE(WriteStringAtomically(dir_ + "/jobs.textproto", text).ok());
  ASSERT_TRUE(MakeDirs(dir_ + "/resumed").ok());
  StateDict checkpoint;
  AddInt64s(&checkpoint, "job/progress", {99000, 812});
  ASSERT_TRUE(WriteStateFile(dir_ + "/resumed/learner.ckpt", checkpoint).ok());
  StartManager(Options());
  // Before the scheduler has started the run (and whatever the run then
  // makes of this partial checkpoint): never the registry's older count.
  auto status = manager_->Get("resumed");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->env_steps(), 99000);
  EXPECT_EQ(status->episodes(), 812);
  (void)manager_->Cancel("resumed");
}

TEST_F(JobManagerTest, UncleanStartsAreSavedBeforeTheRunAndClearedByACleanStop) {
  ASSERT_TRUE(manager_->Submit(CartPoleJob("counted", 1000000)).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("counted") != nullptr; }, absl::Seconds(10)));
  // Were the process to die now, the registry would show one unclean start.
  EXPECT_THAT(Registry(), HasSubstr("unclean_starts: 1"));
  StartManager(Options());  // clean shutdown, then a restart resumes it
  EXPECT_TRUE(WaitFor([&] { return manager_->Running("counted") != nullptr; }, absl::Seconds(10)));
  EXPECT_THAT(Registry(), HasSubstr("unclean_starts: 1"));
  auto resumed = manager_->Get("counted");
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->state(), JOB_RUNNING);
  // The previous stop's "learner shut down" message is not shown as current.
  EXPECT_EQ(resumed->message(), "");
  EXPECT_TRUE(manager_->Cancel("counted").ok());
  EXPECT_TRUE(WaitFor([&] { return !absl::StrContains(Registry(), "unclean_starts"); },
                      absl::Seconds(10)))
      << Registry();
}

TEST_F(JobManagerTest, AFinishedJobsNameCanBeUsedAgainAndItsCheckpointIsKeptAside) {
  ASSERT_TRUE(manager_->Submit(CartPoleJob("again", 1000000)).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("again") != nullptr; }, absl::Seconds(10)));
  ASSERT_TRUE(manager_->Cancel("again").ok());
  ASSERT_TRUE(FileExists(dir_ + "/again/learner.ckpt"));
  auto second = manager_->Submit(CartPoleJob("again", 1000000));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->state(), JOB_QUEUED);
  EXPECT_FALSE(FileExists(dir_ + "/again/learner.ckpt"));  // the new job starts afresh
  bool archived = false;
  DIR* d = opendir(dir_.c_str());
  while (dirent* e = readdir(d)) {
    archived |= absl::StartsWith(e->d_name, "again@") &&
                FileExists(dir_ + "/" + e->d_name + "/learner.ckpt");
  }
  closedir(d);
  EXPECT_TRUE(archived);
  EXPECT_EQ(manager_->List().size(), 1u);
  // A name in use is still refused.
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("again") != nullptr; }, absl::Seconds(10)));
  EXPECT_EQ(manager_->Submit(CartPoleJob("again", 5)).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(manager_->Cancel("again").ok());
}

TEST_F(JobManagerTest, LeasesAreBoundedByNumActorsAndFreedWhenTheirActorGoesAway) {
  JobManagerOptions options = Options();
  options.first_watch_grace = absl::Milliseconds(300);
  options.lease_grace = absl::Milliseconds(300);
  StartManager(options);
  JobSpec spec = CartPoleJob("leases", 1000000);
  spec.set_num_actors(2);
  spec.set_envs_per_actor(3);
  ASSERT_TRUE(manager_->Submit(spec).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("leases") != nullptr; }, absl::Seconds(10)));
  LeaseAssignmentRequest request;
  request.set_role("actor");
  request.set_actor_name("same-name");  // identities do not matter: leases do
  auto a = manager_->Lease(request);
  auto b = manager_->Lease(request);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->lease_id(), b->lease_id());
  EXPECT_EQ(a->stream_ids_size(), 3);
  auto c = manager_->Lease(request);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("num_actors"));
  EXPECT_EQ(manager_->Get("leases")->actors(), 2);

  // A watch over gRPC holds lease a; b, never watched, ends after its grace.
  ParameterServiceImpl service(manager_.get());
  int port = 0;
  auto server = StartGrpcServer("127.0.0.1:0", {&service}, &port);
  ASSERT_TRUE(server.ok());
  auto stub = ParameterService::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", port)));
  grpc::ClientContext ctx;
  WatchParametersRequest watch;
  watch.set_job_name("leases");
  watch.set_after_version(-1);
  watch.set_lease_id(a->lease_id());
  auto reader = stub->WatchParameters(&ctx, watch);
  Parameters p;
  ASSERT_TRUE(reader->Read(&p));
  // Only the lease's own streams, each listed (0 before its first item).
  ASSERT_EQ(p.consumed_per_stream_size(), 3);
  for (int64_t id : a->stream_ids()) EXPECT_EQ(p.consumed_per_stream().at(id), 0);
  auto d = absl::StatusOr<Assignment>(absl::UnknownError(""));
  ASSERT_TRUE(WaitFor([&] { return (d = manager_->Lease(request)).ok(); }, absl::Seconds(10)));
  EXPECT_EQ(manager_->Get("leases")->actors(), 2);  // a (watched) and d
  // The watcher of an ended lease is told to lease again.
  {
    grpc::ClientContext ended_ctx;
    WatchParametersRequest ended = watch;
    ended.set_lease_id(b->lease_id());
    auto ended_reader = stub->WatchParameters(&ended_ctx, ended);
    EXPECT_FALSE(ended_reader->Read(&p));
    EXPECT_EQ(ended_reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  ctx.TryCancel();
  (void)reader->Finish();
  EXPECT_TRUE(manager_->Cancel("leases").ok());
  StopGrpcServer(server->get(), absl::Seconds(1));
}

TEST_F(JobManagerTest, ItemsOfStreamsThatNoLeaseHoldsAreSkippedAndKeepNoState) {
  ASSERT_TRUE(manager_->Submit(CartPoleJob("forged", 1000000)).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("forged") != nullptr; }, absl::Seconds(10)));
  JobSpec full = manager_->Get("forged")->spec();
  std::unique_ptr<StreamActor> actor;
  std::unique_ptr<Env> env;
  ASSERT_NO_FATAL_FAILURE(ActAsTheJobsFirstPolicy("forged", &actor, &env));
  // 3000 transitions, each from a different made-up stream id.
  ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", replay_port_)));
  std::vector<Item> items;
  for (int64_t forged = 1000; forged < 4000; ++forged) {
    TransitionSource source(actor.get(), env.get(), full.name(), forged);
    source.Start(static_cast<uint64_t>(forged));
    absl::StatusOr<Item> item = source.Step(0);
    ASSERT_TRUE(item.ok());
    items.push_back(*std::move(item));
    if (items.size() == 100) {
      ASSERT_TRUE(client.Insert(full.table(), std::move(items)).ok());
      items.clear();
    }
  }
  // All are taken from the queue and none is learned.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto info = client.Info();
        if (!info.ok()) return false;
        for (const TableInfo& t : info->tables()) {
          if (t.config().name() == full.table()) return t.size() == 0;
        }
        return false;
      },
      absl::Seconds(20)));
  EXPECT_EQ(manager_->Get("forged")->env_steps(), 0);
  ASSERT_TRUE(manager_->Cancel("forged").ok());
  // The checkpoint holds no per-stream state for them.
  auto saved = ReadStateFile(dir_ + "/forged/learner.ckpt");
  ASSERT_TRUE(saved.ok());
  for (const NamedTensor& t : *saved) EXPECT_FALSE(absl::StartsWith(t.name(), "stream/")) << t.name();
}

TEST_F(JobManagerTest, LeasesAreRefusedOnceTheJobIsEnding) {
  ASSERT_TRUE(manager_->Submit(CartPoleJob("ending", 1000000)).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("ending") != nullptr; }, absl::Seconds(10)));
  std::shared_ptr<JobRun> run = manager_->Running("ending");
  LeaseAssignmentRequest actor, evaluator;
  actor.set_role("actor");
  evaluator.set_role("evaluator");
  ASSERT_TRUE(manager_->Lease(actor).ok());
  run->Cancel();  // while the run writes its final checkpoint, nothing leases it again
  EXPECT_EQ(manager_->Lease(actor).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(manager_->Lease(evaluator).status().code(), absl::StatusCode::kUnavailable);
  run->Join();
  EXPECT_EQ(run->status().actors(), 1);
}

TEST_F(JobManagerTest, EvaluationReportsSetTheCurvePathAndUnsetReturnsMeanNoEvaluation) {
  JobSpec spec = CartPoleJob("evals", 1000000);
  spec.mutable_eval()->set_every_learner_steps(100);
  ASSERT_TRUE(manager_->Submit(spec).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("evals") != nullptr; }, absl::Seconds(10)));
  auto before = manager_->Get("evals");
  EXPECT_FALSE(before->has_last_eval_return());
  EXPECT_FALSE(before->has_best_eval_return());
  EvaluationReport report;
  report.set_job_name("evals");
  report.set_learner_steps(0);
  report.set_mean_return(0);  // a real evaluation can return 0
  report.set_curve_path("/out/evals/eval_curve.csv");
  ASSERT_TRUE(manager_->Report(report).ok());
  auto after = manager_->Get("evals");
  EXPECT_TRUE(after->has_last_eval_return());
  EXPECT_EQ(after->last_eval_return(), 0);
  EXPECT_EQ(after->curve_path(), "/out/evals/eval_curve.csv");
  // Kept across a learner restart.
  StartManager(Options());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("evals") != nullptr; }, absl::Seconds(10)));
  auto resumed = manager_->Get("evals");
  EXPECT_TRUE(resumed->has_last_eval_return());
  EXPECT_EQ(resumed->curve_path(), "/out/evals/eval_curve.csv");
  EXPECT_TRUE(manager_->Cancel("evals").ok());
}

// The evaluation of the final parameters arrives after the job ended: it
// still sets the job's last and best returns (kept in the registry). A
// second cancel of an ended job is refused, naming its state.
TEST_F(JobManagerTest, EvaluationAfterTheJobEndedCountsAndCancellingItAgainIsRefused) {
  ASSERT_TRUE(manager_->Submit(CartPoleJob("ended", 1000000)).ok());
  ASSERT_TRUE(manager_->Submit(CartPoleJob("waiting", 1000000)).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("ended") != nullptr; }, absl::Seconds(10)));
  ASSERT_EQ(manager_->Cancel("ended")->state(), JOB_CANCELLED);
  EvaluationReport report;
  report.set_job_name("ended");
  report.set_learner_steps(0);
  report.set_mean_return(42);
  report.set_curve_path("/out/ended/eval_curve.csv");
  ASSERT_TRUE(manager_->Report(report).ok());
  absl::StatusOr<JobStatus> after = manager_->Get("ended");
  EXPECT_EQ(after->state(), JOB_CANCELLED);
  EXPECT_EQ(after->last_eval_return(), 42);
  EXPECT_EQ(after->best_eval_return(), 42);
  EXPECT_EQ(after->curve_path(), "/out/ended/eval_curve.csv");
  absl::StatusOr<JobStatus> again = manager_->Cancel("ended");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.status().message()), testing::HasSubstr("JOB_CANCELLED"));
  // Unknown jobs are not found; "waiting" now runs (the queue moved on).
  report.set_job_name("nobody");
  EXPECT_EQ(manager_->Report(report).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("waiting") != nullptr; }, absl::Seconds(10)));
  // Kept across a learner restart.
  StartManager(Options());
  EXPECT_EQ(manager_->Get("ended")->best_eval_return(), 42);
  EXPECT_TRUE(manager_->Cancel("waiting").ok());
}

// Every watcher used to hold a server thread (300 watchers: 320 threads and
// a tenth of the training speed). Now watchers are reactors.
TEST_F(JobManagerTest, WatchersHoldNoThreadsAndTheIntervalHasAFloor) {
  ASSERT_TRUE(manager_->Submit(CartPoleJob("watched", 1000000)).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("watched") != nullptr; }, absl::Seconds(10)));
  JobServiceImpl jobs(manager_.get());
  ParameterServiceImpl parameters(manager_.get());
  int port = 0;
  auto server = StartGrpcServer("127.0.0.1:0", {&jobs, &parameters}, &port);
  ASSERT_TRUE(server.ok());
  auto channel = MakeChannel(absl::StrCat("127.0.0.1:", port));
  auto job_stub = JobService::NewStub(channel);
  auto parameter_stub = ParameterService::NewStub(channel);
  // Warm up the server's pools with one of each, then count threads.
  constexpr int kWatchers = 150;
  struct Watch {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<JobStatus>> jobs;
    std::unique_ptr<grpc::ClientReader<Parameters>> parameters;
  };
  std::vector<std::unique_ptr<Watch>> watches;
  auto open = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto w = std::make_unique<Watch>();
      WatchJobRequest r;
      r.set_name("watched");
      r.set_interval_ms(1);  // floored to 100 ms
      w->jobs = job_stub->Watch(&w->ctx, r);
      JobStatus status;
      ASSERT_TRUE(w->jobs->Read(&status));
      watches.push_back(std::move(w));
      auto pw = std::make_unique<Watch>();
      WatchParametersRequest pr;
      pr.set_job_name("watched");
      pr.set_after_version(-1);
      pw->parameters = parameter_stub->WatchParameters(&pw->ctx, pr);
      Parameters p;
      ASSERT_TRUE(pw->parameters->Read(&p));
      watches.push_back(std::move(pw));
    }
  };
  open(2);
  const int threads_before = ThreadCount();
  open(kWatchers);
  const int threads_after = ThreadCount();
  EXPECT_LT(threads_after - threads_before, 20) << threads_before << " -> " << threads_after;
  // With interval_ms 1, a fresh watch gets at most one status per 100 ms
  // (a slow machine only makes it fewer).
  {
    Watch w;
    WatchJobRequest r;
    r.set_name("watched");
    r.set_interval_ms(1);
    w.jobs = job_stub->Watch(&w.ctx, r);
    JobStatus status;
    ASSERT_TRUE(w.jobs->Read(&status));
    const absl::Time start = absl::Now();
    int n = 0;
    while (absl::Now() - start < absl::Seconds(1) && w.jobs->Read(&status)) ++n;
    EXPECT_LE(n, 11);
    EXPECT_GE(n, 2);
    w.ctx.TryCancel();
    (void)w.jobs->Finish();
  }
  for (auto& w : watches) w->ctx.TryCancel();
  for (auto& w : watches) {
    if (w->jobs != nullptr) (void)w->jobs->Finish();
    if (w->parameters != nullptr) (void)w->parameters->Finish();
  }
  EXPECT_TRUE(manager_->Cancel("watched").ok());
  StopGrpcServer(server->get(), absl::Seconds(1));
}

bool TableExists(ReplayClient& client, const std::string& table) {
  auto info = client.Info();
  if (!info.ok()) return false;
  for (const TableInfo& t : info->tables()) {
    if (t.config().name() == table) return true;
  }
  return false;
}

TEST_F(JobManagerTest, AJobsTableIsDeletedWhenItEndsUnlessKept) {
  ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", replay_port_)));
  JobSpec dropped = CartPoleJob("dropped", 1000000);
  JobSpec kept = CartPoleJob("kept", 1000000);
  kept.set_keep_table(true);
  for (const JobSpec& spec : {dropped, kept}) {
    ASSERT_TRUE(manager_->Submit(spec).ok());
    ASSERT_TRUE(WaitFor([&] { return manager_->Running(spec.name()) != nullptr; },
                        absl::Seconds(10)));
    EXPECT_TRUE(WaitFor([&] { return TableExists(client, "job." + spec.name()); },
                        absl::Seconds(10)));
    ASSERT_TRUE(manager_->Cancel(spec.name()).ok());
  }
  EXPECT_FALSE(TableExists(client, "job.dropped"));
  EXPECT_TRUE(TableExists(client, "job.kept"));
}

TEST_F(JobManagerTest, TheJobsTableIsCreatedAgainWhenTheReplayServerLosesIt) {
  ASSERT_TRUE(manager_->Submit(CartPoleJob("lost", 1000000)).ok());
  ASSERT_TRUE(WaitFor([&] { return manager_->Running("lost") != nullptr; }, absl::Seconds(10)));
  ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", replay_port_)));
  ASSERT_TRUE(WaitFor([&] { return TableExists(client, "job.lost"); }, absl::Seconds(10)));
  ASSERT_TRUE(client.DeleteTable("job.lost").ok());  // what a restart without it looks like
  EXPECT_TRUE(WaitFor([&] { return TableExists(client, "job.lost"); }, absl::Seconds(20)));
  EXPECT_EQ(manager_->Get("lost")->state(), JOB_RUNNING);
  EXPECT_TRUE(manager_->Cancel("lost").ok());
}

}  // namespace
}  // namespace rlx
