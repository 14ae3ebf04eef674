// GroupGate: releases the trajectories of a group together, once all of them
// are stored. A group is the items with the same ItemMetadata.context_id;
// ItemMetadata.group_size says how many its producer sends (self-play
// preference optimisation compares the members of a group with each other,
// so a learner must never see part of one). Items with group_size 0 or 1
// pass straight through. The members are released in arrival order, one
// after the other, so a FIFO table hands the whole group out in a row.
//
// A group's size is its first member's (a later member naming another size
// counts toward it). A group larger than the table's max_size is refused at
// Check: it could never be released. An evicted member leaves the rest of its group held until they
// are evicted too (queue tables never evict).
#ifndef RLX_REPLAY_GATES_GROUP_GATE_H_
#define RLX_REPLAY_GATES_GROUP_GATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "replay/gates/gate.h"

namespace rlx {

class GroupGate final : public ItemGate {
 public:
  absl::Status Check(const Chunk::RowMetadata& metadata, int64_t max_size,
                     const std::string& field) const override;
  void OnStore(uint32_t slot, const Chunk::RowMetadata& metadata,
               std::vector<uint32_t>* release) override;
  bool OnRemove(uint32_t slot) override;
  int64_t held() const override { return held_; }
  void Clear() override;

  // Groups with members held.
  int64_t open_groups() const { return static_cast<int64_t>(groups_.size()); }

 private:
  struct Group {
    int32_t size = 0;
    int32_t arrived = 0;  // members stored so far, removed ones included
    std::vector<uint32_t> slots;  // held members, in arrival order
  };
  absl::flat_hash_map<std::string, Group> groups_;
  absl::flat_hash_map<uint32_t, std::string> slot_group_;  // held slot -> context
  int64_t held_ = 0;
};

}  // namespace rlx

#endif  // RLX_REPLAY_GATES_GROUP_GATE_H_
