#include "replay/samplers/lowest_priority.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "replay/samplers/errors.h"

namespace rlx {
namespace {

absl::Status CheckValue(double value) {
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat("priority must be finite, got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

void LowestPrioritySampler::Place(size_t i, const Node& node) {
  heap_[i] = node;
  *positions_.Find(node.key) = static_cast<int64_t>(i);
}

void LowestPrioritySampler::SiftUp(size_t i) {
  const Node node = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!Less(node, heap_[parent])) break;
    Place(i, heap_[parent]);
    i = parent;
  }
  Place(i, node);
}

void LowestPrioritySampler::SiftDown(size_t i) {
  const Node node = heap_[i];
  const size_t n = heap_.size();
  while (true) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && Less(heap_[child + 1], heap_[child])) ++child;
    if (!Less(heap_[child], node)) break;
    Place(i, heap_[child]);
    i = child;
  }
  Place(i, node);
}

absl::Status LowestPrioritySampler::Insert(uint64_t key, double value) {
  if (absl::Status s = CheckValue(value); !s.ok()) return s;
  if (!positions_.Insert(key, static_cast<int64_t>(heap_.size()))) {
    return sampler_errors::KeyExists(key);
  }
  heap_.push_back(Node{value, next_seq_++, key});
  SiftUp(heap_.size() - 1);
  return absl::OkStatus();
}

absl::Status LowestPrioritySampler::Update(uint64_t key, double value) {
  const int64_t* pos = positions_.Find(key);
  if (pos == nullptr) return sampler_errors::KeyNotFound(key);
  if (absl::Status s = CheckValue(value); !s.ok()) return s;
  const size_t i = static_cast<size_t>(*pos);
  heap_[i].value = value;
  SiftUp(i);
  SiftDown(static_cast<size_t>(*positions_.Find(key)));
  return absl::OkStatus();
}

absl::Status LowestPrioritySampler::Delete(uint64_t key) {
  const int64_t* pos = positions_.Find(key);
  if (pos == nullptr) return sampler_errors::KeyNotFound(key);
  const size_t i = static_cast<size_t>(*pos);
  positions_.Erase(key);
  const Node last = heap_.back();
  heap_.pop_back();
  if (i < heap_.size()) {
    heap_[i] = last;
    *positions_.Find(last.key) = static_cast<int64_t>(i);
    SiftUp(i);
    SiftDown(static_cast<size_t>(*positions_.Find(last.key)));
  }
  return absl::OkStatus();
}

absl::StatusOr<SampleChoice> LowestPrioritySampler::Sample() {
  if (heap_.empty()) return sampler_errors::Empty();
  SampleChoice choice;
  choice.key = heap_.front().key;
  return choice;
}

void LowestPrioritySampler::Clear() {
  heap_.clear();
  positions_.Clear();
  next_seq_ = 0;
}

}  // namespace rlx
