// SPO's pieces: the built-in preference functions' properties, win-rate
// rewards on hand-made groups, the Minimax Winner.
#include <cmath>
#include <cstdio>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "algorithms/ppo/ppo_trainer.h"
#include "algorithms/spo/job_config.h"
#include "algorithms/spo/preference_trainer.h"
#include "algorithms/spo/reward_model.h"
#include "algorithms/preferences.h"
#include "algorithms/spo/win_rate.h"

namespace rlx::spo {
namespace {

Trajectory RandomTrajectory(std::mt19937_64* rng, int length) {
  std::normal_distribution<float> normal;
  Trajectory t;
  t.set_length(length);
  t.set_obs_dim(2);
  t.set_action_dim(1);
  for (int i = 0; i < 2 * (length + 1); ++i) t.add_observations(normal(*rng));
  for (int i = 0; i < length; ++i) {
    t.add_actions(normal(*rng));
    t.add_rewards(normal(*rng));
  }
  return t;
}

PreferenceFunctionSpec Spec(const std::string& name) {
  PreferenceFunctionSpec spec;
  spec.set_name(name);
  spec.set_temperature(1.0);
  spec.add_mix(0.4);
  spec.add_mix(0.35);
  spec.add_mix(0.25);
  spec.set_threshold(0.5);
  return spec;
}

TEST(PreferencesTest, EveryFunctionIsAntisymmetricWithTiesAtOneHalf) {
  std::mt19937_64 rng(1);
  for (const char* name : {"markovian", "noisy", "intransitive", "non_markovian"}) {
    auto f = MakePreferenceFunction(Spec(name));
    ASSERT_TRUE(f.ok()) << name;
    for (int k = 0; k < 200; ++k) {
      const Trajectory a = RandomTrajectory(&rng, 1 + k % 7);
      const Trajectory b = RandomTrajectory(&rng, 1 + k % 5);
      const double p = (*f)->Probability(a, b);
      EXPECT_GE(p, 0.0);
      EXPECT_LE(p, 1.0);
      EXPECT_NEAR(p + (*f)->Probability(b, a), 1.0, 1e-12) << name;
      EXPECT_EQ((*f)->Probability(a, a), 0.5) << name;
    }
  }
}

TEST(PreferencesTest, MarkovianComparesTrueReturns) {
  auto f = MakePreferenceFunction(Spec("markovian"));
  ASSERT_TRUE(f.ok());
  // Returns 0, 2, 1 for actions 0, 1, 2.
  EXPECT_EQ((*f)->Probability(PreferenceGameTrajectory(1), PreferenceGameTrajectory(2)), 1.0);
  EXPECT_EQ((*f)->Probability(PreferenceGameTrajectory(0), PreferenceGameTrajectory(2)), 0.0);
}

TEST(PreferencesTest, IntransitiveMixMakesTheMajorityCycleOnAHandMadeTriple) {
  auto f = MakePreferenceFunction(Spec("intransitive"));
  ASSERT_TRUE(f.ok());
  const Trajectory t0 = PreferenceGameTrajectory(0), t1 = PreferenceGameTrajectory(1),
                   t2 = PreferenceGameTrajectory(2);
  // Each rater is transitive, but the majority prefers 0 to 1, 1 to 2 and 2 to 0.
  EXPECT_NEAR((*f)->Probability(t0, t1), 0.35 + 0.25, 1e-12);  // position, energy
  EXPECT_NEAR((*f)->Probability(t1, t2), 0.4 + 0.25, 1e-12);   // return, energy
  EXPECT_NEAR((*f)->Probability(t2, t0), 0.4 + 0.35, 1e-12);   // return, position
}

TEST(PreferencesTest, NoisyVotesFollowTheirProbabilityOver10000Draws) {
  PreferenceFunctionSpec spec = Spec("noisy");
  spec.set_temperature(2.0);
  auto f = MakePreferenceFunction(spec);
  ASSERT_TRUE(f.ok());
  const Trajectory a = PreferenceGameTrajectory(1), b = PreferenceGameTrajectory(2);  // returns 2 and 1
  const double p = (*f)->Probability(a, b);
  EXPECT_NEAR(p, 1.0 / (1.0 + std::exp(-0.5)), 1e-12);
  std::mt19937_64 rng(3);
  double wins = 0;
  for (int i = 0; i < 10000; ++i) wins += (*f)->Vote(a, b, &rng);
  // Binomial standard deviation ~0.005: four of them.
  EXPECT_NEAR(wins / 10000, p, 0.02);
}

TEST(PreferencesTest, NonMarkovianPrefersTheHeadReturnWithinTheTailThreshold) {
  auto f = MakePreferenceFunction(Spec("non_markovian"));  // threshold 0.5
  ASSERT_TRUE(f.ok());
  auto traj = [](std::vector<float> rewards) {
    Trajectory t;
    t.set_length(static_cast<int>(rewards.size()));
    for (float r : rewards) t.add_rewards(r);
    return t;
  };
  // Head = first ceil(3n/4) rewards, tail = the rest.
  const Trajectory big_head_bad_tail = traj({5, 5, 5, 1});   // tail 1 > 0.5
  const Trajectory small_head_ok_tail = traj({1, 1, 1, 0});  // tail 0
  const Trajectory bigger_ok = traj({2, 2, 2, 0.5});
  EXPECT_EQ((*f)->Probability(small_head_ok_tail, big_head_bad_tail), 1.0);
  EXPECT_EQ((*f)->Probability(bigger_ok, small_head_ok_tail), 1.0);
}

TEST(PreferencesTest, BadSpecsAndTrajectoriesAreNamed) {
  PreferenceFunctionSpec spec = Spec("noisy");
  spec.set_temperature(0);
  EXPECT_THAT(std::string(MakePreferenceFunction(spec).status().message()),
              ::testing::HasSubstr("temperature"));
  EXPECT_THAT(std::string(MakePreferenceFunction(Spec("best_of")).status().message()),
              ::testing::HasSubstr("function.name"));
  CompareRequest request;
  *request.mutable_function() = Spec("markovian");
  *request.add_trajectories() = PreferenceGameTrajectory(0);
  Trajectory bad = PreferenceGameTrajectory(1);
  bad.add_rewards(3);  // one more reward than steps
  *request.add_trajectories() = bad;
  request.add_pairs()->set_b(1);
  std::mt19937_64 rng(1);
  EXPECT_THAT(std::string(Compare(request, &rng).status().message()),
              ::testing::HasSubstr("trajectories[1]"));
  request.mutable_trajectories(1)->mutable_rewards()->RemoveLast();
  request.mutable_pairs(0)->set_b(5);
  EXPECT_THAT(std::string(Compare(request, &rng).status().message()),
              ::testing::HasSubstr("pairs[0]"));
  request.mutable_pairs(0)->set_b(1);
  auto ok = Compare(request, &rng);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->p_a_preferred(0), 0.0);
}

Comparator LocalComparator(const PreferenceFunction* f) {
  return [f](const std::vector<const Trajectory*>& all,
             const std::vector<std::pair<int, int>>& pairs) -> absl::StatusOr<std::vector<double>> {
    std::vector<double> out;
    for (const auto& [a, b] : pairs) out.push_back(f->Probability(*all[a], *all[b]));
    return out;
  };
}

TEST(WinRateTest, HandMadeGroupAgainstEveryOpponent) {
  auto f = MakePreferenceFunction(Spec("markovian"));
  ASSERT_TRUE(f.ok());
  // Returns 0, 2, 1 in the group; a queue with one return-1 trajectory.
  const std::vector<Trajectory> group = {PreferenceGameTrajectory(0), PreferenceGameTrajectory(1),
                                         PreferenceGameTrajectory(2)};
  const std::vector<Trajectory> queue = {PreferenceGameTrajectory(2)};
  std::mt19937_64 rng(1);
  int64_t queries = 0;
  auto rates = WinRates(group, queue, /*opponents=*/0, LocalComparator(f->get()), &rng, &queries);
  ASSERT_TRUE(rates.ok());
  EXPECT_EQ(queries, 9);
  EXPECT_NEAR((*rates)[0], 0.0, 1e-12);              // loses to all 3
  EXPECT_NEAR((*rates)[1], 1.0, 1e-12);              // beats all 3
  EXPECT_NEAR((*rates)[2], (0 + 1 + 0.5) / 3, 1e-12);  // beats 0, loses to 1, ties its twin
  // A rater answering out of [0, 1] is an error, not a reward.
  auto broken = [](const std::vector<const Trajectory*>&,
                   const std::vector<std::pair<int, int>>& pairs) -> absl::StatusOr<std::vector<double>> {
    return std::vector<double>(pairs.size(), NAN);
  };
  EXPECT_FALSE(WinRates(group, queue, 0, broken, &rng).ok());
}

// The exploration monitor: repeated action sequences count once; continuous
// actions within rounding of each other count as one path.
TEST(WinRateTest, DistinctShareCountsEachActionSequenceOnce) {
  auto make = [](std::vector<float> actions, int action_dim) {
    Trajectory t;
    t.set_length(static_cast<int>(actions.size()) / action_dim);
    t.set_action_dim(action_dim);
    for (float a : actions) t.add_actions(a);
    return t;
  };
  const Trajectory a = make({0, 1, 1, 0}, 1), a_again = make({0, 1, 1, 0}, 1),
                   b = make({0, 1, 1}, 1), c = make({1, 1, 1, 0}, 1);
  EXPECT_TRUE(std::isnan(DistinctShare({})));
  EXPECT_DOUBLE_EQ(DistinctShare({&a}), 1.0);
  EXPECT_DOUBLE_EQ(DistinctShare({&a, &a_again}), 0.5);
  EXPECT_DOUBLE_EQ(DistinctShare({&a, &a_again, &b, &c}), 0.75);  // a prefix differs
  // Continuous: 0.52 and 0.48 round to the same 0.5; 0.9 does not.
  const Trajectory g1 = make({0.52f, -0.31f}, 2), g2 = make({0.48f, -0.29f}, 2),
                   g3 = make({0.9f, -0.31f}, 2);
  EXPECT_DOUBLE_EQ(DistinctShare({&g1, &g2}), 0.5);
  EXPECT_DOUBLE_EQ(DistinctShare({&g1, &g2, &g3}), 2.0 / 3.0);
  // Same numbers, different action widths: different paths.
  const Trajectory one_dim = make({0.5f, -0.3f}, 1);
  EXPECT_DOUBLE_EQ(DistinctShare({&g1, &one_dim}), 1.0);
}

TEST(MinimaxWinnerTest, RockPaperScissorsAndAWeightedCycle) {
  const std::vector<std::vector<double>> rps = {{0.5, 1, 0}, {0, 0.5, 1}, {1, 0, 0.5}};
  const std::vector<double> u = MinimaxWinner(rps);
  for (double p : u) EXPECT_NEAR(p, 1.0 / 3, 0.01);
  // Margins 0.1 (0 over 1), 0.15 (1 over 2), 0.25 (2 over 0): p ∝ (0.15, 0.25, 0.1).
  const std::vector<std::vector<double>> m = {{0.5, 0.6, 0.25}, {0.4, 0.5, 0.65}, {0.75, 0.35, 0.5}};
  const std::vector<double> w = MinimaxWinner(m);
  EXPECT_NEAR(w[0], 0.3, 0.01);
  EXPECT_NEAR(w[1], 0.5, 0.01);
  EXPECT_NEAR(w[2], 0.2, 0.01);
}

// Normal quantiles: `count` lengths with mean `mean` and spread `sd`.
std::vector<int> NormalLengths(double mean, double sd, int count) {
  std::vector<int> v;
  for (int i = 0; i < count; ++i) {
    // Inverse normal CDF by bisection on erfc.
    const double p = (i + 0.5) / count;
    double lo = -8, hi = 8;
    for (int k = 0; k < 60; ++k) {
      const double mid = 0.5 * (lo + hi);
      (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
    }
    v.push_back(static_cast<int>(std::lround(mean + sd * 0.5 * (lo + hi))));
  }
  return v;
}

// CartPole's non-markovian test as a game over episode lengths: a policy
// that can only move its length distribution settles where SPO's push on
// the mean vanishes. For a normal spread sd that is where the density at
// the limit c equals the overlap integral of the distribution with itself,
// phi(z) / sd = 1 / (2 sd sqrt(pi)), z = (c - mean) / sd = sqrt(ln 2) =
// 0.833: about 80 % of episodes within the limit (Phi(0.833) = 0.797),
// whatever the spread. When longer always wins, nothing stops the push.
TEST(SelfPlayShiftFixedPointTest, NormalLengthsUnderTheNonMarkovianAndMarkovianPreferences) {
  PreferenceFunctionSpec spec;
  spec.set_name("non_markovian");
  spec.set_threshold(25);
  auto f = MakePreferenceFunction(spec);
  ASSERT_TRUE(f.ok()) << f.status();
  const std::vector<std::vector<double>> m = ConstantRewardLengthMatrix(**f, 500);
  ASSERT_EQ(m.size(), 501u);
  EXPECT_EQ(m[103][104], 1.0);  // 103 steps: last quarter 25, within; 104: 26
  EXPECT_EQ(m[104][103], 0.0);
  EXPECT_EQ(m[90][80], 1.0);
  EXPECT_EQ(m[200][150], 1.0);  // both over: the longer head wins
  EXPECT_EQ(m[60][60], 0.5);
  for (double sd : {10.0, 20.0}) {
    const ShiftFixedPoint fp = SelfPlayShiftFixedPoint(m, NormalLengths(60, sd, 400), /*h=*/1);
    int within = 0;
    double mean = 0;
    for (int l : fp.outcomes) {
      within += l <= 103;
      mean += l / 400.0;
    }
    EXPECT_NEAR(within / 400.0, 0.797, 0.02) << sd;
    EXPECT_NEAR(mean, 103.5 - 0.833 * sd, 1.5) << sd;
  }
  spec.set_name("markovian");
  auto g = MakePreferenceFunction(spec);
  ASSERT_TRUE(g.ok());
  const ShiftFixedPoint top =
      SelfPlayShiftFixedPoint(ConstantRewardLengthMatrix(**g, 500), NormalLengths(60, 10, 100));
  for (int l : top.outcomes) EXPECT_GE(l, 470);  // pushed to the time limit
}

// SPO's optimiser keeps raw rewards (win rates are in [0, 1]) where PPO's
// default scales them, in process and in a job, unless the job says so.
TEST(PreferenceTrainerTest, SpoKeepsRawRewardsByDefault) {
  EXPECT_TRUE(ppo::PpoConfig{}.normalize_rewards);
  EXPECT_FALSE(PreferenceTrainOptions{}.ppo.normalize_rewards);
  EXPECT_FALSE(SpoPpoDefaults().normalize_rewards);
  JobSpec spec;
  spec.set_algorithm("spo");
  spec.set_env("CartPole-v1");
  CompleteJob(&spec);
  EXPECT_FALSE(spec.spo().ppo().normalize_rewards());
  JobSpec scaled;
  scaled.set_algorithm("spo");
  scaled.set_env("CartPole-v1");
  scaled.mutable_spo()->mutable_ppo()->set_normalize_rewards(true);
  CompleteJob(&scaled);
  EXPECT_TRUE(scaled.spo().ppo().normalize_rewards());
}

// With the true reward (and no time feature) the preference trainer is PPO:
// the same episodes as ppo_train, bit for bit.
TEST(PreferenceTrainerTest, TrueRewardIsPpoTrain) {
  // With the same PPO settings, with and without reward scaling (SPO's
  // default is without, PPO's with).
  for (const bool scale_rewards : {false, true}) {
    SCOPED_TRACE(scale_rewards ? "rewards scaled" : "raw rewards");
    PreferenceTrainOptions options;
    options.env_name = "CartPole-v1";
    options.source = RewardSource::kTrueReward;
    options.time_feature = false;
    options.steps = 4096;
    options.seed = 3;
    options.ppo.normalize_rewards = scale_rewards;
    auto r = RunPreferenceTraining(options);
    ASSERT_TRUE(r.ok()) << r.status();
    ppo::PpoTrainOptions reference;
    reference.env_name = "CartPole-v1";
    reference.steps = 4096;
    reference.seed = 3;
    reference.config = options.ppo;
    auto p = ppo::RunPpoTraining(reference);
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(r->episodes.size(), p->episodes.size());
    for (size_t i = 0; i < p->episodes.size(); ++i) {
      EXPECT_EQ(r->episodes[i].episode_return, p->episodes[i].episode_return);
      EXPECT_EQ(r->episodes[i].env_step, p->episodes[i].env_step);
    }
    EXPECT_EQ(r->queries, 0);
  }
}

// The last quarter is the steps from ceil(3n / 4) on, as the non-markovian
// function splits a trajectory; the trainer records it for every episode
// (CartPole: 1 per step, so n - ceil(3n / 4)) and every greedy one.
TEST(PreferenceTrainerTest, RecordsEachEpisodesLastQuarterReturn) {
  EXPECT_EQ(LastQuarterReturn(std::vector<float>{}), 0.0);
  EXPECT_EQ(LastQuarterReturn(std::vector<float>{1, 2, 3, 4}), 4.0);
  EXPECT_EQ(LastQuarterReturn(std::vector<float>{1, 2, 3, 4, 5}), 5.0);  // ceil(15/4) = 4
  EXPECT_EQ(LastQuarterReturn(std::vector<float>{1, 2, 3, 4, 5, 6, 7}), 7.0);  // ceil(21/4) = 6
  EXPECT_EQ(LastQuarterReturn(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}), 15.0);
  PreferenceTrainOptions options;
  options.env_name = "CartPole-v1";
  options.preference.set_name("non_markovian");
  options.preference.set_threshold(25);
  options.steps = 4096;
  options.final_greedy_episodes = 2;
  auto r = RunPreferenceTraining(options);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->tail_returns.size(), r->episodes.size());
  ASSERT_GT(r->episodes.size(), 10u);
  for (size_t i = 0; i < r->episodes.size(); ++i) {
    const int n = r->episodes[i].length;
    EXPECT_EQ(r->tail_returns[i], n - (3 * n + 3) / 4) << "episode " << i;
  }
  ASSERT_EQ(r->greedy_tail_returns.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const int n = r->greedy_episodes[i].length;
    EXPECT_EQ(r->greedy_tail_returns[i], n - (3 * n + 3) / 4) << "greedy episode " << i;
  }
}

// SPO asks `opponents` comparisons for every episode that ends (once: its
// reward), and the reward-model baseline asks the same number.
TEST(PreferenceTrainerTest, EveryEndedEpisodeIsComparedOnceWithTheSameBudgetForBoth) {
  PreferenceTrainOptions options;
  options.env_name = "CartPole-v1";
  options.preference.set_name("markovian");
  options.opponents = 6;
  options.steps = 2048;
  options.final_greedy_episodes = 2;  // after training: asks nothing
  auto spo = RunPreferenceTraining(options);
  ASSERT_TRUE(spo.ok()) << spo.status();
  ASSERT_GT(spo->episodes.size(), 20u);
  EXPECT_EQ(spo->queries, 6 * static_cast<int64_t>(spo->episodes.size()));
  ASSERT_EQ(spo->greedy_episodes.size(), 2u);
  for (const ppo::EpisodeRecord& e : spo->greedy_episodes) EXPECT_GT(e.length, 0);
  EXPECT_EQ(spo->against_true_order, 0.0);  // markovian never prefers the lower return
  options.source = RewardSource::kRewardModel;
  auto rm = RunPreferenceTraining(options);
  ASSERT_TRUE(rm.ok()) << rm.status();
  EXPECT_EQ(rm->queries, 6 * static_cast<int64_t>(rm->episodes.size()));
}

// Trajectories of 2-d observations whose true per-step reward is the first
// observation component (plus 1 for action 1); lengths vary.
Trajectory ScoredTrajectory(std::mt19937_64* rng) {
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> length(5, 40), coin(0, 1);
  Trajectory t;
  t.set_length(length(*rng));
  t.set_obs_dim(2);
  t.set_action_dim(1);
  for (int i = 0; i < t.length(); ++i) {
    const float x = normal(*rng), y = normal(*rng);
    const int a = coin(*rng);
    t.add_observations(x);
    t.add_observations(y);
    t.add_actions(static_cast<float>(a));
    t.add_rewards(std::tanh(x) + a);
  }
  t.add_observations(0);
  t.add_observations(0);
  return t;
}

// The MLP reward model fitted to markovian answers orders fresh pairs by
// their true return, and its step rewards (batched or one at a time) sum to
// its trajectory reward.
TEST(RewardModelTest, MlpLearnsTheOrderOfTrueReturnsFromPreferences) {
  std::mt19937_64 rng(5);
  auto f = MakePreferenceFunction(Spec("markovian"));
  ASSERT_TRUE(f.ok());
  RewardModel::MlpOptions mlp;
  mlp.hidden = {32, 32};
  mlp.minibatch = 32;
  mlp.learning_rate = 3e-3;
  RewardModel model(/*obs_dim=*/2, /*action_dim=*/1, /*num_actions=*/2, 16384, mlp);
  ASSERT_TRUE(model.is_mlp());
  std::vector<Trajectory> pool;
  for (int i = 0; i < 200; ++i) pool.push_back(ScoredTrajectory(&rng));
  for (int q = 0; q < 3000; ++q) {
    const Trajectory& a = pool[rng() % pool.size()];
    const Trajectory& b = pool[rng() % pool.size()];
    model.Add(a, b, (*f)->Probability(a, b));
  }
  EXPECT_EQ(model.num_answers(), 3000);
  model.Fit(1500);
  auto true_return = [](const Trajectory& t) {
    double g = 0;
    for (float r : t.rewards()) g += r;
    return g;
  };
  int right = 0, asked = 0;
  for (int q = 0; q < 500; ++q) {
    const Trajectory a = ScoredTrajectory(&rng), b = ScoredTrajectory(&rng);
    if (std::abs(true_return(a) - true_return(b)) < 1.0) continue;
    ++asked;
    right += (model.Reward(a) > model.Reward(b)) == (true_return(a) > true_return(b));
  }
  ASSERT_GT(asked, 200);
  EXPECT_GT(static_cast<double>(right) / asked, 0.9) << right << " of " << asked;
  // Batched step rewards equal one-at-a-time ones and sum to Reward().
  const Trajectory t = ScoredTrajectory(&rng);
  std::vector<float> batched(t.length());
  model.StepRewards(t.observations().data(), 2, t.actions().data(), 1, t.length(), batched.data());
  double sum = 0;
  for (int k = 0; k < t.length(); ++k) {
    const double one = model.StepReward(absl::MakeConstSpan(t.observations().data() + 2 * k, 2),
                                        absl::MakeConstSpan(t.actions().data() + k, 1));
    EXPECT_NEAR(batched[k], one, 1e-5);
    sum += one;
  }
  EXPECT_NEAR(model.Reward(t), sum, 1e-3);
}

// The linear model keeps its full-batch fit: the same answers twice give the
// same weights, and it too orders by the true return.
TEST(RewardModelTest, LinearModelOrdersByTrueReturn) {
  std::mt19937_64 rng(6);
  auto f = MakePreferenceFunction(Spec("markovian"));
  ASSERT_TRUE(f.ok());
  RewardModel model(2, 1, 2);
  ASSERT_FALSE(model.is_mlp());
  for (int q = 0; q < 1000; ++q) {
    const Trajectory a = ScoredTrajectory(&rng), b = ScoredTrajectory(&rng);
    model.Add(a, b, (*f)->Probability(a, b));
  }
  model.Fit(300);
  // Action 1 is worth more than action 0, and x (reward tanh(x)) is positive.
  EXPECT_GT(model.weights()[1], model.weights()[0]);
  EXPECT_GT(model.weights()[2], 0.0);
}

// Whole-episode SPO: every ended episode is compared once, and learning
// needs no partial episode (every rollout row's steps have known rewards):
// the run completes with the requested steps and the same query budget.
TEST(PreferenceTrainerTest, WholeEpisodesAndSpreadAskOncePerEpisode) {
  for (bool spread : {false, true}) {
    PreferenceTrainOptions options;
    options.env_name = "CartPole-v1";
    options.preference.set_name("markovian");
    options.opponents = 4;
    options.steps = 4096;
    options.whole_episodes = true;
    options.spread = spread;
    auto r = RunPreferenceTraining(options);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_GT(r->episodes.size(), 20u);
    // Episodes still running at the end were never scored.
    EXPECT_LE(r->queries, 4 * static_cast<int64_t>(r->episodes.size()));
    EXPECT_GE(r->queries, 4 * (static_cast<int64_t>(r->episodes.size()) - 8));
    EXPECT_EQ(static_cast<int64_t>(r->queries_at_episode.size()) * 4, r->queries);
    EXPECT_GE(r->env_steps, 4096);
  }
}

}  // namespace
}  // namespace rlx::spo
