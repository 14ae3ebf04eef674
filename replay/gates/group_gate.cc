#include "replay/gates/group_gate.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace rlx {

absl::StatusOr<std::unique_ptr<ItemGate>> CreateGate(const GateConfig& config) {
  switch (config.kind_case()) {
    case GateConfig::KIND_NOT_SET:
      return std::unique_ptr<ItemGate>();
    case GateConfig::kGroup:
      return std::unique_ptr<ItemGate>(new GroupGate());
  }
  return absl::InvalidArgumentError("gate: unknown kind");
}

absl::Status GroupGate::Check(const Chunk::RowMetadata& metadata, int64_t max_size,
                              const std::string& field) const {
  if (metadata.group_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".metadata.group_size must be >= 0, got ", metadata.group_size));
  }
  if (metadata.group_size <= 1) return absl::OkStatus();
  if (metadata.context_id == nullptr || metadata.context_id->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".metadata.context_id must name the group (group_size ", metadata.group_size,
        ")"));
  }
  if (metadata.group_size > max_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".metadata.group_size ", metadata.group_size,
        " exceeds the table's max_size ", max_size, ": the group could never be released"));
  }
  return absl::OkStatus();
}

void GroupGate::OnStore(uint32_t slot, const Chunk::RowMetadata& metadata,
                        std::vector<uint32_t>* release) {
  if (metadata.group_size <= 1 || metadata.context_id == nullptr) {
    release->push_back(slot);
    return;
  }
  Group& group = groups_[*metadata.context_id];
  if (group.size == 0) group.size = metadata.group_size;
  group.slots.push_back(slot);
  slot_group_[slot] = *metadata.context_id;
  ++held_;
  if (++group.arrived < group.size) return;
  // Complete: every member still stored goes to the sampler, in order.
  for (uint32_t s : group.slots) {
    release->push_back(s);
    slot_group_.erase(s);
  }
  held_ -= static_cast<int64_t>(group.slots.size());
  groups_.erase(*metadata.context_id);
}

bool GroupGate::OnRemove(uint32_t slot) {
  auto it = slot_group_.find(slot);
  if (it == slot_group_.end()) return false;
  auto g = groups_.find(it->second);
  if (g != groups_.end()) {
    std::vector<uint32_t>& slots = g->second.slots;
    slots.erase(std::remove(slots.begin(), slots.end(), slot), slots.end());
    if (slots.empty() && g->second.arrived >= g->second.size) groups_.erase(g);
  }
  slot_group_.erase(it);
  --held_;
  return true;
}

void GroupGate::Clear() {
  groups_.clear();
  slot_group_.clear();
  held_ = 0;
}

}  // namespace rlx
