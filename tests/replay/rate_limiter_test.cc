#include "replay/rate_limiter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace rlx {
namespace {

TEST(RateLimiterTest, MinSizeBlocksSamplesUntilMinSizeReached) {
  RateLimiterConfig c;
  c.mutable_min_size()->set_min_size(3);
  auto l = RateLimiter::Create(c, 100);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->CanInsert(0));
  EXPECT_FALSE(l->CanSample(2));
  EXPECT_TRUE(l->CanSample(3));
}

TEST(RateLimiterTest, UnsetConfigSamplesAnyNonEmptyTable) {
  auto l = RateLimiter::Create(RateLimiterConfig(), 100);
  ASSERT_TRUE(l.ok());
  EXPECT_FALSE(l->CanSample(0));
  EXPECT_TRUE(l->CanSample(1));
}

TEST(RateLimiterTest, QueueBlocksInsertsWhenFull) {
  RateLimiterConfig c;
  c.mutable_queue();
  auto l = RateLimiter::Create(c, 2);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->CanInsert(1));
  EXPECT_FALSE(l->CanInsert(2));
  EXPECT_FALSE(l->CanSample(0));
  EXPECT_TRUE(l->CanSample(1));
}

TEST(RateLimiterTest, SampleToInsertRatioKeepsRatioWithinErrorBuffer) {
  RateLimiterConfig c;
  auto* r = c.mutable_sample_to_insert_ratio();
  r->set_samples_per_insert(2.0);
  r->set_min_size_to_sample(2);
  r->set_error_buffer(4.0);
  auto l = RateLimiter::Create(c, 1000);
  ASSERT_TRUE(l.ok());
  // Below min size: inserts go, samples wait.
  EXPECT_TRUE(l->CanInsert(0));
  l->RecordInsert();
  EXPECT_FALSE(l->CanSample(1));
  l->RecordInsert();
  // diff = 2*2 - 0 = 4; min_diff = 4 - 4 = 0, max_diff = 8.
  EXPECT_TRUE(l->CanSample(2));
  // Inserting more: diff + 2 <= 8 allows up to diff 8 (4 inserts).
  l->RecordInsert();
  l->RecordInsert();  // diff = 8
  EXPECT_FALSE(l->CanInsert(4));
  // Samples bring the diff down until diff - 1 < 0.
  int samples = 0;
  while (l->CanSample(4)) {
    l->RecordSample();
    ++samples;
  }
  EXPECT_EQ(samples, 8);
  EXPECT_TRUE(l->CanInsert(4));
}

RateLimiterConfig RatioConfig(double spi, int64_t min_size, double error_buffer) {
  RateLimiterConfig c;
  auto* r = c.mutable_sample_to_insert_ratio();
  r->set_samples_per_insert(spi);
  r->set_min_size_to_sample(min_size);
  r->set_error_buffer(error_buffer);
  return c;
}

// The state a table with max_times_sampled 1 reached and stayed in: size 1
// (2 inserts, 1 delete), below min_size 2, so samples wait; the ratio alone
// (diff 9 + 5 > max_diff 11) would make inserts wait too.
TEST(RateLimiterTest, CountsDeletesTowardMinSize) {
  auto l = RateLimiter::Create(RatioConfig(/*spi=*/5, /*min_size=*/2, /*error_buffer=*/1), 100);
  ASSERT_TRUE(l.ok()) << l.status();
  l->RecordInsert();
  l->RecordInsert();
  ASSERT_TRUE(l->CanSample(2));
  l->RecordSample();
  l->RecordDelete();  // sampled max_times_sampled times
  EXPECT_FALSE(l->CanSample(1));
  EXPECT_TRUE(l->CanInsert(1));
  l->RecordInsert();
  EXPECT_TRUE(l->CanSample(2));
}

TEST(RateLimiterTest, InsertsPastMinSizeFollowTheRatioEvenAfterDeletes) {
  auto l = RateLimiter::Create(RatioConfig(/*spi=*/1, /*min_size=*/2, /*error_buffer=*/1), 100);
  ASSERT_TRUE(l.ok()) << l.status();
  l->RecordInsert();
  l->RecordInsert();
  // size 2 = min_size; diff 2, max_diff 3: a third insert would make diff 3.
  EXPECT_TRUE(l->CanInsert(2));
  l->RecordInsert();
  EXPECT_FALSE(l->CanInsert(3));  // diff 3 + 1 > 3
  l->RecordDelete();               // size 2: still not below min_size
  EXPECT_FALSE(l->CanInsert(2));
  l->RecordDelete();  // size 1: below min_size, inserts go again
  EXPECT_TRUE(l->CanInsert(1));
}

TEST(RateLimiterTest, SampleToInsertRatioAcceptsAnExplicitDiffRange) {
  RateLimiterConfig c;
  auto* r = c.mutable_sample_to_insert_ratio();
  r->set_samples_per_insert(1.0);
  r->set_min_size_to_sample(1);
  // Asymmetric: samples may lag inserts by up to 5, but never lead.
  r->mutable_diff_range()->set_min_diff(0.0);
  r->mutable_diff_range()->set_max_diff(5.0);
  auto l = RateLimiter::Create(c, 1000);
  ASSERT_TRUE(l.ok()) << l.status();
  int inserts = 0;
  while (l->CanInsert(inserts)) {
    l->RecordInsert();
    ++inserts;
  }
  EXPECT_EQ(inserts, 5);  // diff 5 = max_diff
  int samples = 0;
  while (l->CanSample(inserts)) {
    l->RecordSample();
    ++samples;
  }
  EXPECT_EQ(samples, 5);  // down to diff 0 = min_diff
}

TEST(RateLimiterTest, ExplicitDiffRangeIsValidatedNamingTheField) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    double min_diff, max_diff, error_buffer;
    std::string message;
  };
  const std::vector<Case> cases = {
      {3.0, 2.0, 0.0, "diff_range.min_diff (3) must be <= diff_range.max_diff (2)"},
      {nan, 2.0, 0.0, "diff_range.min_diff must be finite"},
      {-inf, 2.0, 0.0, "diff_range.min_diff must be finite"},
      {0.0, inf, 0.0, "diff_range.max_diff must be finite"},
      {0.0, nan, 0.0, "diff_range.max_diff must be finite"},
      {0.0, 2.0, 1.0, "set error_buffer or diff_range, not both"},
  };
  for (const Case& k : cases) {
    RateLimiterConfig c;
    auto* r = c.mutable_sample_to_insert_ratio();
    r->set_samples_per_insert(1.0);
    r->set_min_size_to_sample(1);
    r->set_error_buffer(k.error_buffer);
    r->mutable_diff_range()->set_min_diff(k.min_diff);
    r->mutable_diff_range()->set_max_diff(k.max_diff);
    auto l = RateLimiter::Create(c, 10);
    EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument) << k.message;
    EXPECT_THAT(std::string(l.status().message()),
                ::testing::HasSubstr("rate_limiter.sample_to_insert_ratio"))
        << k.message;
    EXPECT_THAT(std::string(l.status().message()), ::testing::HasSubstr(k.message));
  }
  // A degenerate but valid range (min_diff == max_diff) is accepted.
  RateLimiterConfig ok;
  ok.mutable_sample_to_insert_ratio()->set_samples_per_insert(1.0);
  ok.mutable_sample_to_insert_ratio()->set_min_size_to_sample(1);
  ok.mutable_sample_to_insert_ratio()->mutable_diff_range()->set_min_diff(2.0);
  ok.mutable_sample_to_insert_ratio()->mutable_diff_range()->set_max_diff(2.0);
  EXPECT_TRUE(RateLimiter::Create(ok, 10).ok());
}

TEST(RateLimiterTest, RejectsBadConfigNamingTheField) {
  RateLimiterConfig c;
  c.mutable_sample_to_insert_ratio()->set_samples_per_insert(-1);
  auto l = RateLimiter::Create(c, 10);
  EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(l.status().message().find("samples_per_insert"), std::string::npos);
  RateLimiterConfig m;
  m.mutable_min_size()->set_min_size(0);
  EXPECT_FALSE(RateLimiter::Create(m, 10).ok());
}

}  // namespace
}  // namespace rlx
