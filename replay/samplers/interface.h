// Sampler: the strategy a replay table uses to choose which item to return,
// and (the same interface) which item its remover removes when the table is
// full: a remover is a Sampler whose choice the Table deletes.
//
// A Sampler indexes item keys with a per-item value and picks one key per
// Sample() call. It does not own items and never removes them on its own: the
// Table inserts, updates and deletes keys and holds the lock. Not thread-safe;
// every call happens under the owning Table's mutex, so no call may block, and
// every call should be O(log n) or better.
//
// The value passed to Insert/Update means:
//   prioritized:     the item's priority (finite, >= 0; 0 = never chosen while
//                    any priority is positive)
//   lowest_priority: the item's priority (finite); remover only
//   return_weighted: the item's episode return (finite)
//   uniform/fifo/lifo: ignored
// Invalid values return INVALID_ARGUMENT and leave the sampler unchanged (the
// Table validates earlier too).
//
// Implementations: uniform.h, fifo.h, lifo.h, prioritized.h, return_weighted.h,
// lowest_priority.h; CreateSampler and CreateRemover are in factory.cc.
#ifndef RLX_REPLAY_SAMPLERS_INTERFACE_H_
#define RLX_REPLAY_SAMPLERS_INTERFACE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replay.pb.h"

namespace rlx {

struct SampleChoice {
  uint64_t key = 0;
  // Probability that this key was chosen (1 for deterministic samplers).
  double probability = 1.0;
  // Importance weight (prioritized: (N*P)^-beta / max weight; 1 otherwise).
  double weight = 1.0;
};

class Sampler {
 public:
  virtual ~Sampler() = default;

  // key must not be present (ALREADY_EXISTS otherwise).
  virtual absl::Status Insert(uint64_t key, double value) = 0;
  // key must be present (NOT_FOUND otherwise).
  virtual absl::Status Update(uint64_t key, double value) = 0;
  virtual absl::Status Delete(uint64_t key) = 0;
  // Chooses a key; FAILED_PRECONDITION when empty.
  virtual absl::StatusOr<SampleChoice> Sample() = 0;
  // Appends n choices to out, the same ones n Sample() calls would make (the
  // caller deletes nothing in between); fewer only when the sampler is empty.
  // Random samplers override it to overlap the memory accesses of the n draws.
  virtual void SampleMany(int64_t n, std::vector<SampleChoice>* out) {
    for (int64_t i = 0; i < n; ++i) {
      absl::StatusOr<SampleChoice> choice = Sample();
      if (!choice.ok()) return;
      out->push_back(*choice);
    }
  }
  virtual void Clear() = 0;
  virtual int64_t size() const = 0;
};

// Builds the sampler a config names; INVALID_ARGUMENT for a bad config (no kind
// set, temperature <= 0, negative exponents), naming the field. seed fixes the
// sampler's random stream (tests use it; servers pass a random one): the same
// seed and the same sequence of calls give the same choices.
absl::StatusOr<std::unique_ptr<Sampler>> CreateSampler(const SamplerConfig& config,
                                                       uint64_t seed);

// Builds the selector of a table's remover (RemoverConfig): fifo (also when no
// kind is set), lifo, uniform (seeded like CreateSampler) or lowest_priority.
// The Table passes each item's priority as the value.
absl::StatusOr<std::unique_ptr<Sampler>> CreateRemover(const RemoverConfig& config,
                                                       uint64_t seed);

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_INTERFACE_H_
