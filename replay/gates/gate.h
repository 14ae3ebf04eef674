// ItemGate: a replay table's extension point for *when* a stored item becomes
// visible to its sampler. Without a gate every item is sampleable as soon as
// it is stored. With one, the table stores the item (it counts against
// max_size and the byte budgets, is checkpointed, can be evicted) but hands
// it to the sampler only when the gate releases it; the rate limiter's
// sampling side counts released items only.
//
// Implementations: group_gate.h (whole groups of trajectories, for
// self-play preference optimisation). Like samplers, a gate is not
// thread-safe: the owning Table calls it under its lock, so no call may
// block.
#ifndef RLX_REPLAY_GATES_GATE_H_
#define RLX_REPLAY_GATES_GATE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replay/chunk.h"
#include "replay.pb.h"

namespace rlx {

class ItemGate {
 public:
  virtual ~ItemGate() = default;
  // Whether an item with this metadata may enter the table (INVALID_ARGUMENT
  // naming `field` otherwise); stateless, called before the item is stored,
  // outside the table's lock. max_size is the table's (a gate must never
  // hold what can never be released).
  virtual absl::Status Check(const Chunk::RowMetadata& metadata, int64_t max_size,
                             const std::string& field) const = 0;
  // The item in `slot` was stored (by an insert, or a checkpoint restore in
  // insertion order). Appends to *release every held slot (this one
  // included) the sampler may now see, in the order to hand them over.
  virtual void OnStore(uint32_t slot, const Chunk::RowMetadata& metadata,
                       std::vector<uint32_t>* release) = 0;
  // The item in `slot` was removed (evicted, or sampled max_times_sampled
  // times). Returns whether it was still held.
  virtual bool OnRemove(uint32_t slot) = 0;
  // Items stored and not released yet.
  virtual int64_t held() const = 0;
  // Everything removed (Table::Reset).
  virtual void Clear() = 0;
};

// The gate a config names; nullptr when none is set; INVALID_ARGUMENT for a
// bad config, naming the field.
absl::StatusOr<std::unique_ptr<ItemGate>> CreateGate(const GateConfig& config);

}  // namespace rlx

#endif  // RLX_REPLAY_GATES_GATE_H_
