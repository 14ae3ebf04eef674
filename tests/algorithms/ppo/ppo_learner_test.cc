#include "algorithms/ppo/ppo_learner.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "algorithms/ppo/ppo_trainer.h"

namespace rlx::ppo {
namespace {

ProblemSpec Discrete(int obs, int actions) {
  ProblemSpec p;
  p.observation_dim = obs;
  p.discrete = true;
  p.num_actions = actions;
  return p;
}

ProblemSpec Continuous(int obs, int actions) {
  ProblemSpec p;
  p.observation_dim = obs;
  p.discrete = false;
  p.action_dim = actions;
  p.action_low.assign(actions, -2.0f);
  p.action_high.assign(actions, 2.0f);
  return p;
}

PpoConfig SmallConfig() {
  PpoConfig c;
  c.hidden = {6, 5};
  c.anneal_lr = false;
  c.ent_coef = 0.05;
  return c;
}

// A minibatch whose old log-probs / values make some samples clipped and
// some not.
Minibatch RandomMinibatch(PpoLearner& learner, int64_t n, std::mt19937* rng) {
  const PpoModel& model = learner.model();
  Minibatch mb;
  mb.Resize(n, model.obs_dim(), model.action_width());
  std::normal_distribution<float> normal;
  for (float& x : mb.observations) x = normal(*rng);
  ActScratch scratch;
  ActOutput act;
  std::mt19937_64 act_rng(5);
  model.Act(mb.observations.data(), n, false, &act_rng, &scratch, &act);
  mb.actions = act.actions;
  for (int64_t k = 0; k < n; ++k) {
    mb.old_log_probs[k] = act.log_probs[k] + 0.4f * normal(*rng);
    mb.advantages[k] = normal(*rng);
    mb.returns[k] = act.values[k] + normal(*rng);
    mb.old_values[k] = act.values[k] + 0.3f * normal(*rng);
  }
  return mb;
}

void ExpectGradientMatchesFiniteDifferences(const ProblemSpec& problem, bool clip_value_loss) {
  PpoConfig config = SmallConfig();
  config.clip_value_loss = clip_value_loss;
  auto learner = PpoLearner::Create(problem, config, 3);
  ASSERT_TRUE(learner.ok()) << learner.status();
  std::mt19937 rng(11);
  const Minibatch mb = RandomMinibatch(**learner, 16, &rng);
  std::vector<float> grad;
  (*learner)->MinibatchLoss(mb, &grad);
  std::vector<float> params = (*learner)->model().GetParameters();
  ASSERT_EQ(grad.size(), params.size());
  const double h = 1e-3;
  int checked = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    std::vector<float> p = params;
    p[i] = params[i] + h;
    ASSERT_TRUE((*learner)->model().SetParameters(p).ok());
    const double up = (*learner)->MinibatchLoss(mb, nullptr);
    p[i] = params[i] - h;
    ASSERT_TRUE((*learner)->model().SetParameters(p).ok());
    const double down = (*learner)->MinibatchLoss(mb, nullptr);
    const double numeric = (up - down) / (2 * h);
    // Kinks of max/clip make a few central differences meaningless; those
    // show as a large mismatch on one side only, so use a loose tolerance.
    EXPECT_NEAR(grad[i], numeric, 2e-3 + 0.02 * std::abs(numeric)) << "parameter " << i;
    ++checked;
  }
  ASSERT_TRUE((*learner)->model().SetParameters(params).ok());
  EXPECT_GT(checked, 50);
}

// With CleanRL's clipped value loss (the default) and with the plain
// squared error (clip_value_loss: false).
TEST(PpoLossTest, GradientMatchesFiniteDifferencesCategorical) {
  ExpectGradientMatchesFiniteDifferences(Discrete(4, 3), /*clip_value_loss=*/false);
  ExpectGradientMatchesFiniteDifferences(Discrete(4, 3), /*clip_value_loss=*/true);
}

TEST(PpoLossTest, GradientMatchesFiniteDifferencesGaussian) {
  ExpectGradientMatchesFiniteDifferences(Continuous(3, 2), /*clip_value_loss=*/false);
  ExpectGradientMatchesFiniteDifferences(Continuous(3, 2), /*clip_value_loss=*/true);
}

// Outside the clip range, in the direction the clip stops, a sample gives no
// policy gradient: ratio > 1 + c with A > 0, and ratio < 1 - c with A < 0.
TEST(PpoLossTest, ClippedSamplesGiveNoPolicyGradient) {
  PpoConfig config = SmallConfig();
  config.ent_coef = 0;
  config.vf_coef = 0;
  auto learner = PpoLearner::Create(Discrete(4, 2), config, 1);
  ASSERT_TRUE(learner.ok());
  std::mt19937 rng(2);
  Minibatch mb = RandomMinibatch(**learner, 8, &rng);
  std::vector<float> lp(8), ent(8);
  {
    // The current log-probs, to place each ratio where we want it.
    std::unique_ptr<BatchCache> cache = (*learner)->model().actor().NewCache();
    auto head = (*learner)->model().actor().Forward(mb.observations.data(), 8, cache.get());
    (*learner)->model().LogProbEntropy(head.data(), 8, mb.actions.data(), lp.data(), ent.data());
  }
  for (int k = 0; k < 8; ++k) {
    const bool above = k % 2 == 0;
    // ratio 1.5 (> 1.2) with A = +1, or ratio 0.5 (< 0.8) with A = -1.
    mb.old_log_probs[k] = lp[k] - static_cast<float>(std::log(above ? 1.5 : 0.5));
    mb.advantages[k] = above ? 1.0f : -1.0f;
  }
  std::vector<float> grad;
  (*learner)->MinibatchLoss(mb, &grad);
  const int64_t actor = (*learner)->model().actor().num_params();
  for (int64_t i = 0; i < actor; ++i) EXPECT_EQ(grad[i], 0.0f) << i;
  // The same samples on the other side of the clip do move the policy.
  for (int k = 0; k < 8; ++k) mb.advantages[k] = -mb.advantages[k];
  (*learner)->MinibatchLoss(mb, &grad);
  double norm = 0;
  for (int64_t i = 0; i < actor; ++i) norm += double{grad[i]} * grad[i];
  EXPECT_GT(norm, 1e-10);
}

TEST(PpoLearnerTest, RejectsBadConfigsNamingEveryField) {
  PpoConfig c;
  c.num_minibatches = 3;  // does not divide 4 * 128
  c.clip_coef = -1;
  c.learning_rate = 0;
  auto learner = PpoLearner::Create(Discrete(4, 2), c, 1);
  ASSERT_FALSE(learner.ok());
  const std::string msg(learner.status().message());
  EXPECT_NE(msg.find("num_minibatches"), std::string::npos) << msg;
  EXPECT_NE(msg.find("clip_coef"), std::string::npos) << msg;
  EXPECT_NE(msg.find("learning_rate"), std::string::npos) << msg;
  EXPECT_NE(msg.find("total_env_steps"), std::string::npos) << msg;
}

TEST(PpoLearnerTest, RejectsMalformedRollouts) {
  PpoConfig c = SmallConfig();
  auto learner = PpoLearner::Create(Discrete(4, 2), c, 1);
  ASSERT_TRUE(learner.ok());
  Rollout r;
  r.Resize(2, 3, 4, 1);
  r.values.pop_back();
  PpoUpdateInfo info;
  EXPECT_EQ((*learner)->Update(r, &info).code(), absl::StatusCode::kInvalidArgument);
  r.Resize(2, 3, 4, 1);
  std::fill(r.rewards.begin(), r.rewards.end(), 0.0f);
  r.rewards[1] = NAN;
  absl::Status s = (*learner)->Update(r, &info);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("rewards[1]"), std::string::npos) << s;
}

// Learns for real, briefly: a PPO run on CartPole improves well past random
// (~22) within 50k steps. The full learning targets are in learning_bench.
TEST(PpoTrainerTest, CartPoleReturnsRiseWellAboveRandom) {
  PpoTrainOptions options;
  options.steps = 50000;
  options.seed = 1;
  auto result = RunPpoTraining(options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_GE(result->episodes.size(), 20u);
  double last = 0;
  for (size_t i = result->episodes.size() - 10; i < result->episodes.size(); ++i) {
    last += result->episodes[i].episode_return / 10;
  }
  EXPECT_GT(last, 100) << "mean of the last 10 training returns";
}

// The learner's MLP on LibTorch (learner_backend "libtorch", device cpu: the
// path a GPU takes with device cuda) learns as the dense one: the same
// rollouts, two updates, the same parameters up to float rounding.
TEST(PpoLearnerTest, LibTorchLearnerUpdatesAsTheDenseOne) {
  PpoTrainOptions options;
  options.steps = 2 * RolloutSize(options.config);
  options.seed = 4;
  std::vector<Rollout> rollouts;
  options.before_update = [&](const Rollout& r, PpoLearner*) { rollouts.push_back(r); };
  auto dense = RunPpoTraining(options);
  ASSERT_TRUE(dense.ok()) << dense.status();
  ASSERT_EQ(rollouts.size(), 2u);
  // Parameters after the last update (the hook sees the learner before each).
  const std::vector<float> want = dense->learner->model().GetParameters();

  PpoConfig config = dense->learner->config();
  config.learner_backend = "libtorch";
  auto torch = PpoLearner::Create(dense->learner->model().problem(), config, options.seed);
  ASSERT_TRUE(torch.ok()) << torch.status();
  auto fresh_dense = PpoLearner::Create(dense->learner->model().problem(),
                                        dense->learner->config(), options.seed);
  ASSERT_TRUE(fresh_dense.ok()) << fresh_dense.status();
  EXPECT_EQ((*torch)->model().GetParameters(), (*fresh_dense)->model().GetParameters())
      << "the same initial parameters";
  PpoUpdateInfo info, dense_info;
  for (const Rollout& r : rollouts) {
    ASSERT_TRUE((*torch)->Update(r, &info).ok());
    ASSERT_TRUE((*fresh_dense)->Update(r, &dense_info).ok());
    EXPECT_NEAR(info.policy_loss, dense_info.policy_loss, 1e-4);
    EXPECT_NEAR(info.value_loss, dense_info.value_loss, 1e-3 * (1 + std::abs(dense_info.value_loss)));
  }
  // The replay reproduces the training run itself.
  EXPECT_EQ((*fresh_dense)->model().GetParameters(), want);
  const std::vector<float> got = (*torch)->model().GetParameters();
  ASSERT_EQ(got.size(), want.size());
  double max_diff = 0;
  for (size_t i = 0; i < got.size(); ++i) max_diff = std::max(max_diff, double{std::abs(got[i] - want[i])});
  EXPECT_LT(max_diff, 1e-5) << "largest parameter difference after two updates";
}

}  // namespace
}  // namespace rlx::ppo
