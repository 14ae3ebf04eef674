// ActorLoop against an in-process fake learner (JobService + ParameterService
// with a real StreamLearner learning from the replay table) and a real
// ReplayServiceImpl, all on one gRPC server on 127.0.0.1:0.
#include "actor/actor_loop.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/server.h"
#include "algorithms/stream_x/learner.h"
#include "algorithms/job_spec.h"
#include "algorithms/stream_x/job_config.h"
#include "algorithms/stream_x/stream_trainer.h"
#include "algorithms/stream_x/transition_codec.h"
#include "replay/client.h"
#include "replay/replay_service.h"
#include "tests/actor/fake_learner.h"
#include "tests/replay/replay_test_util.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

// Runs an ActorLoop on its own thread; stops and joins it when destroyed.
class RunningActor {
 public:
  RunningActor(const ActorOptions& options, prometheus::Registry* registry) {
    auto loop = ActorLoop::Create(options, registry);
    EXPECT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
    thread_ = std::thread([this] {
      absl::Status s = loop_->Run();
      absl::MutexLock lock(&mu_);
      status_ = s;
    });
  }
  ~RunningActor() { StopAndJoin(); }

  // Stop(), then the time until Run returned.
  absl::Duration StopAndJoin() {
    const absl::Time start = absl::Now();
    if (thread_.joinable()) {
      loop_->Stop();
      thread_.join();
    }
    return absl::Now() - start;
  }
  absl::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  ActorLoop& loop() { return *loop_; }

 private:
  std::unique_ptr<ActorLoop> loop_;
  std::thread thread_;
  absl::Mutex mu_;
  absl::Status status_ ABSL_GUARDED_BY(mu_) = absl::UnknownError("still running");
};

class ActorLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ReplayConfig config;
    ReplayServiceOptions options;
    options.seed = 1;
    auto replay = ReplayServiceImpl::Create(config, options, nullptr);
    ASSERT_TRUE(replay.ok()) << replay.status();
    replay_ = std::move(*replay);
    jobs_ = std::make_unique<FakeJobService>(&state_);
    parameters_ = std::make_unique<FakeParameterService>(&state_);
    auto server = StartGrpcServer("127.0.0.1:0", {replay_.get(), jobs_.get(), parameters_.get()},
                                  &port_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    address_ = absl::StrCat("127.0.0.1:", port_);
    client_ = std::make_unique<ReplayClient>(MakeChannel(address_));
    registry_ = std::make_shared<prometheus::Registry>();
  }
  void TearDown() override {
    actor_.reset();
    trainer_.reset();
    replay_->Close();
    StopGrpcServer(server_.get(), absl::Seconds(2));
  }

  ActorOptions Options() const {
    ActorOptions o;
    o.learner_address = address_;
    o.replay_address = address_;
    o.name = "test-actor";
    o.max_backoff = absl::Milliseconds(200);
    return o;
  }

  // Creates the job's queue table, starts the job and its trainer.
  void StartJob(const JobSpec& spec, const std::vector<int64_t>& stream_ids, bool consume,
                int64_t max_learn = INT64_MAX) {
    ASSERT_TRUE(replay_->AddTable(QueueTable(spec.table(), spec.table_max_size())).ok());
    Assignment a;
    a.set_job_name(spec.name());
    *a.mutable_spec() = spec;
    for (int64_t id : stream_ids) a.add_stream_ids(id);
    a.set_seed(spec.seed());
    a.set_table(spec.table());
    state_.Start(a);
    trainer_ = std::make_unique<FakeTrainer>(&state_, client_.get(), spec, consume, max_learn);
  }

  FakeJobState state_;
  std::unique_ptr<ReplayServiceImpl> replay_;
  std::unique_ptr<FakeJobService> jobs_;
  std::unique_ptr<FakeParameterService> parameters_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string address_;
  std::unique_ptr<ReplayClient> client_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<FakeTrainer> trainer_;
  std::unique_ptr<RunningActor> actor_;
};

double MetricValue(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name || family.metric.empty()) continue;
    const auto& m = family.metric[0];
    return family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
  }
  return -1;
}

TEST_F(ActorLoopTest, SendsOrderedTransitionsTaggedWithMetadata) {
  const JobSpec spec = MakeSpec("meta", /*envs=*/2, /*max_policy_lag=*/-1);
  StartJob(spec, {3, 7}, /*consume=*/true);
  actor_ = std::make_unique<RunningActor>(Options(), registry_.get());
  ASSERT_TRUE(WaitFor([&] { return trainer_->received() >= 600; }, absl::Seconds(60)));
  actor_->StopAndJoin();
  trainer_->Stop();
  EXPECT_TRUE(actor_->status().ok()) << actor_->status();
  EXPECT_TRUE(trainer_->errors().empty()) << trainer_->errors()[0];

  const std::vector<Item> items = trainer_->items();
  const std::vector<int64_t> learned = trainer_->steps_at_arrival();
  std::map<int64_t, std::vector<size_t>> by_stream;
  for (size_t i = 0; i < items.size(); ++i) {
    const ItemMetadata& m = items[i].metadata();
    EXPECT_EQ(m.job_id(), "meta");
    EXPECT_EQ(m.num_steps(), 1);
    ASSERT_TRUE(m.actor_id() == 3 || m.actor_id() == 7) << m.actor_id();
    // A version the learner had published before the item arrived.
    EXPECT_GE(m.policy_version(), 0);
    EXPECT_LE(m.policy_version(), learned[i]);
    by_stream[m.actor_id()].push_back(i);
  }
  ASSERT_EQ(by_stream.size(), 2u);
  int episodes = 0;
  for (const auto& [id, indices] : by_stream) {
    double episode_return = 0;
    int64_t last_version = 0;
    for (size_t k = 0; k < indices.size(); ++k) {
      const Item& item = items[indices[k]];
      const ItemMetadata& m = item.metadata();
      absl::StatusOr<Transition> t = DecodeTransition(item);
      ASSERT_TRUE(t.ok()) << t.status();
      if (k == 0) {
        EXPECT_TRUE(t->episode_start);
        EXPECT_EQ(m.episode_id(), 0);
        EXPECT_EQ(m.step_index(), 0);
      } else {
        const ItemMetadata& prev = items[indices[k - 1]].metadata();
        const bool prev_done = prev.has_episode_return();
        EXPECT_EQ(t->episode_start, prev_done);
        EXPECT_EQ(m.episode_id(), prev.episode_id() + (prev_done ? 1 : 0));
        EXPECT_EQ(m.step_index(), prev_done ? 0 : prev.step_index() + 1);
      }
      EXPECT_EQ(t->observation.empty(), !t->episode_start);
      EXPECT_GE(m.policy_version(), last_version);  // never goes back
      last_version = m.policy_version();
      episode_return += t->reward;
      EXPECT_EQ(m.has_episode_return(), t->done());
      if (t->done()) {
        EXPECT_DOUBLE_EQ(m.episode_return(), episode_return);
        episode_return = 0;
        ++episodes;
      }
    }
    EXPECT_GT(last_version, 0) << "stream " << id << " never followed the parameters";
  }
  EXPECT_GT(episodes, 0);

  const ActorStats stats = actor_->loop().stats();
  EXPECT_EQ(stats.leases, 1);
  EXPECT_GE(stats.items_acknowledged, static_cast<int64_t>(items.size()));
  EXPECT_GT(stats.parameter_updates, 1);
  EXPECT_GE(MetricValue(*registry_, "rl_actor_env_steps_total"), 600);
  EXPECT_GE(MetricValue(*registry_, "rl_actor_inserted_items_total"), 600);
  EXPECT_GT(MetricValue(*registry_, "rl_actor_policy_version"), 0);
  EXPECT_GT(MetricValue(*registry_, "rl_actor_episodes_total"), 0);
}

TEST_F(ActorLoopTest, LockStepReproducesTheInProcessTrainer) {
  constexpr int64_t kSteps = 300;
  const JobSpec spec = MakeSpec("lockstep", /*envs=*/1, /*max_policy_lag=*/0);
  StartJob(spec, {0}, /*consume=*/true, /*max_learn=*/kSteps);
  actor_ = std::make_unique<RunningActor>(Options(), registry_.get());
  ASSERT_TRUE(WaitFor([&] { return trainer_->received() >= kSteps; }, absl::Seconds(60)));
  actor_->StopAndJoin();
  trainer_->Stop();
  EXPECT_TRUE(trainer_->errors().empty()) << trainer_->errors()[0];

  // Every action was chosen with the parameters of all the transitions before it.
  const std::vector<Item> items = trainer_->items();
  std::vector<double> returns;
  double episode_return = 0;
  for (int64_t k = 0; k < kSteps; ++k) {
    ASSERT_EQ(items[k].metadata().policy_version(), k);
    absl::StatusOr<Transition> t = DecodeTransition(items[k]);
    ASSERT_TRUE(t.ok());
    episode_return += t->reward;
    if (t->done()) {
      returns.push_back(episode_return);
      episode_return = 0;
    }
  }
  EXPECT_GT(actor_->loop().stats().lag_waits, 0);

  StreamTrainOptions options;
  options.env_name = spec.env();
  options.config = *JobStreamConfig(spec);
  options.steps = kSteps;
  options.seed = spec.seed();
  absl::StatusOr<StreamTrainResult> reference = RunStreamTraining(options);
  ASSERT_TRUE(reference.ok()) << reference.status();
  std::vector<double> reference_returns;
  for (const EpisodeRecord& e : reference->episodes) reference_returns.push_back(e.episode_return);
  ASSERT_FALSE(returns.empty());
  EXPECT_EQ(returns, reference_returns);
  PolicySnapshot expected;
  reference->learner->GetSnapshot(&expected);
  const PolicySnapshot actual = trainer_->snapshot();
  EXPECT_EQ(actual.learner_steps, kSteps);
  EXPECT_EQ(actual.params, expected.params);  // bit for bit
  EXPECT_EQ(actual.observation_mean, expected.observation_mean);
}

TEST_F(ActorLoopTest, LockStepWaitsForEachVersionAndStopsWhileWaiting) {
  const JobSpec spec = MakeSpec("wait", /*envs=*/1, /*max_policy_lag=*/0);
  StartJob(spec, {0}, /*consume=*/false);  // publishes version 0, learns nothing
  actor_ = std::make_unique<RunningActor>(Options(), registry_.get());
  auto table = replay_->FindTable(spec.table());
  ASSERT_TRUE(WaitFor([&] { return table->size() == 1; }, absl::Seconds(30)));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(table->size(), 1);  // waiting for version 1
  EXPECT_EQ(actor_->loop().stats().env_steps, 1);

  trainer_->PublishNow();  // still version 0: no step
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(table->size(), 1);
  PolicySnapshot snapshot = trainer_->snapshot();
  state_.Publish(snapshot, 1);
  ASSERT_TRUE(WaitFor([&] { return table->size() == 2; }, absl::Seconds(10)));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(table->size(), 2);
  EXPECT_GE(actor_->loop().stats().lag_waits, 2);
  EXPECT_GT(MetricValue(*registry_, "rl_actor_wait_seconds_total"), 0.2);

  const absl::Duration stop_time = actor_->StopAndJoin();
  EXPECT_LT(stop_time, absl::Seconds(1));
  EXPECT_TRUE(actor_->status().ok()) << actor_->status();
}

TEST_F(ActorLoopTest, LeasesAgainAfterTheParameterStreamEnds) {
  const JobSpec first = MakeSpec("first", /*envs=*/1, /*max_policy_lag=*/-1);
  StartJob(first, {0}, /*consume=*/true);
  actor_ = std::make_unique<RunningActor>(Options(), registry_.get());
  ASSERT_TRUE(WaitFor([&] { return trainer_->received() >= 50; }, absl::Seconds(30)));
  state_.End();  // WatchParameters ends with OK; leases are UNAVAILABLE
  trainer_->Stop();
  // The actor stops stepping: the env step count settles.
  int64_t settled = -1;
  ASSERT_TRUE(WaitFor(
      [&] {
        const int64_t now = actor_->loop().stats().env_steps;
        absl::SleepFor(absl::Milliseconds(100));
        const bool same = now == actor_->loop().stats().env_steps;
        settled = now;
        return same;
      },
      absl::Seconds(10)));
  EXPECT_EQ(state_.leases(), 1);

  const JobSpec second = MakeSpec("second", /*envs=*/1, /*max_policy_lag=*/-1);
  StartJob(second, {5}, /*consume=*/true);
  ASSERT_TRUE(WaitFor([&] { return trainer_->received() >= 50; }, absl::Seconds(30)));
  EXPECT_EQ(state_.leases(), 2);
  EXPECT_EQ(actor_->loop().stats().leases, 2);
  EXPECT_GT(actor_->loop().stats().env_steps, settled);
  const std::vector<Item> items = trainer_->items();
  EXPECT_EQ(items[0].metadata().job_id(), "second");
  EXPECT_EQ(items[0].metadata().actor_id(), 5);
  EXPECT_EQ(items[0].metadata().episode_id(), 0);
  EXPECT_EQ(items[0].metadata().step_index(), 0);
  EXPECT_TRUE(DecodeTransition(items[0])->episode_start);
  EXPECT_TRUE(trainer_->errors().empty()) << trainer_->errors()[0];
}

TEST_F(ActorLoopTest, StopReturnsPromptlyWhileTheLearnerIsUnreachable) {
  ActorOptions options = Options();
  options.learner_address = "127.0.0.1:1";  // nothing listens
  actor_ = std::make_unique<RunningActor>(options, registry_.get());
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(actor_->loop().stats().leases, 0);
  const absl::Duration stop_time = actor_->StopAndJoin();
  EXPECT_LT(stop_time, absl::Seconds(1));
  EXPECT_TRUE(actor_->status().ok()) << actor_->status();
}

TEST_F(ActorLoopTest, StopWithoutRunReturnsImmediately) {
  auto loop = ActorLoop::Create(Options(), nullptr);
  ASSERT_TRUE(loop.ok());
  (*loop)->Stop();
  EXPECT_TRUE((*loop)->Run().ok());  // returns at once: already stopped
}

}  // namespace
}  // namespace rlx
