// RateLimiter: decides whether a table may accept an insert or serve a sample
// right now. It is pure bookkeeping: it never blocks. The owning Table keeps
// the waiting callers and re-asks after every change of state.
//
// Kinds (TableConfig.rate_limiter):
//   min_size:                samples wait until the table holds min_size items.
//   sample_to_insert_ratio:  keeps samples / inserts near samples_per_insert
//                            (spi), Reverb's semantics: with
//                            diff = inserts * spi - samples and
//                            size = inserts - deletes, an insert may go when
//                            size + 1 <= min_size_to_sample or
//                            diff + spi <= max_diff, and a sample may go when
//                            size >= min_size_to_sample and
//                            diff - 1 >= min_diff. [min_diff, max_diff] is
//                            spi * min_size_to_sample -/+ error_buffer, or
//                            diff_range's explicit pair. Counting deletes
//                            means a table that fell below min_size_to_sample
//                            (max_times_sampled, max_size, max_bytes removals)
//                            takes inserts again instead of blocking both
//                            sides.
//   queue:                   inserts wait while size >= max_size; samples wait
//                            while the table is empty (each item is sampled once).
// Not thread-safe: called under the Table's mutex.
#ifndef RLX_REPLAY_RATE_LIMITER_H_
#define RLX_REPLAY_RATE_LIMITER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "replay.pb.h"

namespace rlx {

class RateLimiter {
 public:
  // Validates the config against the table's (max_size) and returns INVALID_ARGUMENT
  // naming the field on error. An unset config means min_size 1.
  static absl::StatusOr<RateLimiter> Create(const RateLimiterConfig& config, int64_t max_size);

  bool CanInsert(int64_t size) const;
  bool CanSample(int64_t size) const;

  void RecordInsert() { ++inserts_; }
  void RecordSample() { ++samples_; }
  void RecordSamples(int64_t n) { samples_ += n; }
  // How many of `want` samples may go one after another now (each recorded
  // before the next is asked), without recording any.
  int64_t SamplesAllowed(int64_t size, int64_t want) const;
  void RecordDelete() { ++deletes_; }
  void Reset() { inserts_ = samples_ = deletes_ = 0; }
  // Restores counters from a checkpoint.
  void Restore(int64_t inserts, int64_t samples, int64_t deletes) {
    inserts_ = inserts;
    samples_ = samples;
    deletes_ = deletes;
  }

  int64_t inserts() const { return inserts_; }
  int64_t samples() const { return samples_; }
  int64_t deletes() const { return deletes_; }
  bool is_queue() const { return kind_ == Kind::kQueue; }

 private:
  enum class Kind { kMinSize, kRatio, kQueue };
  RateLimiter() = default;

  Kind kind_ = Kind::kMinSize;
  int64_t min_size_ = 1;
  int64_t max_size_ = 0;
  double samples_per_insert_ = 1.0;
  double min_diff_ = 0.0;
  double max_diff_ = 0.0;
  int64_t inserts_ = 0;
  int64_t samples_ = 0;
  int64_t deletes_ = 0;
};

}  // namespace rlx

#endif  // RLX_REPLAY_RATE_LIMITER_H_
