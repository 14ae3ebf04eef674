#include "replay/rate_limiter.h"

#include <gtest/gtest.h>

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
