#include "replay/samplers/sum_tree.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace rlx {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(SumTreeTest, EmptyTreeHasZeroTotalAndNoPositiveLeaf) {
  SumTree tree;
  EXPECT_EQ(tree.capacity(), 0);
  EXPECT_EQ(tree.total(), 0.0);
  EXPECT_EQ(tree.min_positive(), kInf);
}

TEST(SumTreeTest, TotalAndSmallestPositiveLeafFollowSets) {
  SumTree tree;
  tree.Resize(5);
  EXPECT_EQ(tree.capacity(), 8);
  tree.Set(0, 2.0);
  tree.Set(3, 0.5);
  tree.Set(4, 0.0);
  tree.Set(6, 4.0);
  EXPECT_EQ(tree.total(), 6.5);
  EXPECT_EQ(tree.min_positive(), 0.5);
  tree.Set(3, 0.0);
  EXPECT_EQ(tree.total(), 6.0);
  EXPECT_EQ(tree.min_positive(), 2.0);
  EXPECT_EQ(tree.Get(6), 4.0);
}

TEST(SumTreeTest, FindReturnsTheLeafWhoseRangeHoldsTheTarget) {
  SumTree tree;
  tree.Resize(4);
  // Ranges: leaf 0 [0, 1), leaf 1 empty, leaf 2 [1, 3), leaf 3 [3, 6).
  tree.Set(0, 1.0);
  tree.Set(2, 2.0);
  tree.Set(3, 3.0);
  EXPECT_EQ(tree.Find(0.0), 0);
  EXPECT_EQ(tree.Find(0.999), 0);
  EXPECT_EQ(tree.Find(1.0), 2);
  EXPECT_EQ(tree.Find(2.999), 2);
  EXPECT_EQ(tree.Find(3.0), 3);
  EXPECT_EQ(tree.Find(5.999), 3);
}

TEST(SumTreeTest, FindNeverReturnsAZeroLeafWhenTheTargetOvershoots) {
  SumTree tree;
  tree.Resize(8);
  tree.Set(1, 1.0);
  tree.Set(2, 1e-17);
  // Targets at or past the total (as rounding can produce) still land on a
  // positive leaf.
  EXPECT_EQ(tree.Find(tree.total()), 2);
  EXPECT_EQ(tree.Find(2.0), 2);
  EXPECT_EQ(tree.Find(0.0), 1);
}

TEST(SumTreeTest, ResizeKeepsLeavesAndAssignReplacesThem) {
  SumTree tree;
  tree.Resize(2);
  tree.Set(0, 1.0);
  tree.Set(1, 2.0);
  tree.Resize(3);
  EXPECT_EQ(tree.capacity(), 4);
  EXPECT_EQ(tree.Get(0), 1.0);
  EXPECT_EQ(tree.Get(1), 2.0);
  EXPECT_EQ(tree.Get(2), 0.0);
  EXPECT_EQ(tree.total(), 3.0);
  tree.Resize(2);
  EXPECT_EQ(tree.total(), 3.0);
  tree.Assign({0.0, 5.0});
  EXPECT_EQ(tree.total(), 5.0);
  EXPECT_EQ(tree.min_positive(), 5.0);
  EXPECT_EQ(tree.Find(0.0), 1);
  tree.Clear();
  EXPECT_EQ(tree.capacity(), 0);
  EXPECT_EQ(tree.total(), 0.0);
}

TEST(SumTreeTest, NodesEqualTheSumOfTheirChildrenAfterAnyUpdateHistory) {
  // Set recomputes ancestors from their children, so the same leaves give the
  // same total whatever values they held before.
  SumTree fresh;
  SumTree churned;
  fresh.Resize(64);
  churned.Resize(64);
  for (int step = 0; step < 10000; ++step) {
    churned.Set(step % 64, std::ldexp(1.0, (step * 7) % 100 - 50) + 0.1);
  }
  for (int i = 0; i < 64; ++i) {
    fresh.Set(i, 0.1 * i);
    churned.Set(i, 0.1 * i);
  }
  EXPECT_EQ(fresh.total(), churned.total());
}

}  // namespace
}  // namespace rlx
