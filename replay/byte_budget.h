// ByteBudget: the replay server's total byte budget (--max_server_bytes),
// shared by all its tables. Bytes are counted as the tables count them
// (Chunk::PayloadBytes: tensor payloads plus a small per-tensor and per-item
// allowance), so the budget bounds stored items, not the process's RSS (parsed
// requests in flight, responses being written and allocator slack come on top).
//
// A table reserves a whole insert's bytes before storing any of it
// (TryReserve: all or nothing), keeps them while the items are stored, and
// releases an item's bytes when it removes it (Release). Items restored from a
// checkpoint are added without a check (Add), so a server restarted with a
// smaller budget holds what it restored and refuses or evicts from then on.
//
// Thread-safe and lock-free (callers hold their table's mutex; the budget
// never calls back into a table).
#ifndef RLX_REPLAY_BYTE_BUDGET_H_
#define RLX_REPLAY_BYTE_BUDGET_H_

#include <atomic>
#include <cstdint>

namespace rlx {

class ByteBudget {
 public:
  // limit >= 1 bytes.
  explicit ByteBudget(int64_t limit) : limit_(limit) {}

  // Adds bytes when used() + bytes <= limit(); false (and nothing added)
  // otherwise.
  bool TryReserve(int64_t bytes) {
    int64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (bytes > limit_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  // Adds bytes whatever the limit (restored items).
  void Add(int64_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }
  void Release(int64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  int64_t limit() const { return limit_; }

 private:
  const int64_t limit_;
  std::atomic<int64_t> used_{0};
};

}  // namespace rlx

#endif  // RLX_REPLAY_BYTE_BUDGET_H_
