#include <cmath>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "replay/samplers/fifo.h"
#include "replay/samplers/interface.h"
#include "replay/samplers/lifo.h"
#include "replay/samplers/prioritized.h"
#include "replay/samplers/return_weighted.h"
#include "replay/samplers/uniform.h"
#include "tests/replay/samplers/sampler_test_util.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

template <typename T>
bool BuildsA(const SamplerConfig& config) {
  auto sampler = CreateSampler(config, /*seed=*/1);
  return sampler.ok() && dynamic_cast<T*>(sampler->get()) != nullptr;
}

TEST(CreateSamplerTest, BuildsTheSamplerTheConfigNames) {
  EXPECT_TRUE(BuildsA<UniformSampler>(sampler_test::UniformConfig()));
  EXPECT_TRUE(BuildsA<FifoSampler>(sampler_test::FifoConfig()));
  EXPECT_TRUE(BuildsA<LifoSampler>(sampler_test::LifoConfig()));
  EXPECT_TRUE(BuildsA<PrioritizedSampler>(sampler_test::PrioritizedConfig(0.6, 0.4)));
  EXPECT_TRUE(BuildsA<ReturnWeightedSampler>(sampler_test::ReturnWeightedConfig(1.0)));
}

TEST(CreateSamplerTest, AcceptsZeroExponents) {
  EXPECT_TRUE(BuildsA<PrioritizedSampler>(sampler_test::PrioritizedConfig(0.0, 0.0)));
}

// The status of CreateSampler(config), which must be INVALID_ARGUMENT.
std::string InvalidArgumentMessage(const SamplerConfig& config) {
  auto sampler = CreateSampler(config, /*seed=*/1);
  EXPECT_EQ(sampler.status().code(), absl::StatusCode::kInvalidArgument) << sampler.status();
  return std::string(sampler.status().message());
}

TEST(CreateSamplerTest, RejectsAConfigWithNoKind) {
  EXPECT_EQ(InvalidArgumentMessage(SamplerConfig()), "sampler: no kind set");
}

TEST(CreateSamplerTest, RejectsBadPriorityExponentNamingTheField) {
  EXPECT_THAT(InvalidArgumentMessage(sampler_test::PrioritizedConfig(-0.5, 0.4)),
              HasSubstr("sampler.prioritized.priority_exponent must be >= 0"));
  EXPECT_THAT(InvalidArgumentMessage(sampler_test::PrioritizedConfig(kNaN, 0.4)),
              HasSubstr("sampler.prioritized.priority_exponent must be finite"));
  EXPECT_THAT(InvalidArgumentMessage(sampler_test::PrioritizedConfig(kInf, 0.4)),
              HasSubstr("sampler.prioritized.priority_exponent must be finite"));
}

TEST(CreateSamplerTest, RejectsBadImportanceExponentNamingTheField) {
  EXPECT_THAT(InvalidArgumentMessage(sampler_test::PrioritizedConfig(0.6, -1.0)),
              HasSubstr("sampler.prioritized.importance_exponent must be >= 0"));
  EXPECT_THAT(InvalidArgumentMessage(sampler_test::PrioritizedConfig(0.6, kNaN)),
              HasSubstr("sampler.prioritized.importance_exponent must be finite"));
}

TEST(CreateSamplerTest, RejectsBadTemperatureNamingTheField) {
  for (double bad : {0.0, -1.0, kNaN, -kInf}) {
    EXPECT_THAT(InvalidArgumentMessage(sampler_test::ReturnWeightedConfig(bad)),
                HasSubstr("sampler.return_weighted.temperature must be > 0"))
        << bad;
  }
  EXPECT_THAT(InvalidArgumentMessage(sampler_test::ReturnWeightedConfig(kInf)),
              HasSubstr("sampler.return_weighted.temperature must be finite"));
}

}  // namespace
}  // namespace rlx
