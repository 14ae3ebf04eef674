#include "algorithms/monitors.h"

#include <gtest/gtest.h>

#include <cmath>

#include "models/mlp.h"
#include "models/torch_mlp.h"

namespace rlx {
namespace {

TEST(MonitorsTest, DormantRatioCountsUnitsThatNeverActivate) {
  // Hidden pre-activations [x, -x, 0]: after LayerNorm the third unit is always
  // exactly 0 (dormant), the first two are not.
  MlpSpec spec;
  spec.input_dim = 1;
  spec.hidden = {3};
  spec.output_dim = 1;
  std::vector<float> params(NumParameters(spec), 0.f);
  const auto offsets = ComputeLayerOffsets(spec);
  params[offsets[0].weight + 0] = 1.f;
  params[offsets[0].weight + 1] = -1.f;
  params[offsets[0].weight + 2] = 0.f;
  auto net = CreateTorchMlp(spec, params);
  ASSERT_TRUE(net.ok());
  const std::vector<std::vector<float>> inputs = {{1.f}, {-1.f}, {2.f}};
  EXPECT_NEAR(DormantRatio(**net, inputs), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(DormantRatio(**net, {}), 0.0);
}

TEST(MonitorsTest, ActionDiversityOverAWindow) {
  ActionDiversity d(/*window=*/8);
  for (int i = 0; i < 8; ++i) d.Add(std::vector<float>{static_cast<float>(i % 4)}, true);
  EXPECT_EQ(d.distinct(), 4);
  EXPECT_NEAR(d.entropy(), std::log(4.0), 1e-12);
  for (int i = 0; i < 8; ++i) d.Add(std::vector<float>{1.f}, true);  // the window forgets
  EXPECT_EQ(d.distinct(), 1);
  EXPECT_NEAR(d.entropy(), 0.0, 1e-12);
}

TEST(MonitorsTest, ContinuousActionDiversityIsTheMeanStd) {
  ActionDiversity d;
  d.Add(std::vector<float>{1.f, 0.f}, false);
  d.Add(std::vector<float>{-1.f, 0.f}, false);
  EXPECT_NEAR(d.entropy(), 0.5, 1e-6);  // dims: std 1 and 0
}

}  // namespace
}  // namespace rlx
