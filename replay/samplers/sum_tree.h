// SumTree: a complete binary tree over a dense array of non-negative leaves,
// the index behind the weighted samplers (prioritized, return_weighted).
//
// It keeps, for every node, the sum of its leaves and the smallest
// positive leaf, so the total, the smallest positive weight and a weighted
// pick (Find) are O(1), O(1) and O(log n), and Set is O(log n).
//
// Float drift: Set recomputes every ancestor as the sum of its two children
// instead of adding a delta, so each node always equals the rounded sum of its
// current leaves; errors never accumulate across updates and no periodic
// recomputation is needed. Sums use double.
//
// Capacity is a power of two and changes only through Resize (O(capacity)),
// which the owner calls to grow or shrink geometrically. Not thread-safe; it
// belongs to one sampler.
#ifndef RLX_REPLAY_SAMPLERS_SUM_TREE_H_
#define RLX_REPLAY_SAMPLERS_SUM_TREE_H_

#include <cstdint>
#include <vector>

namespace rlx {

class SumTree {
 public:
  SumTree() = default;

  // Number of leaves (0 or a power of two).
  int64_t capacity() const { return capacity_; }
  // Sets the capacity to the smallest power of two >= min_capacity (0 stays 0).
  // Leaves below the new capacity keep their values; leaves at or above it are
  // dropped, so the owner only shrinks when those are zero. New leaves are 0.
  void Resize(int64_t min_capacity);
  // Drops every leaf; capacity becomes 0.
  void Clear();

  // Sets leaf index (< capacity) to value, which must be finite and >= 0.
  void Set(int64_t index, double value);
  double Get(int64_t index) const { return sums_[capacity_ + index]; }
  // Replaces every leaf at once in O(capacity): leaf i = leaves[i], the rest 0.
  // leaves.size() must be <= capacity.
  void Assign(const std::vector<double>& leaves);

  // Sum of all leaves (0 when empty).
  double total() const { return capacity_ == 0 ? 0.0 : sums_[1]; }
  // Smallest positive leaf; +infinity when no leaf is positive.
  double min_positive() const;

  // The weighted pick: the leaf i whose cumulative range
  // [sum of leaves before i, that + leaf i) holds target. Requires total() > 0
  // and 0 <= target < total(). Never returns a zero leaf, even when rounding
  // pushes target past the last positive leaf's range.
  int64_t Find(double target) const;

 private:
  void Rebuild();

  int64_t capacity_ = 0;
  // Heap layout: node 1 is the root, node j has children 2j and 2j+1, leaf i
  // is node capacity_ + i. Index 0 is unused.
  std::vector<double> sums_;
  std::vector<double> mins_;  // smallest positive leaf below the node, or +inf
};

}  // namespace rlx

#endif  // RLX_REPLAY_SAMPLERS_SUM_TREE_H_
