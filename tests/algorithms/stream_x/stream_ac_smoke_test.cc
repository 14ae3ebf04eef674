// Learning smoke test: Stream AC(lambda) with the paper's defaults must reach
// a CartPole-v1 training return of 200 (mean of 10 episodes) within 20k
// steps. One fixed seed; stops as soon as it gets there (a few seconds).
#include "gtest/gtest.h"
#include "algorithms/stream_x/stream_trainer.h"
#include "models/backends.h"

namespace rlx {
namespace {

TEST(StreamAcSmokeTest, ReachesReturn200OnCartPoleWithin20kSteps) {
  SetBackendThreads(1);
  StreamTrainOptions options;
  options.env_name = "CartPole-v1";
  options.config.algorithm = StreamAlgorithm::kStreamAC;
  options.steps = 20000;
  options.seed = 1;
  options.solve_threshold = 200;
  options.stop_when_solved = true;
  auto result = RunStreamTraining(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GE(result->solved_at, 0) << "mean of the last 10 returns after 20k steps: "
                                  << MeanLastReturns(result->episodes, 10);
  RecordProperty("solved_at", static_cast<int>(result->solved_at));
}

}  // namespace
}  // namespace rlx
