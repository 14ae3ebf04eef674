#include "algorithms/stream_x/stream_trainer.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "models/torch_mlp.h"

namespace rlx {
namespace {

std::vector<float> AllParams(const StreamLearner& learner) {
  std::vector<float> all;
  for (int i = 0; i < learner.num_networks(); ++i) {
    absl::Span<const float> p = learner.network(i).params();
    all.insert(all.end(), p.begin(), p.end());
  }
  return all;
}

StreamTrainOptions Options(StreamAlgorithm algorithm, const std::string& env, int64_t steps,
                           uint64_t seed) {
  StreamTrainOptions options;
  options.env_name = env;
  options.config.algorithm = algorithm;
  options.steps = steps;
  options.seed = seed;
  return options;
}

class TrainerDeterminismTest
    : public testing::TestWithParam<std::pair<StreamAlgorithm, std::string>> {};

TEST_P(TrainerDeterminismTest, SameSeedGivesTheSameRunBitForBit) {
  SetTorchThreads(1);
  const auto [algorithm, env] = GetParam();
  auto a = RunStreamTraining(Options(algorithm, env, 3000, 7));
  auto b = RunStreamTraining(Options(algorithm, env, 3000, 7));
  auto c = RunStreamTraining(Options(algorithm, env, 3000, 8));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok() && c.ok());
  ASSERT_EQ(a->episodes.size(), b->episodes.size());
  for (size_t i = 0; i < a->episodes.size(); ++i) {
    EXPECT_EQ(a->episodes[i].env_step, b->episodes[i].env_step);
    EXPECT_EQ(a->episodes[i].episode_return, b->episodes[i].episode_return);
  }
  EXPECT_EQ(AllParams(*a->learner), AllParams(*b->learner));
  EXPECT_NE(AllParams(*a->learner), AllParams(*c->learner));
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, TrainerDeterminismTest,
    testing::Values(std::make_pair(StreamAlgorithm::kStreamAC, std::string("CartPole-v1")),
                    std::make_pair(StreamAlgorithm::kStreamQ, std::string("CartPole-v1")),
                    std::make_pair(StreamAlgorithm::kStreamTD, std::string("CartPole-v1")),
                    std::make_pair(StreamAlgorithm::kStreamAC, std::string("Pendulum-v1"))));

TEST(StreamTrainerTest, TdValueErrorAgainstMonteCarloReturnsFalls) {
  SetTorchThreads(1);
  StreamTrainOptions options = Options(StreamAlgorithm::kStreamTD, "CartPole-v1", 8000, 1);
  auto result = RunStreamTraining(options);
  ASSERT_TRUE(result.ok()) << result.status();
  const auto& e = result->episodes;
  ASSERT_GT(e.size(), 100u);
  auto mean_rmse = [&e](size_t from, size_t to) {
    double sum = 0;
    for (size_t i = from; i < to; ++i) sum += e[i].value_rmse;
    return sum / (to - from);
  };
  const double early = mean_rmse(0, 20), late = mean_rmse(e.size() - 50, e.size());
  EXPECT_LT(late, 0.5 * early) << "early " << early << " late " << late;
}

TEST(StreamTrainerTest, GreedyEvaluationDoesNotChangeTraining) {
  SetTorchThreads(1);
  StreamTrainOptions plain = Options(StreamAlgorithm::kStreamAC, "CartPole-v1", 2000, 3);
  StreamTrainOptions evaluated = plain;
  evaluated.eval_every = 500;
  evaluated.eval_episodes = 2;
  auto a = RunStreamTraining(plain);
  auto b = RunStreamTraining(evaluated);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->evals.size(), 4u);
  EXPECT_EQ(AllParams(*a->learner), AllParams(*b->learner));
}

TEST(StreamTrainerTest, UnknownEnvIsNotFound) {
  auto result = RunStreamTraining(Options(StreamAlgorithm::kStreamAC, "NoSuchEnv-v0", 10, 1));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace rlx
