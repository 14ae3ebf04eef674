// The Sampler contract (interface.h), checked for every strategy through
// CreateSampler: bookkeeping, error codes, seeded determinism.
#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/container/flat_hash_set.h"
#include "replay/samplers/interface.h"
#include "replay/samplers/sampler_rng.h"
#include "tests/replay/samplers/sampler_test_util.h"

namespace rlx {
namespace {

using sampler_test::MakeSampler;

struct ContractCase {
  std::string name;
  SamplerConfig config;
};

class SamplerContractTest : public ::testing::TestWithParam<ContractCase> {
 protected:
  std::unique_ptr<Sampler> Make(uint64_t seed = 1) { return MakeSampler(GetParam().config, seed); }
};

TEST_P(SamplerContractTest, NewSamplerIsEmptyAndSamplingFailsWithFailedPrecondition) {
  auto sampler = Make();
  EXPECT_EQ(sampler->size(), 0);
  EXPECT_EQ(sampler->Sample().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(SamplerContractTest, InsertUpdateAndDeleteKeepSizeInStep) {
  auto sampler = Make();
  for (uint64_t key = 10; key < 15; ++key) ASSERT_TRUE(sampler->Insert(key, 1.0 + key).ok());
  EXPECT_EQ(sampler->size(), 5);
  ASSERT_TRUE(sampler->Update(12, 3.0).ok());
  EXPECT_EQ(sampler->size(), 5);
  ASSERT_TRUE(sampler->Delete(12).ok());
  ASSERT_TRUE(sampler->Delete(10).ok());
  EXPECT_EQ(sampler->size(), 3);
  ASSERT_TRUE(sampler->Delete(11).ok());
  ASSERT_TRUE(sampler->Delete(13).ok());
  ASSERT_TRUE(sampler->Delete(14).ok());
  EXPECT_EQ(sampler->size(), 0);
  EXPECT_EQ(sampler->Sample().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(SamplerContractTest, InsertingAPresentKeyFailsWithAlreadyExists) {
  auto sampler = Make();
  ASSERT_TRUE(sampler->Insert(7, 1.0).ok());
  const absl::Status status = sampler->Insert(7, 2.0);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_THAT(status.message(), ::testing::HasSubstr("7"));
  EXPECT_EQ(sampler->size(), 1);
}

TEST_P(SamplerContractTest, UpdatingOrDeletingAMissingKeyFailsWithNotFound) {
  auto sampler = Make();
  ASSERT_TRUE(sampler->Insert(1, 1.0).ok());
  EXPECT_EQ(sampler->Update(2, 1.0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sampler->Delete(2).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(sampler->Delete(1).ok());
  EXPECT_EQ(sampler->Delete(1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sampler->Update(1, 1.0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sampler->size(), 0);
}

TEST_P(SamplerContractTest, ClearEmptiesTheSamplerAndKeysCanBeInsertedAgain) {
  auto sampler = Make();
  for (uint64_t key = 0; key < 100; ++key) ASSERT_TRUE(sampler->Insert(key, 1.0).ok());
  sampler->Clear();
  EXPECT_EQ(sampler->size(), 0);
  EXPECT_EQ(sampler->Sample().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sampler->Delete(5).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(sampler->Insert(5, 2.0).ok());
  auto choice = sampler->Sample();
  ASSERT_TRUE(choice.ok()) << choice.status();
  EXPECT_EQ(choice->key, 5u);
}

TEST_P(SamplerContractTest, ASingleKeyIsSampledWithProbabilityOneAndWeightOne) {
  auto sampler = Make();
  ASSERT_TRUE(sampler->Insert(42, 3.0).ok());
  for (int i = 0; i < 10; ++i) {
    auto choice = sampler->Sample();
    ASSERT_TRUE(choice.ok()) << choice.status();
    EXPECT_EQ(choice->key, 42u);
    EXPECT_DOUBLE_EQ(choice->probability, 1.0);
    EXPECT_DOUBLE_EQ(choice->weight, 1.0);
  }
}

TEST_P(SamplerContractTest, SamplesOnlyPresentKeysUnderRandomInsertsUpdatesAndDeletes) {
  auto sampler = Make();
  SamplerRng rng(99);
  absl::flat_hash_set<uint64_t> present;
  std::vector<uint64_t> present_list;  // for picking a random present key
  for (int step = 0; step < 20000; ++step) {
    const uint64_t key = rng.UniformIndex(500);
    const double value = 1.0 + static_cast<double>(rng.UniformIndex(100));
    const uint64_t op = rng.UniformIndex(3);
    if (op == 0) {
      const absl::Status status = sampler->Insert(key, value);
      if (present.insert(key).second) {
        ASSERT_TRUE(status.ok()) << status;
      } else {
        ASSERT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
      }
    } else if (op == 1) {
      const absl::Status status = sampler->Update(key, value);
      ASSERT_EQ(status.code(), present.contains(key) ? absl::StatusCode::kOk
                                                     : absl::StatusCode::kNotFound)
          << status;
    } else {
      const absl::Status status = sampler->Delete(key);
      ASSERT_EQ(status.code(), present.erase(key) == 1 ? absl::StatusCode::kOk
                                                       : absl::StatusCode::kNotFound)
          << status;
    }
    ASSERT_EQ(sampler->size(), static_cast<int64_t>(present.size()));
    auto choice = sampler->Sample();
    if (present.empty()) {
      ASSERT_EQ(choice.status().code(), absl::StatusCode::kFailedPrecondition);
      continue;
    }
    ASSERT_TRUE(choice.ok()) << choice.status();
    ASSERT_TRUE(present.contains(choice->key)) << "sampled absent key " << choice->key;
    ASSERT_GT(choice->probability, 0.0);
    ASSERT_LE(choice->probability, 1.0);
    ASSERT_GT(choice->weight, 0.0);
    ASSERT_LE(choice->weight, 1.0);
  }
}

TEST_P(SamplerContractTest, TheSameSeedGivesTheSameSampleSequence) {
  auto first = Make(/*seed=*/1234);
  auto second = Make(/*seed=*/1234);
  for (uint64_t key = 0; key < 50; ++key) {
    ASSERT_TRUE(first->Insert(key, 1.0 + key % 7).ok());
    ASSERT_TRUE(second->Insert(key, 1.0 + key % 7).ok());
  }
  for (uint64_t key = 0; key < 50; key += 3) {
    ASSERT_TRUE(first->Delete(key).ok());
    ASSERT_TRUE(second->Delete(key).ok());
  }
  for (int i = 0; i < 1000; ++i) {
    auto a = first->Sample();
    auto b = second->Sample();
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->key, b->key) << "draw " << i;
    ASSERT_EQ(a->probability, b->probability);
    ASSERT_EQ(a->weight, b->weight);
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllSamplers, SamplerContractTest,
    ::testing::Values(ContractCase{"Uniform", sampler_test::UniformConfig()},
                      ContractCase{"Fifo", sampler_test::FifoConfig()},
                      ContractCase{"Lifo", sampler_test::LifoConfig()},
                      ContractCase{"Prioritized", sampler_test::PrioritizedConfig(0.6, 0.4)},
                      ContractCase{"ReturnWeighted", sampler_test::ReturnWeightedConfig(2.0)}),
    [](const ::testing::TestParamInfo<ContractCase>& info) { return info.param.name; });

}  // namespace
}  // namespace rlx
