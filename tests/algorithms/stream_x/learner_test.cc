#include "algorithms/stream_x/learner.h"

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "algorithms/stream_x/actor.h"
#include "core/state_dict.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

ProblemSpec DiscreteProblem() {
  ProblemSpec p;
  p.observation_dim = 4;
  p.discrete = true;
  p.num_actions = 2;
  p.time_limit = 500;
  return p;
}

ProblemSpec ContinuousProblem() {
  ProblemSpec p;
  p.observation_dim = 3;
  p.discrete = false;
  p.action_dim = 1;
  p.action_low = {-2.0f};
  p.action_high = {2.0f};
  p.time_limit = 200;
  return p;
}

StreamConfig Config(StreamAlgorithm algorithm) {
  StreamConfig c;
  c.algorithm = algorithm;
  c.hidden = {32, 32};
  c.total_steps = 1000;
  return c;
}

std::unique_ptr<StreamLearner> MakeLearner(const ProblemSpec& p, const StreamConfig& c,
                                           uint64_t seed) {
  auto learner = StreamLearner::Create(p, c, seed);
  EXPECT_TRUE(learner.ok()) << learner.status();
  return learner.ok() ? std::move(*learner) : nullptr;
}

// A deterministic synthetic stream of transitions: episodes of random length.
class TransitionSource {
 public:
  TransitionSource(const ProblemSpec& p, uint64_t seed) : p_(p), gen_(seed) {}

  Transition Next() {
    Transition t;
    t.episode_start = !in_episode_;
    if (!in_episode_) {
      current_ = RandomObservation();
      length_ = 0;
    }
    t.observation = current_;
    if (p_.discrete) {
      t.action = {static_cast<float>(gen_() % p_.num_actions)};
    } else {
      t.action = {std::uniform_real_distribution<float>(-3, 3)(gen_)};
    }
    t.reward = std::uniform_real_distribution<double>(-1, 2)(gen_);
    t.next_observation = RandomObservation();
    ++length_;
    t.terminated = gen_() % 15 == 0;
    t.truncated = !t.terminated && length_ >= 20;
    in_episode_ = !t.done();
    current_ = t.next_observation;
    return t;
  }

 private:
  std::vector<float> RandomObservation() {
    std::vector<float> o(p_.observation_dim);
    for (float& x : o) x = std::normal_distribution<float>(0.5f, 2.0f)(gen_);
    return o;
  }
  ProblemSpec p_;
  std::mt19937_64 gen_;
  bool in_episode_ = false;
  std::vector<float> current_;
  int length_ = 0;
};

std::vector<float> AllParams(const StreamLearner& learner) {
  std::vector<float> all;
  for (int i = 0; i < learner.num_networks(); ++i) {
    absl::Span<const float> p = learner.network(i).params();
    all.insert(all.end(), p.begin(), p.end());
  }
  return all;
}

bool AllZero(const std::vector<float>& v) {
  for (float x : v) {
    if (x != 0.0f) return false;
  }
  return true;
}

struct Case {
  std::string name;
  ProblemSpec problem;
  StreamAlgorithm algorithm;
};

class EveryAlgorithmTest : public testing::TestWithParam<Case> {};

TEST_P(EveryAlgorithmTest, TracesAreZeroedAfterTheUpdateAtEpisodeEnd) {
  const Case& c = GetParam();
  auto learner = MakeLearner(c.problem, Config(c.algorithm), 1);
  StreamState stream = learner->NewStream();
  TransitionSource source(c.problem, 2);
  int episodes = 0;
  for (int i = 0; i < 200 && episodes < 5; ++i) {
    const Transition t = source.Next();
    const std::vector<float> before = AllParams(*learner);
    ASSERT_TRUE(learner->Learn(t, &stream).ok());
    if (t.done()) {
      ++episodes;
      for (const auto& trace : stream.traces) EXPECT_TRUE(AllZero(trace));
      EXPECT_NE(before, AllParams(*learner)) << "the final transition still updates";
      EXPECT_FALSE(stream.in_episode);
    } else if (!learner->last_info().exploratory) {
      bool any = false;
      for (const auto& trace : stream.traces) any |= !AllZero(trace);
      EXPECT_TRUE(any);
    }
  }
  EXPECT_EQ(learner->episodes(), episodes);
}

TEST_P(EveryAlgorithmTest, SameSeedAndTransitionsGiveIdenticalParameters) {
  const Case& c = GetParam();
  auto a = MakeLearner(c.problem, Config(c.algorithm), 5);
  auto b = MakeLearner(c.problem, Config(c.algorithm), 5);
  auto other = MakeLearner(c.problem, Config(c.algorithm), 6);
  EXPECT_NE(AllParams(*a), AllParams(*other));
  StreamState sa = a->NewStream(), sb = b->NewStream();
  TransitionSource source(c.problem, 3);
  for (int i = 0; i < 100; ++i) {
    const Transition t = source.Next();
    ASSERT_TRUE(a->Learn(t, &sa).ok());
    ASSERT_TRUE(b->Learn(t, &sb).ok());
  }
  EXPECT_EQ(AllParams(*a), AllParams(*b));  // bit for bit
}

TEST_P(EveryAlgorithmTest, StateRoundTripsThroughACheckpointFile) {
  const Case& c = GetParam();
  auto a = MakeLearner(c.problem, Config(c.algorithm), 7);
  StreamState sa = a->NewStream();
  TransitionSource source(c.problem, 4);
  for (int i = 0; i < 37; ++i) ASSERT_TRUE(a->Learn(source.Next(), &sa).ok());

  StateDict dict;
  a->SaveState(&dict);
  a->SaveStream(sa, "stream/0", &dict);
  const std::string path = MakeTempDir() + "/learner.ckpt";
  ASSERT_TRUE(WriteStateFile(path, dict).ok());
  absl::StatusOr<StateDict> read = ReadStateFile(path);
  ASSERT_TRUE(read.ok()) << read.status();

  auto b = MakeLearner(c.problem, Config(c.algorithm), 99);  // different init
  StreamState sb = b->NewStream();
  ASSERT_TRUE(b->RestoreState(*read).ok());
  ASSERT_TRUE(b->RestoreStream(*read, "stream/0", &sb).ok());
  EXPECT_EQ(AllParams(*a), AllParams(*b));
  EXPECT_EQ(a->steps(), b->steps());
  EXPECT_TRUE(a->observation_stats() == b->observation_stats());
  EXPECT_TRUE(a->reward_stats() == b->reward_stats());
  // Both continue identically.
  for (int i = 0; i < 30; ++i) {
    const Transition t = source.Next();
    ASSERT_TRUE(a->Learn(t, &sa).ok());
    ASSERT_TRUE(b->Learn(t, &sb).ok());
  }
  EXPECT_EQ(AllParams(*a), AllParams(*b));
  EXPECT_EQ(sa.traces, sb.traces);
  EXPECT_EQ(sa.reward_trace, sb.reward_trace);
}

TEST_P(EveryAlgorithmTest, StreamsKeepSeparateTraces) {
  const Case& c = GetParam();
  auto learner = MakeLearner(c.problem, Config(c.algorithm), 1);
  StreamState s1 = learner->NewStream(), s2 = learner->NewStream();
  TransitionSource src1(c.problem, 10), src2(c.problem, 11);
  ASSERT_TRUE(learner->Learn(src1.Next(), &s1).ok());
  EXPECT_TRUE(AllZero(s2.traces[0]));
  ASSERT_TRUE(learner->Learn(src2.Next(), &s2).ok());
  EXPECT_NE(s1.traces[0], s2.traces[0]);
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, EveryAlgorithmTest,
    testing::Values(Case{"ac_discrete", DiscreteProblem(), StreamAlgorithm::kStreamAC},
                    Case{"ac_continuous", ContinuousProblem(), StreamAlgorithm::kStreamAC},
                    Case{"q", DiscreteProblem(), StreamAlgorithm::kStreamQ},
                    Case{"td", DiscreteProblem(), StreamAlgorithm::kStreamTD}),
    [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(StreamQTest, ZeroesTracesAfterAnExploratoryActionOnly) {
  // Two learners with the same seed see the same first transition with
  // different actions: exactly one action is non-greedy.
  const ProblemSpec p = DiscreteProblem();
  auto a0 = MakeLearner(p, Config(StreamAlgorithm::kStreamQ), 3);
  auto a1 = MakeLearner(p, Config(StreamAlgorithm::kStreamQ), 3);
  StreamState s0 = a0->NewStream(), s1 = a1->NewStream();
  Transition t;
  t.episode_start = true;
  t.observation = {0.1f, -0.2f, 0.3f, 0.05f};
  t.next_observation = {0.2f, -0.1f, 0.25f, 0.0f};
  t.reward = 1.0;
  t.action = {0.0f};
  ASSERT_TRUE(a0->Learn(t, &s0).ok());
  t.action = {1.0f};
  ASSERT_TRUE(a1->Learn(t, &s1).ok());
  ASSERT_NE(a0->last_info().exploratory, a1->last_info().exploratory);
  const StreamState& explored = a0->last_info().exploratory ? s0 : s1;
  const StreamState& greedy = a0->last_info().exploratory ? s1 : s0;
  EXPECT_TRUE(AllZero(explored.traces[0]));
  EXPECT_FALSE(AllZero(greedy.traces[0]));
  EXPECT_TRUE(explored.in_episode);  // the episode goes on
}

TEST(StreamTdTest, BootstrapsOnTruncationButNotOnTermination) {
  ProblemSpec p = DiscreteProblem();
  StreamConfig c = Config(StreamAlgorithm::kStreamTD);
  c.bootstrap_on_truncation = true;
  c.normalize_observations = false;
  c.scale_rewards = false;
  c.time_feature = false;
  auto terminated = MakeLearner(p, c, 4);
  auto truncated = MakeLearner(p, c, 4);
  // The sparse initial network is constant (its first layer is all zero for 4
  // inputs); give both learners the same dense parameters.
  std::mt19937_64 gen(1);
  for (float& w : terminated->network(0).params()) {
    w = std::normal_distribution<float>(0.0f, 0.3f)(gen);
  }
  std::copy(terminated->network(0).params().begin(), terminated->network(0).params().end(),
            truncated->network(0).params().begin());
  // V(s) and V(s') from a copy of that value network.
  std::unique_ptr<Network> value = terminated->network(0).Clone();
  Transition t;
  t.episode_start = true;
  t.observation = {0.1f, -0.2f, 0.3f, 0.05f};
  t.next_observation = {1.0f, 2.0f, -0.5f, 0.7f};
  t.action = {1.0f};
  t.reward = 0.5;
  float v = 0, v_next = 0;
  value->Forward(t.observation, absl::MakeSpan(&v, 1));
  value->Forward(t.next_observation, absl::MakeSpan(&v_next, 1));
  ASSERT_NE(v_next, 0.0f);

  StreamState s1 = terminated->NewStream(), s2 = truncated->NewStream();
  t.terminated = true;
  ASSERT_TRUE(terminated->Learn(t, &s1).ok());
  EXPECT_NEAR(terminated->last_info().delta, 0.5 - v, 1e-6);
  t.terminated = false;
  t.truncated = true;
  ASSERT_TRUE(truncated->Learn(t, &s2).ok());
  EXPECT_NEAR(truncated->last_info().delta, 0.5 + 0.99 * v_next - v, 1e-6);
  // Both end the episode.
  EXPECT_TRUE(AllZero(s1.traces[0]));
  EXPECT_TRUE(AllZero(s2.traces[0]));
  EXPECT_EQ(truncated->episodes(), 1);

  // The default bootstraps; false is the paper's code's convention:
  // truncation ends the return.
  EXPECT_TRUE(StreamConfig().bootstrap_on_truncation);
  c.bootstrap_on_truncation = false;
  auto reference = MakeLearner(p, c, 4);
  std::copy(value->params().begin(), value->params().end(),
            reference->network(0).params().begin());
  StreamState s3 = reference->NewStream();
  ASSERT_TRUE(reference->Learn(t, &s3).ok());
  EXPECT_NEAR(reference->last_info().delta, 0.5 - v, 1e-6);
}

TEST(StreamLearnerTest, RejectsTransitionsThatDoNotFit) {
  const ProblemSpec p = DiscreteProblem();
  auto learner = MakeLearner(p, Config(StreamAlgorithm::kStreamAC), 1);
  StreamState stream = learner->NewStream();
  Transition t;
  t.observation = {0, 0, 0, 0};
  t.next_observation = {0, 0, 0, 0};
  t.action = {0.0f};
  // Continues no episode.
  EXPECT_EQ(learner->Learn(t, &stream).code(), absl::StatusCode::kFailedPrecondition);
  t.episode_start = true;
  t.action = {2.0f};
  EXPECT_EQ(learner->Learn(t, &stream).code(), absl::StatusCode::kInvalidArgument);
  t.action = {0.5f};
  EXPECT_EQ(learner->Learn(t, &stream).code(), absl::StatusCode::kInvalidArgument);
  t.action = {1.0f};
  t.next_observation = {0, 0, 0};
  EXPECT_EQ(learner->Learn(t, &stream).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(learner->steps(), 0);
  EXPECT_EQ(learner->observation_stats().count(), 0);
}

TEST(StreamLearnerTest, ConfigValidationNamesTheProblem) {
  StreamConfig c = Config(StreamAlgorithm::kStreamQ);
  EXPECT_FALSE(StreamLearner::Create(ContinuousProblem(), c, 1).ok());  // Q needs discrete
  c.total_steps = 0;
  EXPECT_FALSE(StreamLearner::Create(DiscreteProblem(), c, 1).ok());
  ProblemSpec no_limit = DiscreteProblem();
  no_limit.time_limit = 0;
  EXPECT_FALSE(StreamLearner::Create(no_limit, Config(StreamAlgorithm::kStreamAC), 1).ok());
}

TEST(StreamActorTest, ActsFromASnapshotWithoutTheLearner) {
  ProblemSpec p = ContinuousProblem();
  p.action_low = {-0.1f};  // narrow bounds: clipping is common
  p.action_high = {0.1f};
  const StreamConfig c = Config(StreamAlgorithm::kStreamAC);
  auto learner = MakeLearner(p, c, 1);
  PolicySnapshot snapshot;
  learner->GetSnapshot(&snapshot);
  learner.reset();
  auto actor = StreamActor::Create(p, c, 42);
  ASSERT_TRUE(actor.ok());
  ActorAction action;
  EXPECT_EQ((*actor)->Act(false, &action).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*actor)->Sync(snapshot).ok());
  (*actor)->Observe(std::vector<float>{0.5f, 1.0f, -1.0f}, true);
  bool clipped = false;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE((*actor)->Act(false, &action).ok());
    ASSERT_EQ(action.env_action.size(), 1u);
    EXPECT_GE(action.env_action[0], -0.1f);
    EXPECT_LE(action.env_action[0], 0.1f);
    if (action.action[0] != action.env_action[0]) {
      clipped = true;  // the learner gets the unclipped sample
      EXPECT_FLOAT_EQ(action.env_action[0], action.action[0] > 0 ? 0.1f : -0.1f);
    }
  }
  EXPECT_TRUE(clipped);
  // Same seed, same snapshot: same actions.
  auto again = StreamActor::Create(p, c, 42);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Sync(snapshot).ok());
  auto first = StreamActor::Create(p, c, 42);
  ASSERT_TRUE((*first)->Sync(snapshot).ok());
  ActorAction x, y;
  (*again)->Observe(std::vector<float>{0.5f, 1.0f, -1.0f}, true);
  (*first)->Observe(std::vector<float>{0.5f, 1.0f, -1.0f}, true);
  ASSERT_TRUE((*again)->Act(false, &x).ok());
  ASSERT_TRUE((*first)->Act(false, &y).ok());
  EXPECT_EQ(x.action, y.action);
}

TEST(StreamActorTest, ActorFedSerialisedSnapshotsActsLikeOneSyncedDirectly) {
  // The wire path (snapshot -> named tensors -> snapshot) changes nothing.
  const ProblemSpec p = DiscreteProblem();
  const StreamConfig c = Config(StreamAlgorithm::kStreamAC);
  auto learner = MakeLearner(p, c, 2);
  StreamState stream = learner->NewStream();
  TransitionSource source(p, 5);
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(learner->Learn(source.Next(), &stream).ok());
  PolicySnapshot direct, wire;
  learner->GetSnapshot(&direct);
  StateDict dict;
  SaveSnapshot(direct, &dict);
  ASSERT_TRUE(LoadSnapshot(dict, &wire).ok());
  EXPECT_EQ(direct.params, wire.params);
  EXPECT_EQ(direct.observation_mean, wire.observation_mean);
  EXPECT_EQ(direct.observation_m2, wire.observation_m2);
  EXPECT_EQ(direct.observation_count, wire.observation_count);
  EXPECT_EQ(direct.learner_steps, wire.learner_steps);
  auto a = StreamActor::Create(p, c, 1);
  auto b = StreamActor::Create(p, c, 1);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Sync(direct).ok());
  ASSERT_TRUE((*b)->Sync(wire).ok());
  const std::vector<float> o = {0.3f, -0.1f, 0.02f, 0.4f};
  (*a)->Observe(o, true);
  (*b)->Observe(o, true);
  for (int i = 0; i < 20; ++i) {
    ActorAction x, y;
    ASSERT_TRUE((*a)->Act(false, &x).ok());
    ASSERT_TRUE((*b)->Act(false, &y).ok());
    EXPECT_EQ(x.action, y.action);
  }
  StateDict broken;
  AddFloats(&broken, "snapshot/params", direct.params);
  EXPECT_EQ(LoadSnapshot(broken, &wire).code(), absl::StatusCode::kNotFound);
}

TEST(StreamActorTest, QActorFollowsTheEpsilonSchedule) {
  const ProblemSpec p = DiscreteProblem();
  StreamConfig c = Config(StreamAlgorithm::kStreamQ);
  c.total_steps = 1000;  // epsilon reaches 0.01 after 100 acts
  auto learner = MakeLearner(p, c, 1);
  PolicySnapshot snapshot;
  learner->GetSnapshot(&snapshot);
  auto actor = StreamActor::Create(p, c, 9);
  ASSERT_TRUE(actor.ok());
  ASSERT_TRUE((*actor)->Sync(snapshot).ok());
  (*actor)->Observe(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}, true);
  ActorAction action;
  ASSERT_TRUE((*actor)->Act(false, &action).ok());
  EXPECT_NEAR(action.epsilon, 1.0 - 0.99 / 100, 1e-12);
  snapshot.learner_steps = 500;
  ASSERT_TRUE((*actor)->Sync(snapshot).ok());
  ASSERT_TRUE((*actor)->Act(false, &action).ok());
  EXPECT_DOUBLE_EQ(action.epsilon, 0.01);
}

}  // namespace
}  // namespace rlx
