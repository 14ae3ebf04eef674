#include "replay/samplers/sum_tree.h"

#include <algorithm>
#include <limits>

namespace rlx {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

int64_t RoundUpToPowerOfTwo(int64_t n) {
  if (n <= 0) return 0;
  int64_t capacity = 1;
  while (capacity < n) capacity *= 2;
  return capacity;
}

double MinLeaf(double value) { return value > 0 ? value : kInf; }

}  // namespace

void SumTree::Resize(int64_t min_capacity) {
  const int64_t capacity = RoundUpToPowerOfTwo(min_capacity);
  if (capacity == capacity_) return;
  std::vector<double> leaves(capacity, 0.0);
  std::copy_n(sums_.begin() + capacity_, std::min(capacity, capacity_), leaves.begin());
  capacity_ = capacity;
  sums_.assign(2 * capacity, 0.0);
  mins_.assign(2 * capacity, kInf);
  Assign(leaves);
}

void SumTree::Clear() {
  capacity_ = 0;
  sums_.clear();
  sums_.shrink_to_fit();
  mins_.clear();
  mins_.shrink_to_fit();
}

void SumTree::Set(int64_t index, double value) {
  int64_t node = capacity_ + index;
  sums_[node] = value;
  mins_[node] = MinLeaf(value);
  for (node /= 2; node >= 1; node /= 2) {
    sums_[node] = sums_[2 * node] + sums_[2 * node + 1];
    mins_[node] = std::min(mins_[2 * node], mins_[2 * node + 1]);
  }
}

void SumTree::Assign(const std::vector<double>& leaves) {
  for (int64_t i = 0; i < capacity_; ++i) {
    const double value = i < static_cast<int64_t>(leaves.size()) ? leaves[i] : 0.0;
    sums_[capacity_ + i] = value;
    mins_[capacity_ + i] = MinLeaf(value);
  }
  Rebuild();
}

void SumTree::Rebuild() {
  for (int64_t node = capacity_ - 1; node >= 1; --node) {
    sums_[node] = sums_[2 * node] + sums_[2 * node + 1];
    mins_[node] = std::min(mins_[2 * node], mins_[2 * node + 1]);
  }
}

double SumTree::min_positive() const { return capacity_ == 0 ? kInf : mins_[1]; }

int64_t SumTree::Find(double target) const {
  int64_t node = 1;
  while (node < capacity_) {
    const int64_t left = 2 * node;
    const int64_t right = left + 1;
    // Take the left child when target falls in it (then it is positive, as
    // target >= 0), and also when the right child is zero, which happens only
    // when rounding carried target past the left sum. A positive node always
    // has a positive child (for non-negative a and b, fl(a + b) > 0 implies
    // a > 0 or b > 0), so the walk ends on a positive leaf.
    if (target < sums_[left] || sums_[right] <= 0) {
      node = left;
    } else {
      target -= sums_[left];
      node = right;
    }
  }
  return node - capacity_;
}

}  // namespace rlx
