#include "envs/env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace rlx {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(EnvSpaceTest, BoxIsOneDimensionalWithItsBounds) {
  Space box = Space::Box({-1.f, -2.f, -3.f}, {1.f, 2.f, 3.f});
  EXPECT_FALSE(box.is_discrete());
  EXPECT_THAT(box.shape, ElementsAre(3));
  EXPECT_EQ(box.flat_size(), 3);
  EXPECT_THAT(box.low, ElementsAre(-1.f, -2.f, -3.f));
  EXPECT_THAT(box.high, ElementsAre(1.f, 2.f, 3.f));
}

TEST(EnvSpaceTest, DiscreteHasOneElement) {
  Space discrete = Space::Discrete(4);
  EXPECT_TRUE(discrete.is_discrete());
  EXPECT_EQ(discrete.n, 4);
  EXPECT_EQ(discrete.flat_size(), 1);
}

TEST(EnvSpaceTest, FlatSizeMultipliesTheShape) {
  Space box;
  box.shape = {2, 3, 4};
  EXPECT_EQ(box.flat_size(), 24);
}

TEST(EnvSpaceDeathTest, BoxWithMismatchedBoundsAborts) {
  EXPECT_DEATH(Space::Box({0.f, 1.f}, {1.f}), "low has 2 elements but high has 1");
}

TEST(EnvActionValidationTest, AcceptsEveryDiscreteActionInRange) {
  Space space = Space::Discrete(3);
  for (float a : {0.f, 1.f, 2.f}) {
    EXPECT_TRUE(ValidateAction(space, {a}).ok()) << a;
  }
}

TEST(EnvActionValidationTest, RejectsDiscreteActionOutOfRange) {
  Space space = Space::Discrete(3);
  absl::Status high = ValidateAction(space, {3.f});
  EXPECT_EQ(high.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(high.message(), HasSubstr("action[0] = 3 is out of range [0, 3)"));
  EXPECT_THAT(ValidateAction(space, {-1.f}).message(), HasSubstr("out of range"));
}

TEST(EnvActionValidationTest, RejectsNonIntegralDiscreteAction) {
  absl::Status s = ValidateAction(Space::Discrete(3), {1.5f});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("action[0] = 1.5 is not an integer"));
}

TEST(EnvActionValidationTest, RejectsNaNAndInfinity) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const Space& space : {Space::Discrete(2), Space::Box({-1.f}, {1.f})}) {
    absl::Status s = ValidateAction(space, {nan});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("action[0] is NaN"));
    s = ValidateAction(space, {-inf});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("not finite"));
  }
}

TEST(EnvActionValidationTest, RejectsWrongElementCount) {
  absl::Status s = ValidateAction(Space::Discrete(2), {0.f, 1.f});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("action has 2 elements, expected 1"));
  s = ValidateAction(Space::Box({-1.f, -1.f}, {1.f, 1.f}), {});
  EXPECT_THAT(s.message(), HasSubstr("action has 0 elements, expected 2"));
}

TEST(EnvActionValidationTest, AcceptsBoxActionsOnTheBounds) {
  Space space = Space::Box({-2.f, 0.f}, {2.f, 1.f});
  EXPECT_TRUE(ValidateAction(space, {-2.f, 0.f}).ok());
  EXPECT_TRUE(ValidateAction(space, {2.f, 1.f}).ok());
  EXPECT_TRUE(ValidateAction(space, {0.5f, 0.5f}).ok());
}

TEST(EnvActionValidationTest, RejectsBoxActionsOutsideTheBoundsNamingTheElement) {
  Space space = Space::Box({-2.f, 0.f}, {2.f, 1.f});
  absl::Status above = ValidateAction(space, {0.f, 1.25f});
  EXPECT_EQ(above.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(above.message(), HasSubstr("action[1] = 1.25 is above the upper bound 1"));
  absl::Status below = ValidateAction(space, {-2.5f, 0.f});
  EXPECT_EQ(below.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(below.message(), HasSubstr("action[0] = -2.5 is below the lower bound -2"));
}

}  // namespace
}  // namespace rlx
