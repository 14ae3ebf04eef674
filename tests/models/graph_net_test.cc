#include "models/graph_net.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace rlx {
namespace {

// (max_pool, heads, typed_heads)
using Aggregation = std::tuple<bool, int, bool>;

GraphNetSpec SmallSpec(Aggregation aggregation, int64_t max_edges = 5) {
  GraphNetSpec s;
  s.max_pool = std::get<0>(aggregation);
  s.heads = std::get<1>(aggregation);
  s.typed_heads = std::get<2>(aggregation);
  s.ego_dim = 3;
  s.edge_dim = 4;
  s.max_edges = max_edges;
  s.message_hidden = {8};
  s.message_dim = 6;
  s.update_hidden = {7};
  s.output_dim = 2;
  return s;
}

// Rows with a random number of valid slots at random positions.
std::vector<float> RandomRows(const GraphNetSpec& s, int64_t batch, std::mt19937_64* rng,
                              int64_t min_edges = 0) {
  std::normal_distribution<float> normal;
  const int64_t sw = 1 + s.edge_dim;
  std::vector<float> x(batch * s.input_dim(), 0.0f);
  for (int64_t b = 0; b < batch; ++b) {
    float* row = &x[b * s.input_dim()];
    for (int64_t d = 0; d < s.ego_dim; ++d) row[d] = normal(*rng);
    std::vector<int64_t> slots(s.max_edges);
    std::iota(slots.begin(), slots.end(), 0);
    std::shuffle(slots.begin(), slots.end(), *rng);
    const int64_t valid = min_edges + static_cast<int64_t>((*rng)() % (s.max_edges - min_edges + 1));
    for (int64_t k = 0; k < valid; ++k) {
      float* slot = row + s.ego_dim + slots[k] * sw;
      slot[0] = 1.0f;
      for (int64_t d = 1; d < sw; ++d) slot[d] = normal(*rng);
    }
  }
  return x;
}

// Without and with the max-pool channel, one head and three.
class GraphNetTest : public testing::TestWithParam<Aggregation> {};

TEST_P(GraphNetTest, GradientMatchesFiniteDifferences) {
  const GraphNetSpec spec = SmallSpec(GetParam());
  ASSERT_TRUE(ValidateGraphNetSpec(spec).ok());
  GraphNet net(spec);
  net.Initialize(std::sqrt(2.0), 1.0, 5);
  EXPECT_EQ(net.num_params(), GraphNetNumParameters(spec));
  std::mt19937_64 rng(1);
  const int64_t batch = 6;
  const std::vector<float> x = RandomRows(spec, batch, &rng);
  std::normal_distribution<float> normal;
  std::vector<float> w(batch * spec.output_dim);
  for (float& v : w) v = normal(rng);
  auto loss = [&](GraphNet& n) {
    std::unique_ptr<BatchCache> c = n.NewCache();
    absl::Span<const float> y = n.Forward(x.data(), batch, c.get());
    double sum = 0;
    for (size_t i = 0; i < y.size(); ++i) sum += double{w[i]} * y[i];
    return sum;
  };
  std::unique_ptr<BatchCache> cache = net.NewCache();
  net.Forward(x.data(), batch, cache.get());
  std::vector<float> grad(net.num_params(), 0.0f);
  net.Backward(cache.get(), w.data(), grad.data());
  std::vector<float> params;
  GetBatchFunctionParameters(net, &params);
  int checked = 0;
  for (size_t p = 0; p < params.size(); p += 3) {
    // Small enough that no max-pool winner changes between the two sides.
    const double eps = 2e-3;
    std::vector<float> plus = params, minus = params;
    plus[p] += eps;
    minus[p] -= eps;
    SetBatchFunctionParameters(&net, plus.data());
    const double lp = loss(net);
    SetBatchFunctionParameters(&net, minus.data());
    const double lm = loss(net);
    const double numeric = (lp - lm) / (2 * eps);
    EXPECT_NEAR(grad[p], numeric, 2e-3 + 2e-2 * std::abs(numeric)) << "parameter " << p;
    ++checked;
  }
  SetBatchFunctionParameters(&net, params.data());
  EXPECT_GT(checked, 50);
}

TEST_P(GraphNetTest, OutputIgnoresSlotOrderAndPermutingRowsPermutesOutputs) {
  const GraphNetSpec spec = SmallSpec(GetParam(), 6);
  GraphNet net(spec);
  net.Initialize(std::sqrt(2.0), 1.0, 9);
  std::mt19937_64 rng(2);
  const int64_t batch = 10, w = spec.input_dim(), sw = 1 + spec.edge_dim;
  const std::vector<float> x = RandomRows(spec, batch, &rng);
  std::unique_ptr<BatchCache> c1 = net.NewCache(), c2 = net.NewCache();
  const absl::Span<const float> y = net.Forward(x.data(), batch, c1.get());
  const std::vector<float> base(y.begin(), y.end());
  // Shuffle the rows (agents) and each row's slots (neighbours, padding included).
  std::vector<int64_t> perm(batch);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<float> shuffled(x.size());
  for (int64_t b = 0; b < batch; ++b) {
    const float* src = &x[perm[b] * w];
    float* dst = &shuffled[b * w];
    std::copy(src, src + spec.ego_dim, dst);
    std::vector<int64_t> slots(spec.max_edges);
    std::iota(slots.begin(), slots.end(), 0);
    std::shuffle(slots.begin(), slots.end(), rng);
    for (int64_t k = 0; k < spec.max_edges; ++k) {
      std::copy(src + spec.ego_dim + slots[k] * sw, src + spec.ego_dim + (slots[k] + 1) * sw,
                dst + spec.ego_dim + k * sw);
    }
  }
  const absl::Span<const float> ys = net.Forward(shuffled.data(), batch, c2.get());
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t d = 0; d < spec.output_dim; ++d) {
      EXPECT_NEAR(ys[b * spec.output_dim + d], base[perm[b] * spec.output_dim + d], 1e-5);
    }
  }
}

TEST_P(GraphNetTest, RowWithoutNeighboursDependsOnItsEgoFeaturesOnly) {
  const GraphNetSpec spec = SmallSpec(GetParam());
  GraphNet net(spec);
  net.Initialize(std::sqrt(2.0), 1.0, 3);
  std::vector<float> x(2 * spec.input_dim(), 0.0f);
  x[0] = 0.5f;  // row 0: ego only
  x[spec.input_dim()] = 0.5f;  // row 1: same ego, one padding slot full of junk marked invalid
  x[spec.input_dim() + spec.ego_dim + 1] = 9.0f;
  std::unique_ptr<BatchCache> c = net.NewCache();
  const absl::Span<const float> y = net.Forward(x.data(), 2, c.get());
  ASSERT_EQ(y.size(), 4u);
  EXPECT_TRUE(std::isfinite(y[0]) && std::isfinite(y[1]));
  EXPECT_EQ(y[0], y[2]);
  EXPECT_EQ(y[1], y[3]);
  std::vector<float> grad(net.num_params(), 0.0f);
  const float g[4] = {1, 1, 1, 1};
  net.Backward(c.get(), g, grad.data());
  // No edges at all: the message MLP and the gate get no gradient.
  const int64_t update_params = static_cast<int64_t>(net.parameter_blocks()[2].size());
  EXPECT_TRUE(std::all_of(grad.begin(), grad.end() - update_params, [](float v) { return v == 0.0f; }));
  EXPECT_TRUE(std::any_of(grad.end() - update_params, grad.end(), [](float v) { return v != 0.0f; }));
}

TEST_P(GraphNetTest, SameParametersRunWithAWiderLayout) {
  GraphNetSpec narrow = SmallSpec(GetParam(), 3), wide = SmallSpec(GetParam(), 9);
  ASSERT_EQ(GraphNetNumParameters(narrow), GraphNetNumParameters(wide));
  GraphNet a(narrow), b(wide);
  a.Initialize(std::sqrt(2.0), 1.0, 4);
  std::vector<float> params;
  GetBatchFunctionParameters(a, &params);
  SetBatchFunctionParameters(&b, params.data());
  std::mt19937_64 rng(4);
  const std::vector<float> x = RandomRows(narrow, 5, &rng);
  std::vector<float> xw(5 * wide.input_dim(), 0.0f);
  for (int64_t r = 0; r < 5; ++r) {
    std::copy(&x[r * narrow.input_dim()], &x[(r + 1) * narrow.input_dim()], &xw[r * wide.input_dim()]);
  }
  std::unique_ptr<BatchCache> ca = a.NewCache(), cb = b.NewCache();
  const absl::Span<const float> ya = a.Forward(x.data(), 5, ca.get());
  const absl::Span<const float> yb = b.Forward(xw.data(), 5, cb.get());
  for (size_t i = 0; i < ya.size(); ++i) EXPECT_EQ(ya[i], yb[i]);
}

// Typed heads: the random rows' first edge feature is set in about a third
// of the slots (agents), so rows have one type, the other, both or none.
INSTANTIATE_TEST_SUITE_P(
    Aggregation, GraphNetTest,
    testing::Values(Aggregation{false, 1, false}, Aggregation{true, 1, false},
                    Aggregation{false, 3, false}, Aggregation{true, 3, false},
                    Aggregation{false, 2, true}, Aggregation{true, 2, true}),
    [](const testing::TestParamInfo<Aggregation>& info) {
      return absl::StrCat(std::get<0>(info.param) ? "AttentionAndMax" : "Attention",
                          std::get<1>(info.param), std::get<2>(info.param) ? "TypedHeads" : "Heads");
    });

TEST(GraphNetSpecTest, HeadsMustDivideTheMessageWidth) {
  GraphNetSpec s = SmallSpec({false, 4, false});
  EXPECT_FALSE(ValidateGraphNetSpec(s).ok());
  s.heads = 0;
  EXPECT_FALSE(ValidateGraphNetSpec(s).ok());
  s.heads = 2;
  EXPECT_TRUE(ValidateGraphNetSpec(s).ok());
  s.typed_heads = true;  // half over agent slots, half over the rest
  EXPECT_TRUE(ValidateGraphNetSpec(s).ok());
  s.heads = 3;
  EXPECT_FALSE(ValidateGraphNetSpec(s).ok());
}

TEST(GraphNetTest, TypedHeadsKeepAgentsAndOtherSlotsApart) {
  // Two typed heads: the first averages agent slots only, the second the
  // rest, so the agent half of the aggregate does not move when a LiDAR slot
  // is added and vice versa. Seen through the output: with the update MLP's
  // weights on the second half zeroed, adding a LiDAR slot changes nothing.
  GraphNetSpec s = SmallSpec({false, 2, true}, 3);
  ASSERT_TRUE(ValidateGraphNetSpec(s).ok());
  GraphNet net(s);
  net.Initialize(1.0, 1.0, 5);
  // Zero the update MLP's first-layer weights on the LiDAR heads' components
  // (update input: [ego (3), aggregate (6)]; components 3..5 are head 2's).
  std::vector<float> flat;
  GetBatchFunctionParameters(net, &flat);
  const int64_t update_offset = flat.size() - DenseMlp(DenseMlpSpec{3 + 6, {7}, 2}).num_params();
  const int64_t in = 3 + 6;
  for (int64_t o = 0; o < 7; ++o) {
    for (int64_t d = 3 + 3; d < in; ++d) flat[update_offset + o * in + d] = 0.0f;
  }
  SetBatchFunctionParameters(&net, flat.data());
  const int64_t sw = 1 + s.edge_dim;
  std::vector<float> row(s.input_dim(), 0.0f);
  row[0] = 0.3f, row[1] = -0.2f, row[2] = 0.5f;
  float* agent = &row[3];
  agent[0] = 1, agent[1] = 1, agent[2] = 0.4f, agent[3] = -0.1f, agent[4] = 0.2f;
  std::unique_ptr<BatchCache> cache = net.NewCache();
  absl::Span<const float> out = net.Forward(row.data(), 1, cache.get());
  const std::vector<float> before(out.begin(), out.end());
  float* lidar = &row[3 + sw];
  lidar[0] = 1, lidar[1] = 0, lidar[2] = -0.7f, lidar[3] = 0.9f, lidar[4] = 0.3f;
  absl::Span<const float> after = net.Forward(row.data(), 1, cache.get());
  for (int d = 0; d < 2; ++d) EXPECT_FLOAT_EQ(after[d], before[d]) << d;
  // Untyped, the same LiDAR slot takes a share of the one softmax.
  s.typed_heads = false;
  GraphNet plain(s);
  SetBatchFunctionParameters(&plain, flat.data());
  std::unique_ptr<BatchCache> plain_cache = plain.NewCache();
  out = plain.Forward(row.data(), 1, plain_cache.get());
  const std::vector<float> with_lidar(out.begin(), out.end());
  lidar[0] = 0;
  absl::Span<const float> without = plain.Forward(row.data(), 1, plain_cache.get());
  EXPECT_NE(with_lidar[0], without[0]);
}

}  // namespace
}  // namespace rlx
