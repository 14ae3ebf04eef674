#include "replay/rate_limiter.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace rlx {

absl::StatusOr<RateLimiter> RateLimiter::Create(const RateLimiterConfig& config,
                                                int64_t max_size) {
  RateLimiter limiter;
  limiter.max_size_ = max_size;
  switch (config.kind_case()) {
    case RateLimiterConfig::KIND_NOT_SET:
      break;
    case RateLimiterConfig::kMinSize:
      if (config.min_size().min_size() < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "rate_limiter.min_size.min_size must be >= 1, got ", config.min_size().min_size()));
      }
      limiter.min_size_ = config.min_size().min_size();
      break;
    case RateLimiterConfig::kSampleToInsertRatio: {
      const auto& c = config.sample_to_insert_ratio();
      if (!(c.samples_per_insert() > 0) || !std::isfinite(c.samples_per_insert())) {
        return absl::InvalidArgumentError(
            absl::StrCat("rate_limiter.sample_to_insert_ratio.samples_per_insert must be > 0, got ",
                         c.samples_per_insert()));
      }
      if (c.min_size_to_sample() < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("rate_limiter.sample_to_insert_ratio.min_size_to_sample must be >= 1, got ",
                         c.min_size_to_sample()));
      }
      limiter.kind_ = Kind::kRatio;
      limiter.min_size_ = c.min_size_to_sample();
      limiter.samples_per_insert_ = c.samples_per_insert();
      if (c.has_diff_range()) {
        // Reverb's explicit (min_diff, max_diff).
        const double min_diff = c.diff_range().min_diff();
        const double max_diff = c.diff_range().max_diff();
        if (c.error_buffer() != 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "rate_limiter.sample_to_insert_ratio: set error_buffer or diff_range, not both "
              "(error_buffer is ",
              c.error_buffer(), ")"));
        }
        if (!std::isfinite(min_diff)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "rate_limiter.sample_to_insert_ratio.diff_range.min_diff must be finite, got ",
              min_diff));
        }
        if (!std::isfinite(max_diff)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "rate_limiter.sample_to_insert_ratio.diff_range.max_diff must be finite, got ",
              max_diff));
        }
        if (!(min_diff <= max_diff)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "rate_limiter.sample_to_insert_ratio.diff_range.min_diff (", min_diff,
              ") must be <= diff_range.max_diff (", max_diff, ")"));
        }
        limiter.min_diff_ = min_diff;
        limiter.max_diff_ = max_diff;
        break;
      }
      if (!(c.error_buffer() >= 1.0) || !std::isfinite(c.error_buffer())) {
        return absl::InvalidArgumentError(
            absl::StrCat("rate_limiter.sample_to_insert_ratio.error_buffer must be >= 1, got ",
                         c.error_buffer()));
      }
      const double center = c.samples_per_insert() * c.min_size_to_sample();
      limiter.min_diff_ = center - c.error_buffer();
      limiter.max_diff_ = center + c.error_buffer();
      break;
    }
    case RateLimiterConfig::kQueue:
      if (max_size < 1) {
        return absl::InvalidArgumentError("max_size must be >= 1 for a queue table");
      }
      limiter.kind_ = Kind::kQueue;
      break;
  }
  return limiter;
}

bool RateLimiter::CanInsert(int64_t size) const {
  switch (kind_) {
    case Kind::kMinSize:
      return true;
    case Kind::kQueue:
      return size < max_size_;
    case Kind::kRatio: {
      // Reverb: the table's size is inserts - deletes; while it is below
      // min_size_to_sample, inserts go whatever the ratio.
      if (inserts_ + 1 - deletes_ <= min_size_) return true;
      const double diff = inserts_ * samples_per_insert_ - samples_;
      return diff + samples_per_insert_ <= max_diff_;
    }
  }
  return false;
}

bool RateLimiter::CanSample(int64_t size) const {
  if (size < 1) return false;
  switch (kind_) {
    case Kind::kMinSize:
      return size >= min_size_;
    case Kind::kQueue:
      return true;
    case Kind::kRatio: {
      if (inserts_ - deletes_ < min_size_) return false;
      const double diff = inserts_ * samples_per_insert_ - samples_;
      return diff - 1 >= min_diff_;
    }
  }
  return false;
}

int64_t RateLimiter::SamplesAllowed(int64_t size, int64_t want) const {
  if (want <= 0) return 0;
  // Only the ratio limiter reads the sample count; the others answer the same
  // for every sample of the run.
  if (kind_ != Kind::kRatio) return CanSample(size) ? want : 0;
  RateLimiter probe = *this;
  int64_t n = 0;
  while (n < want && probe.CanSample(size)) {
    ++probe.samples_;
    ++n;
  }
  return n;
}

}  // namespace rlx
