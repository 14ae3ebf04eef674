#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "core/tensor_codec.h"
#include "models/backends.h"
#include "models/cpu_mlp.h"
#include "models/mlp.h"
#include "models/network.h"
#include "models/param_io.h"
#include "models/torch_mlp.h"
#include "tests/models/network_test_util.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

void ExpectBackwardMatchesAutograd(const MlpSpec& spec, const std::vector<float>& params,
                                   uint64_t seed) {
  auto net = CreateTorchMlp(spec, params);
  ASSERT_TRUE(net.ok()) << net.status();
  for (int trial = 0; trial < 3; ++trial) {
    const std::vector<float> input = RandomVector(spec.input_dim, seed * 10 + trial, 2.0f);
    const std::vector<float> cotangent = RandomVector(spec.output_dim, seed * 10 + trial + 5);
    std::vector<float> output(spec.output_dim);
    (*net)->Forward(input, absl::MakeSpan(output));
    absl::Span<const float> grad = (*net)->Backward(cotangent);

    std::vector<float> ref_output, ref_grad;
    ASSERT_TRUE(AutogradGradient(spec, params, input, cotangent, &ref_output, &ref_grad).ok());
    ASSERT_EQ(ref_grad.size(), grad.size());
    for (size_t k = 0; k < output.size(); ++k) {
      EXPECT_NEAR(output[k], ref_output[k], 1e-5f * std::max(1.0f, std::fabs(ref_output[k])));
    }
    double max_err = 0;
    for (size_t i = 0; i < grad.size(); ++i) {
      max_err = std::max<double>(
          max_err, std::fabs(grad[i] - ref_grad[i]) / std::max(1.0f, std::fabs(ref_grad[i])));
    }
    EXPECT_LT(max_err, 1e-5) << "trial " << trial;
  }
}

TEST(TorchMlpTest, HandWrittenBackwardMatchesAutogradWithSparseInit) {
  // The default stream-x network on CartPole with the time feature (5 inputs:
  // ceil(0.9 * 5) = 5, so the first layer starts all zero and LayerNorm sees a
  // constant vector) and a 2-action head.
  for (int64_t out : {1, 2}) {
    const MlpSpec spec = Spec(5, {128, 128}, out);
    std::vector<float> params(NumParameters(spec));
    SparseInitialize(spec, 0.9, /*seed=*/7 + out, absl::MakeSpan(params));
    ExpectBackwardMatchesAutograd(spec, params, out);
  }
}

TEST(TorchMlpTest, HandWrittenBackwardMatchesAutogradWithDenseParameters) {
  const MlpSpec spec = Spec(7, {32, 16, 8}, 6);
  const std::vector<float> params = RandomVector(NumParameters(spec), 3, 0.3f);
  ExpectBackwardMatchesAutograd(spec, params, 4);
}

// Both MLP backends.
TEST(MlpBackendsTest, BackwardUsesTheActivationsOfTheLastForward) {
  const MlpSpec spec = Spec(4, {16, 16}, 3);
  const std::vector<float> params = RandomVector(NumParameters(spec), 5, 0.3f);
  using Create =
      absl::StatusOr<std::unique_ptr<Network>> (*)(const MlpSpec&, absl::Span<const float>);
  for (Create create : {static_cast<Create>(&CreateTorchMlp), static_cast<Create>(&CreateCpuMlp)}) {
    absl::StatusOr<std::unique_ptr<Network>> net = create(spec, params);
    ASSERT_TRUE(net.ok());
    const std::vector<float> a = RandomVector(4, 1), b = RandomVector(4, 2), c = {1, -1, 0.5};
    std::vector<float> out(3);
    (*net)->Forward(a, absl::MakeSpan(out));
    (*net)->Forward(b, absl::MakeSpan(out));
    const absl::Span<const float> grad = (*net)->Backward(c);
    std::vector<float> ref_out, ref_grad;
    ASSERT_TRUE(AutogradGradient(spec, params, b, c, &ref_out, &ref_grad).ok());
    for (size_t i = 0; i < grad.size(); ++i) ASSERT_NEAR(grad[i], ref_grad[i], 1e-5);
  }
}

TEST(SparseInitTest, ZeroesCeilNinetyPercentOfEachUnitsInputsWithinLecunBounds) {
  const MlpSpec spec = Spec(10, {64, 32}, 3);
  std::vector<float> params(NumParameters(spec));
  SparseInitialize(spec, 0.9, /*seed=*/1, absl::MakeSpan(params));
  const std::vector<LayerOffsets> offsets = ComputeLayerOffsets(spec);
  for (int l = 0; l < spec.num_layers(); ++l) {
    const int64_t in = spec.fan_in(l), out = spec.fan_out(l);
    const int64_t expected_zeros = static_cast<int64_t>(std::ceil(0.9 * in));
    const float bound = std::sqrt(1.0f / in);
    for (int64_t o = 0; o < out; ++o) {
      int64_t zeros = 0;
      for (int64_t i = 0; i < in; ++i) {
        const float w = params[offsets[l].weight + o * in + i];
        EXPECT_LE(std::fabs(w), bound);
        zeros += w == 0.0f;
      }
      EXPECT_EQ(zeros, expected_zeros) << "layer " << l << " unit " << o;
    }
    for (int64_t o = 0; o < out; ++o) EXPECT_EQ(params[offsets[l].bias + o], 0.0f);
  }
}

TEST(SparseInitTest, NonZeroWeightsSpreadOverTheRangeAndDependOnTheSeed) {
  const MlpSpec spec = Spec(128, {128}, 1);
  std::vector<float> a(NumParameters(spec)), b(NumParameters(spec));
  SparseInitialize(spec, 0.9, 1, absl::MakeSpan(a));
  SparseInitialize(spec, 0.9, 2, absl::MakeSpan(b));
  EXPECT_NE(a, b);
  // Non-zero first-layer weights: roughly uniform on [-1/sqrt(128), 1/sqrt(128)].
  double sum = 0, sum2 = 0;
  int n = 0;
  for (int64_t i = 0; i < 128 * 128; ++i) {
    if (a[i] != 0) {
      sum += a[i];
      sum2 += a[i] * a[i];
      ++n;
    }
  }
  EXPECT_EQ(n, 128 * (128 - 116));
  const double var = sum2 / n - (sum / n) * (sum / n);
  EXPECT_NEAR(var, (1.0 / 128) / 3.0, 0.15 * (1.0 / 128) / 3.0);  // U(-b, b): b^2 / 3
}

TEST(TorchMlpTest, LayerNormGivesZeroMeanUnitVarianceHiddenActivations) {
  // One hidden layer, LeakyReLU slope 1 (identity) and an identity output
  // layer: the output is the normalised hidden pre-activation.
  MlpSpec spec = Spec(6, {8}, 8);
  spec.leaky_slope = 1.0;
  std::vector<float> params = RandomVector(NumParameters(spec), 11, 1.0f);
  const std::vector<LayerOffsets> offsets = ComputeLayerOffsets(spec);
  for (int64_t o = 0; o < 8; ++o) {
    for (int64_t i = 0; i < 8; ++i) params[offsets[1].weight + o * 8 + i] = o == i ? 1.0f : 0.0f;
    params[offsets[1].bias + o] = 0.0f;
  }
  auto net = CreateTorchMlp(spec, params);
  ASSERT_TRUE(net.ok());
  std::vector<float> out(8);
  (*net)->Forward(RandomVector(6, 12, 3.0f), absl::MakeSpan(out));
  double mean = 0, var = 0;
  for (float v : out) mean += v / 8;
  for (float v : out) var += (v - mean) * (v - mean) / 8;  // biased, as LayerNorm
  EXPECT_NEAR(mean, 0.0, 1e-5);
  EXPECT_NEAR(var, 1.0, 1e-3);  // eps 1e-5 against a variance of order 10
}

TEST(TorchMlpTest, CloneIsIndependentCopy) {
  auto net = CreateTorchMlp(Spec(3, {8}, 2), 0.5, 1);
  ASSERT_TRUE(net.ok());
  std::unique_ptr<Network> clone = (*net)->Clone();
  ASSERT_THAT(std::vector<float>(clone->params().begin(), clone->params().end()),
              testing::ElementsAreArray((*net)->params()));
  clone->params()[0] += 1.0f;
  EXPECT_NE(clone->params()[0], (*net)->params()[0]);
}

TEST(TorchMlpTest, RejectsBadSpecAndParameterCount) {
  EXPECT_FALSE(CreateTorchMlp(Spec(0, {8}, 2), 0.9, 1).ok());
  EXPECT_FALSE(CreateTorchMlp(Spec(3, {8}, 2), std::vector<float>(5)).ok());
}

TEST(ParamIoTest, ParametersRoundTripThroughTensorProtoAndFile) {
  const MlpSpec spec = Spec(5, {16, 16}, 2);
  auto a = CreateTorchMlp(spec, 0.9, 1);
  auto b = CreateTorchMlp(spec, 0.9, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  const TensorProto tensor = ParamsToTensor(**a);
  EXPECT_EQ(tensor.dtype(), DTYPE_FLOAT32);
  ASSERT_TRUE(LoadParams(tensor, b->get()).ok());
  EXPECT_THAT(std::vector<float>((*b)->params().begin(), (*b)->params().end()),
              testing::ElementsAreArray((*a)->params()));

  auto c = CreateTorchMlp(spec, 0.9, 3);
  ASSERT_TRUE(c.ok());
  const std::string path = MakeTempDir() + "/params.bin";
  ASSERT_TRUE(SaveParamsFile(**a, path).ok());
  ASSERT_TRUE(LoadParamsFile(path, c->get()).ok());
  EXPECT_THAT(std::vector<float>((*c)->params().begin(), (*c)->params().end()),
              testing::ElementsAreArray((*a)->params()));
}

TEST(ParamIoTest, LoadRejectsWrongSizeAndLeavesNetworkUnchanged) {
  auto net = CreateTorchMlp(Spec(5, {16}, 2), 0.9, 1);
  ASSERT_TRUE(net.ok());
  const std::vector<float> before((*net)->params().begin(), (*net)->params().end());
  const std::vector<float> wrong(7, 1.0f);
  const absl::Status s = LoadParams(FloatTensor(wrong), net->get());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(before, testing::ElementsAreArray((*net)->params()));
}

// The backends by name: every listed name builds, "torch_mlp" is the MLP with
// SparseInitialize's weights, an unknown name is NOT_FOUND naming the known.
TEST(NetworkBackendsTest, EveryNamedBackendBuildsAndTorchMlpIsTheSparseMlp) {
  NetworkSpec spec;
  spec.input_dim = 5;
  spec.hidden = {16, 8};
  spec.output_dim = 3;
  spec.sparsity = 0.9;
  spec.seed = 4;
  for (const std::string& name : NetworkBackendNames()) {
    auto net = MakeNetwork(name, spec);
    ASSERT_TRUE(net.ok()) << name << ": " << net.status();
    EXPECT_EQ((*net)->input_dim(), 5);
    EXPECT_EQ((*net)->output_dim(), 3);
  }
  auto made = MakeNetwork("torch_mlp", spec);
  auto direct = CreateTorchMlp(MlpSpecFrom(spec), 0.9, 4);
  ASSERT_TRUE(made.ok() && direct.ok());
  const auto a = (*made)->params(), b = (*direct)->params();
  EXPECT_EQ(std::vector<float>(a.begin(), a.end()), std::vector<float>(b.begin(), b.end()));
  auto unknown = MakeNetwork("gnn_v9", spec);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(unknown.status().message()), ::testing::HasSubstr("torch_mlp"));
}

// HiddenActivations is the forward pass up to the hidden layers: its last
// layer through the output layer gives Forward's output, and a pending
// Backward is not disturbed by it.
TEST(NetworkBackendsTest, HiddenActivationsAgreeWithForward) {
  const MlpSpec spec = Spec(4, {8, 6}, 2);
  const std::vector<float> params = RandomVector(NumParameters(spec), 9, 0.5f);
  auto net = CreateTorchMlp(spec, params);
  ASSERT_TRUE(net.ok());
  const std::vector<float> input = RandomVector(4, 10);
  std::vector<float> out(2), out2(2);
  (*net)->Forward(input, absl::MakeSpan(out));
  const auto grad_before = (*net)->Backward(std::vector<float>{1.f, -1.f});
  const std::vector<float> g1(grad_before.begin(), grad_before.end());
  std::vector<std::vector<float>> layers;
  (*net)->HiddenActivations(input, &layers);
  ASSERT_EQ(layers.size(), 2u);
  ASSERT_EQ(layers[1].size(), 6u);
  const auto offsets = ComputeLayerOffsets(spec);
  for (int o = 0; o < 2; ++o) {
    double acc = params[offsets[2].bias + o];
    for (int i = 0; i < 6; ++i) acc += params[offsets[2].weight + o * 6 + i] * layers[1][i];
    EXPECT_NEAR(acc, out[o], 1e-4);
  }
  (*net)->Forward(input, absl::MakeSpan(out2));
  const auto grad_after = (*net)->Backward(std::vector<float>{1.f, -1.f});
  EXPECT_EQ(g1, std::vector<float>(grad_after.begin(), grad_after.end()));
}

}  // namespace
}  // namespace rlx
