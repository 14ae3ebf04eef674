// The platform running batch learners: the learner's real JobManager with its
// gRPC services, a real replay server, real ActorLoops and (for SPO) a real
// PreferenceService, all in this process (127.0.0.1, port 0). A synchronous
// PPO job with one actor holding every env reproduces the in-process trainer
// (ppo_train) bit for bit; APPO with two actors runs with its lag bound and
// learns; SPO learns CartPole from preferences alone, and waits (saying so in
// its status) while its preference service is away.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "algorithms/registry.h"
#include "algorithms/trajectory_codec.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "actor/actor_loop.h"
#include "algorithms/job_spec.h"
#include "algorithms/ppo/job_config.h"
#include "algorithms/ppo/ppo_trainer.h"
#include "algorithms/ppo/unroll_codec.h"
#include "algorithms/preferences.h"
#include "core/file_util.h"
#include "core/server.h"
#include "core/state_dict.h"
#include "learner/job_manager.h"
#include "preference/preference_service.h"
#include "replay/replay_service.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

class RunningActor {
 public:
  explicit RunningActor(const ActorOptions& options) {
    auto loop = ActorLoop::Create(options, nullptr);
    EXPECT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
    thread_ = std::thread([this] { (void)loop_->Run(); });
  }
  ~RunningActor() {
    loop_->Stop();
    thread_.join();
  }
  ActorLoop& loop() { return *loop_; }

 private:
  std::unique_ptr<ActorLoop> loop_;
  std::thread thread_;
};

class PpoJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto replay = ReplayServiceImpl::Create(ReplayConfig(), ReplayServiceOptions(), nullptr);
    ASSERT_TRUE(replay.ok());
    replay_ = std::move(*replay);
    auto replay_server = StartGrpcServer("127.0.0.1:0", {replay_.get()}, &replay_port_);
    ASSERT_TRUE(replay_server.ok());
    replay_server_ = std::move(*replay_server);
    dir_ = MakeTempDir("ppo_job");
    JobManagerOptions options;
    options.replay_address = absl::StrCat("127.0.0.1:", replay_port_);
    options.checkpoint_dir = dir_;
    auto manager = JobManager::Create(options);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
    jobs_ = std::make_unique<JobServiceImpl>(manager_.get());
    parameters_ = std::make_unique<ParameterServiceImpl>(manager_.get());
    auto server = StartGrpcServer("127.0.0.1:0", {jobs_.get(), parameters_.get()}, &learner_port_);
    ASSERT_TRUE(server.ok());
    learner_server_ = std::move(*server);
  }
  void TearDown() override {
    actors_.clear();
    manager_->Shutdown();
    StopGrpcServer(learner_server_.get(), absl::Seconds(1));
    replay_->Close();
    StopGrpcServer(replay_server_.get(), absl::Seconds(1));
  }
  void StartActor(const std::string& name) {
    ActorOptions options;
    options.learner_address = absl::StrCat("127.0.0.1:", learner_port_);
    options.replay_address = absl::StrCat("127.0.0.1:", replay_port_);
    options.name = name;
    actors_.push_back(std::make_unique<RunningActor>(options));
  }
  JobStatus WaitForEnd(const std::string& job, absl::Duration timeout) {
    JobStatus status;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto s = manager_->Get(job);
          if (s.ok()) status = *s;
          return s.ok() && status.state() != JOB_QUEUED && status.state() != JOB_RUNNING;
        },
        timeout))
        << job << " did not end: env_steps " << status.env_steps();
    return status;
  }

  std::unique_ptr<ReplayServiceImpl> replay_;
  std::unique_ptr<grpc::Server> replay_server_, learner_server_;
  std::unique_ptr<JobManager> manager_;
  std::unique_ptr<JobServiceImpl> jobs_;
  std::unique_ptr<ParameterServiceImpl> parameters_;
  std::vector<std::unique_ptr<RunningActor>> actors_;
  int replay_port_ = 0, learner_port_ = 0;
  std::string dir_;
};

TEST_F(PpoJobTest, SynchronousJobWithOneActorReproducesPpoTrainBitForBit) {
  constexpr int kEnvs = 4, kUpdates = 6;
  JobSpec spec;
  spec.set_name("ppo_sync");
  spec.set_algorithm("ppo");
  spec.set_env("CartPole-v1");
  spec.set_num_actors(1);
  spec.set_envs_per_actor(kEnvs);
  spec.set_seed(5);
  spec.mutable_ppo()->set_num_steps(32);
  spec.mutable_stop()->set_max_env_steps(int64_t{kUpdates} * kEnvs * 32);
  ASSERT_TRUE(manager_->Submit(spec).ok());
  StartActor("a1");
  const JobStatus status = WaitForEnd("ppo_sync", absl::Seconds(60));
  ASSERT_EQ(status.state(), JOB_SUCCEEDED) << status.message();
  EXPECT_EQ(status.env_steps(), kUpdates * kEnvs * 32);
  EXPECT_EQ(status.spec().max_policy_lag(), 0);  // "ppo" is synchronous by default
  // PPO's default reward scaling runs in the actor, per env, as in ppo_train.
  EXPECT_TRUE(status.spec().ppo().normalize_rewards());
  EXPECT_EQ(status.mean_policy_lag(), 0);        // every unroll from the newest parameters
  EXPECT_GT(actors_[0]->loop().stats().lag_waits, 0);

  // The in-process trainer, same seed and configuration.
  JobSpec full = status.spec();
  ppo::PpoTrainOptions options;
  options.env_name = full.env();
  options.config = ppo::JobPpoConfig(full);
  options.steps = full.stop().max_env_steps();
  options.seed = full.seed();
  auto reference = ppo::RunPpoTraining(options);
  ASSERT_TRUE(reference.ok()) << reference.status();

  auto saved = ReadStateFile(dir_ + "/ppo_sync/learner.ckpt");
  ASSERT_TRUE(saved.ok()) << saved.status();
  std::vector<float> distributed;
  ASSERT_TRUE(GetFloats(*saved, "learner/ppo/parameters", -1, &distributed).ok());
  EXPECT_EQ(distributed, reference->learner->model().GetParameters());  // bit for bit
  EXPECT_EQ(status.episodes(), static_cast<int64_t>(reference->episodes.size()));
}

TEST_F(PpoJobTest, AppoWithTwoActorsKeepsActingWithinItsLagBoundAndLearns) {
  JobSpec spec;
  spec.set_name("appo");
  spec.set_algorithm("appo");
  spec.set_env("CartPole-v1");
  spec.set_num_actors(2);
  spec.set_envs_per_actor(4);
  spec.set_seed(2);
  spec.mutable_stop()->set_max_env_steps(300 * 1024);
  ASSERT_TRUE(manager_->Submit(spec).ok());
  StartActor("a1");
  StartActor("a2");
  const JobStatus status = WaitForEnd("appo", absl::Seconds(180));
  ASSERT_EQ(status.state(), JOB_SUCCEEDED) << status.message();
  EXPECT_EQ(status.spec().ppo().unrolls_per_update(), 8);
  EXPECT_TRUE(status.spec().ppo().vtrace());
  EXPECT_EQ(status.spec().max_policy_lag(), 8);
  EXPECT_EQ(status.env_steps(), 300 * 1024);
  EXPECT_EQ(status.actors(), 2);
  // Lag is in updates (1024 env steps each): the bound allows about two
  // updates' worth of unrolls ahead, and actors run ahead, so some lag.
  EXPECT_LE(status.mean_policy_lag(), 3);
  EXPECT_GT(status.mean_policy_lag(), 0);
  // A random CartPole policy averages about 22.
  std::printf("APPO: mean return of the last 10 episodes %.1f, mean lag %.0f\n",
              status.mean_return(), status.mean_policy_lag());
  EXPECT_GT(status.mean_return(), 100) << "lag " << status.mean_policy_lag();
}

// A PreferenceService on a port of its own, which can be stopped and
// started again on the same port.
class PreferenceServer {
 public:
  PreferenceServer() : service_(PreferenceServiceOptions(), &registry_) {}
  ~PreferenceServer() { Stop(); }
  void Start(int port) {
    auto server = StartGrpcServer(absl::StrCat("127.0.0.1:", port), {&service_}, &port_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void Stop() {
    if (server_ != nullptr) StopGrpcServer(server_.get(), absl::Seconds(1));
    server_.reset();
  }
  int port() const { return port_; }

 private:
  prometheus::Registry registry_;
  PreferenceServiceImpl service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

JobSpec SpoJob(const std::string& name, int preference_port, int64_t steps) {
  JobSpec spec;
  spec.set_name(name);
  spec.set_algorithm("spo");
  spec.set_env("CartPole-v1");
  spec.set_num_actors(1);
  spec.set_envs_per_actor(4);
  spec.set_seed(1);
  spec.mutable_spo()->set_preference_address(absl::StrCat("127.0.0.1:", preference_port));
  spec.mutable_spo()->mutable_preference()->set_name("markovian");
  spec.mutable_stop()->set_max_env_steps(steps);
  return spec;
}

TEST_F(PpoJobTest, SpoLearnsCartPoleFromPreferencesAlone) {
  PreferenceServer preferences;
  preferences.Start(0);
  ASSERT_TRUE(manager_->Submit(SpoJob("spo", preferences.port(), 300 * 512)).ok());
  StartActor("a1");
  const JobStatus status = WaitForEnd("spo", absl::Seconds(200));
  ASSERT_EQ(status.state(), JOB_SUCCEEDED) << status.message();
  EXPECT_EQ(status.env_steps(), 300 * 512);
  EXPECT_EQ(status.spec().spo().ppo().gamma(), 1.0);
  EXPECT_FALSE(status.spec().spo().ppo().normalize_rewards());  // win rates as they come
  EXPECT_EQ(status.mean_policy_lag(), 0);
  // The actors send zero rewards: only the win rates can teach it. A random
  // policy's episodes average about 22 steps.
  std::printf("SPO: mean return of the last 10 episodes %.1f\n", status.mean_return());
  EXPECT_GT(status.mean_return(), 150) << "episodes " << status.episodes();
}

// The baseline in the same system: the same job with spo.reward
// "reward_model" asks the same queries, trains the MLP reward model on them,
// and PPO learns CartPole on its per-step reward.
TEST_F(PpoJobTest, RewardModelBaselineLearnsCartPoleFromTheSameQueries) {
  PreferenceServer preferences;
  preferences.Start(0);
  JobSpec spec = SpoJob("rm", preferences.port(), 160 * 512);
  spec.mutable_spo()->set_reward("reward_model");
  // Noisy votes (Bradley-Terry on the returns): the reward model's own
  // noise model; on hard markovian answers it learns slowly.
  spec.mutable_spo()->mutable_preference()->set_name("noisy");
  spec.mutable_spo()->mutable_preference()->set_temperature(30);
  spec.mutable_spo()->mutable_preference()->set_sample(true);
  ASSERT_TRUE(manager_->Submit(spec).ok());
  StartActor("a1");
  const JobStatus status = WaitForEnd("rm", absl::Seconds(200));
  ASSERT_EQ(status.state(), JOB_SUCCEEDED) << status.message();
  EXPECT_EQ(status.env_steps(), 160 * 512);
  EXPECT_THAT(status.spec().spo().reward_model_hidden(), ::testing::ElementsAre(64, 64));
  std::printf("reward-model RLHF: mean return of the last 10 episodes %.1f\n",
              status.mean_return());
  EXPECT_GT(status.mean_return(), 150) << "episodes " << status.episodes();
}

// Groups (spo.group_size): the worker sends one item per episode, each
// env playing group_size episodes from one start state before the next
// context; the items name their context and its size; the learner learns
// only from complete groups, a rollout at a time.
// A fresh learner of `spec` and a worker for `options` holding its
// parameters (also kept here); null members after a failed expectation.
struct FreshWorker {
  std::unique_ptr<JobLearner> learner;
  std::unique_ptr<ActorWorker> worker;
  StateDict parameters;
};
FreshWorker MakeFreshWorker(const AlgorithmRuntime& algorithm, const JobSpec& spec,
                            const WorkerOptions& options) {
  FreshWorker fresh;
  auto worker = algorithm.make_worker(spec, options);
  EXPECT_TRUE(worker.ok()) << worker.status();
  LearnerContext context;
  auto learner = algorithm.make_learner(spec, context);
  EXPECT_TRUE(learner.ok()) << learner.status();
  if (!worker.ok() || !learner.ok()) return fresh;
  (*learner)->Parameters(&fresh.parameters);
  EXPECT_TRUE((*worker)->SetParameters(fresh.parameters, 0).ok());
  fresh.learner = std::move(*learner);
  fresh.worker = std::move(*worker);
  return fresh;
}
// A worker's options for `spec`'s streams `stream_ids`.
WorkerOptions StreamsOf(const JobSpec& spec, std::vector<int64_t> stream_ids) {
  WorkerOptions options;
  options.job_name = spec.name();
  options.stream_ids = std::move(stream_ids);
  return options;
}

// spo.time_feature_scale reaches what the actors act on and send: the
// model's last input column is scale * (-0.5 + t / 500), t the step within
// the episode (restarting at each episode's first step).
TEST_F(PpoJobTest, SpoActorsSendTheScaledTimeFeature) {
  JobSpec spec = SpoJob("clock", 1, 100000);
  spec.mutable_spo()->set_time_feature_scale(20);
  ASSERT_TRUE(ValidateJobSpec(&spec).ok());
  auto algorithm = FindAlgorithm("spo");
  ASSERT_TRUE(algorithm.ok());
  FreshWorker fresh = MakeFreshWorker(**algorithm, spec, StreamsOf(spec, {0, 1, 2, 3}));
  ASSERT_NE(fresh.worker, nullptr);
  std::vector<Item> items;
  WorkerStep step;
  while (items.empty()) ASSERT_TRUE(fresh.worker->Step(0, &items, &step).ok());
  const int64_t t_len = items[0].metadata().num_steps();
  auto unroll = ppo::DecodeUnroll(items[0], t_len, 5, 1);
  ASSERT_TRUE(unroll.ok()) << unroll.status();
  int t = 0, episodes = 0;
  for (int64_t k = 0; k < t_len; ++k) {
    EXPECT_FLOAT_EQ(unroll->observations[k * 5 + 4], 20.0f * (-0.5f + t / 500.0f)) << "step " << k;
    ++t;
    if (unroll->terminated[k] || unroll->truncated[k]) {
      t = 0;
      ++episodes;
    }
  }
  EXPECT_GE(episodes, 1);  // one restart of the clock at least (CartPole's first episodes are short)
}

// With the non-markovian preference the learner reports the share of its
// recent trajectories (the opponent queue) whose last quarter's return is
// within the threshold (rl_learner_constraint_share); other preferences
// report none.
TEST_F(PpoJobTest, SpoReportsTheShareOfRecentTrajectoriesWithinTheConstraint) {
  PreferenceServer preferences;
  preferences.Start(0);
  auto algorithm = FindAlgorithm("spo");
  ASSERT_TRUE(algorithm.ok());
  for (const std::string name : {"non_markovian", "markovian"}) {
    JobSpec spec = SpoJob("constraint", preferences.port(), 100000);
    spec.mutable_spo()->mutable_preference()->set_name(name);
    // Within: episodes of at most 19 steps (a random policy's average ~22).
    spec.mutable_spo()->mutable_preference()->set_threshold(4);
    ASSERT_TRUE(ValidateJobSpec(&spec).ok());
    FreshWorker fresh = MakeFreshWorker(**algorithm, spec, StreamsOf(spec, {0, 1, 2, 3}));
    ASSERT_NE(fresh.worker, nullptr);
    std::vector<Item> items;
    WorkerStep step;
    ItemOutcome outcome;
    int episodes = 0, within = 0;
    for (bool learned = false; !learned;) {
      items.clear();
      ASSERT_TRUE(fresh.worker->Step(0, &items, &step).ok());
      for (const Item& item : items) {
        auto ended = DecodeTrajectories(item, 4, 1, static_cast<int>(item.metadata().num_steps()));
        ASSERT_TRUE(ended.ok()) << ended.status();
        for (const EndedTrajectory& e : *ended) {
          ++episodes;
          within += spo::LastQuarterReturn(e.trajectory.rewards()) <= 4;
        }
        ASSERT_TRUE(fresh.learner->Consume(item, &outcome).ok());
        learned = learned || outcome.learned;
      }
    }
    LearnerReadout readout;
    fresh.learner->Readout(/*monitors=*/false, &readout);
    if (name == "markovian") {
      EXPECT_FALSE(readout.constraint_share.has_value());
      continue;
    }
    ASSERT_TRUE(readout.constraint_share.has_value());
    std::printf("%d of %d episodes within the constraint\n", within, episodes);
    EXPECT_GT(within, 0);
    EXPECT_LT(within, episodes);
    EXPECT_DOUBLE_EQ(*readout.constraint_share, static_cast<double>(within) / episodes);
  }
}

TEST_F(PpoJobTest, SpoGroupEpisodesShareTheirStartStateAndAreLearnedWhole) {
  PreferenceServer preferences;
  preferences.Start(0);
  JobSpec spec = SpoJob("groups", preferences.port(), 100000);
  spec.set_envs_per_actor(2);
  spec.mutable_spo()->set_group_size(3);
  spec.mutable_spo()->set_placement("spread");
  ASSERT_TRUE(ValidateJobSpec(&spec).ok());
  EXPECT_EQ(spec.max_policy_lag(), 2 * 2 * 3);
  auto algorithm = FindAlgorithm("spo");
  ASSERT_TRUE(algorithm.ok());
  TableConfig table;
  (*algorithm)->configure_table(spec, &table);
  EXPECT_TRUE(table.gate().has_group());
  const WorkerOptions options = StreamsOf(spec, {7, 8});
  FreshWorker fresh = MakeFreshWorker(**algorithm, spec, options);
  ASSERT_NE(fresh.worker, nullptr);
  const StateDict& parameters = fresh.parameters;

  std::vector<Item> items;
  WorkerStep step;
  while (items.size() < 60) ASSERT_TRUE(fresh.worker->Step(0, &items, &step).ok());
  std::map<std::string, std::vector<const Item*>> contexts;
  for (const Item& item : items) {
    EXPECT_EQ(item.metadata().group_size(), 3);
    contexts[item.metadata().context_id()].push_back(&item);
  }
  // The first observation of each item's trajectory (its start state).
  auto start = [](const Item& item) {
    auto t = DecodeTrajectories(item, 4, 1, item.metadata().num_steps());
    EXPECT_TRUE(t.ok() && t->size() == 1);
    return std::vector<float>((*t)[0].trajectory.observations().begin(),
                              (*t)[0].trajectory.observations().begin() + 4);
  };
  std::set<std::vector<float>> starts;
  int complete = 0;
  for (const auto& [context_id, members] : contexts) {
    EXPECT_LE(members.size(), 3u) << context_id;
    if (members.size() < 3) continue;
    ++complete;
    for (const Item* m : members) EXPECT_EQ(start(*m), start(*members[0])) << context_id;
    starts.insert(start(*members[0]));
    EXPECT_TRUE(absl::StartsWith(context_id, "groups/7/") || absl::StartsWith(context_id, "groups/8/"))
        << context_id;
  }
  EXPECT_GE(complete, 16);
  EXPECT_EQ(starts.size(), static_cast<size_t>(complete));  // contexts differ
  // A new assignment of the same streams (a worker made again) starts from
  // the same seeds but names its contexts apart, so it never completes an
  // unfinished group of the old one.
  {
    auto again = (*algorithm)->make_worker(spec, options);
    ASSERT_TRUE(again.ok());
    ASSERT_TRUE((*again)->SetParameters(parameters, 0).ok());
    std::vector<Item> more;
    while (more.empty()) ASSERT_TRUE((*again)->Step(0, &more, &step).ok());
    const Item& first = more[0];
    EXPECT_EQ(contexts.count(first.metadata().context_id()), 0u) << first.metadata().context_id();
    for (const Item& item : items) {  // the old worker's context 0 of the same stream
      if (item.metadata().actor_id() == first.metadata().actor_id() &&
          absl::EndsWith(item.metadata().context_id(), "/0")) {
        EXPECT_EQ(start(item), start(first));
        break;
      }
    }
  }

  // Complete groups, in the order the gate releases them (a stream's
  // contexts one after the other), teach once a rollout's worth of steps is
  // in; the members of unfinished groups (held by the gate in the real
  // table) teach nothing.
  const int64_t rollout = fresh.learner->steps_per_update();
  int64_t fed_steps = 0;
  ItemOutcome outcome;
  for (const Item& item : items) {
    if (contexts[item.metadata().context_id()].size() < 3) continue;
    ASSERT_TRUE(fresh.learner->Consume(item, &outcome).ok());
    EXPECT_TRUE(outcome.used);
    fed_steps += item.metadata().num_steps();
  }
  EXPECT_EQ(fresh.learner->steps(), (fed_steps / rollout) * rollout);
  EXPECT_GT(fresh.learner->steps(), 0);
  const int64_t learned = fresh.learner->steps();
  for (const Item& item : items) {
    if (contexts[item.metadata().context_id()].size() == 3) continue;
    ASSERT_TRUE(fresh.learner->Consume(item, &outcome).ok());
    EXPECT_TRUE(outcome.used);
    EXPECT_FALSE(outcome.learned);
  }
  EXPECT_EQ(fresh.learner->steps(), learned);
  // A resent item (same stream, older sequence) is skipped.
  ASSERT_TRUE(fresh.learner->Consume(items.front(), &outcome).ok());
  EXPECT_FALSE(outcome.used);
}

// The same through the real processes' code: actors, a replay table with
// the group gate, the learner; SPO with groups learns CartPole.
TEST_F(PpoJobTest, SpoWithGroupsLearnsCartPoleThroughTheGatedTable) {
  PreferenceServer preferences;
  preferences.Start(0);
  JobSpec spec = SpoJob("spo_groups", preferences.port(), 120 * 512);
  spec.mutable_spo()->set_group_size(4);
  // Spread: on CartPole its bias towards longer episodes is the task's own
  // (docs/algorithms.md), which makes 61k steps enough to see learning.
  spec.mutable_spo()->set_placement("spread");
  ASSERT_TRUE(manager_->Submit(spec).ok());
  StartActor("a1");
  const JobStatus status = WaitForEnd("spo_groups", absl::Seconds(200));
  ASSERT_EQ(status.state(), JOB_SUCCEEDED) << status.message();
  EXPECT_GE(status.env_steps(), 120 * 512);
  std::printf("SPO with groups of 4: mean return of the last 10 episodes %.1f\n",
              status.mean_return());
  EXPECT_GT(status.mean_return(), 150) << "episodes " << status.episodes();
}

// Rollouts (group_size 0) and groups (2 episodes of one start state): a
// preference service that is away when the first group is due holds the
// learning (nothing learned, the status says why), and the job goes on
// when it is back.
TEST_F(PpoJobTest, SpoWaitsForItsPreferenceServiceAndSaysSo) {
  for (int group_size : {0, 2}) {
    SCOPED_TRACE(group_size);
    const std::string name = absl::StrCat("spo_wait_", group_size);
    PreferenceServer preferences;
    preferences.Start(0);
    const int port = preferences.port();
    preferences.Stop();  // away when the first rollout is full
    JobSpec spec = SpoJob(name, port, 8 * 512);
    spec.mutable_spo()->set_group_size(group_size);
    ASSERT_TRUE(manager_->Submit(spec).ok());
    if (actors_.empty()) StartActor("a1");
    EXPECT_TRUE(WaitFor(
        [&] {
          auto s = manager_->Get(name);
          return s.ok() && absl::StrContains(s->message(), "waiting for the preference service");
        },
        absl::Seconds(60)));
    EXPECT_EQ(manager_->Get(name)->env_steps(), 0);  // nothing learned without its rewards
    preferences.Start(port);
    const JobStatus status = WaitForEnd(name, absl::Seconds(60));
    ASSERT_EQ(status.state(), JOB_SUCCEEDED) << status.message();
    if (group_size == 0) {
      EXPECT_EQ(status.env_steps(), 8 * 512);
    } else {
      EXPECT_GE(status.env_steps(), 8 * 512);
    }
  }
}

}  // namespace
}  // namespace rlx
