#include "replay/samplers/insertion_order.h"

#include "replay/samplers/errors.h"

namespace rlx {

absl::Status InsertionOrder::Append(uint64_t key) {
  if (!index_.Insert(key, next_seq_)) return sampler_errors::KeyExists(key);
  order_.push_back(Entry{key, next_seq_++});
  return absl::OkStatus();
}

absl::Status InsertionOrder::Contains(uint64_t key) const {
  if (!index_.contains(key)) return sampler_errors::KeyNotFound(key);
  return absl::OkStatus();
}

absl::Status InsertionOrder::Remove(uint64_t key) {
  if (!index_.Erase(key)) return sampler_errors::KeyNotFound(key);
  while (!order_.empty() && !Live(order_.front())) order_.pop_front();
  while (!order_.empty() && !Live(order_.back())) order_.pop_back();
  if (order_.size() > 2 * index_.size() + 1024) {
    std::deque<Entry> live;
    for (const Entry& e : order_) {
      if (Live(e)) live.push_back(e);
    }
    order_.swap(live);
  }
  return absl::OkStatus();
}

void InsertionOrder::Clear() {
  order_.clear();
  index_.Clear();
  next_seq_ = 0;
}

}  // namespace rlx
