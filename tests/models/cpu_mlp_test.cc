// The plain C++ backend "cpu_mlp" against LibTorch: autograd and the
// "torch_mlp" backend, on every shape the kernels treat differently (no
// hidden layer, widths below, at and above the vector and block sizes, the
// default stream-x networks), the fused trace step, and the names.
#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/backends.h"
#include "models/cpu_mlp.h"
#include "models/layer_norm.h"
#include "models/mlp.h"
#include "models/network.h"
#include "models/torch_mlp.h"
#include "models/trace_kernels.h"
#include "tests/models/network_test_util.h"

namespace rlx {
namespace {

// |a - b| / max(1, |b|), the largest over the buffers.
double MaxError(absl::Span<const float> a, absl::Span<const float> b) {
  double err = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max<double>(err, std::fabs(a[i] - b[i]) / std::max(1.0f, std::fabs(b[i])));
  }
  return err;
}

class CpuMlpShapeTest : public testing::TestWithParam<MlpSpec> {};

// Both backends holding the same weights (null where one cannot be made).
// init 0: the sparse initialisation (the first layer all zeros for small
// inputs); 1: dense random weights.
struct BackendPair {
  std::vector<float> params;
  std::unique_ptr<Network> cpu, torch;
};
BackendPair MakeBackendPair(const MlpSpec& spec, int init) {
  BackendPair pair;
  pair.params.resize(NumParameters(spec));
  if (init == 0) {
    SparseInitialize(spec, 0.9, 3, absl::MakeSpan(pair.params));
  } else {
    pair.params = RandomVector(NumParameters(spec), 4, 0.3f);
  }
  auto cpu = CreateCpuMlp(spec, pair.params);
  auto torch = CreateTorchMlp(spec, pair.params);
  EXPECT_TRUE(cpu.ok() && torch.ok()) << cpu.status() << torch.status();
  if (cpu.ok()) pair.cpu = std::move(*cpu);
  if (torch.ok()) pair.torch = std::move(*torch);
  return pair;
}

// Same weights and inputs: outputs and gradients within 1e-5 of autograd and
// of the LibTorch backend, for sparse-initialised and dense weights.
TEST_P(CpuMlpShapeTest, OutputsAndGradientsMatchLibTorch) {
  const MlpSpec spec = GetParam();
  for (int init = 0; init < 2; ++init) {
    const BackendPair nets = MakeBackendPair(spec, init);
    ASSERT_TRUE(nets.cpu && nets.torch);
    for (int trial = 0; trial < 3; ++trial) {
      const std::vector<float> input = RandomVector(spec.input_dim, 10 + trial, 2.0f);
      const std::vector<float> cotangent = RandomVector(spec.output_dim, 20 + trial);
      std::vector<float> out(spec.output_dim), torch_out(spec.output_dim);
      nets.cpu->Forward(input, absl::MakeSpan(out));
      nets.torch->Forward(input, absl::MakeSpan(torch_out));
      const absl::Span<const float> grad = nets.cpu->Backward(cotangent);
      const absl::Span<const float> torch_grad = nets.torch->Backward(cotangent);
      std::vector<float> ref_out, ref_grad;
      ASSERT_TRUE(AutogradGradient(spec, nets.params, input, cotangent, &ref_out, &ref_grad).ok());
      ASSERT_EQ(grad.size(), ref_grad.size());
      EXPECT_LT(MaxError(out, ref_out), 1e-5) << "init " << init << " trial " << trial;
      EXPECT_LT(MaxError(out, torch_out), 1e-5) << "init " << init << " trial " << trial;
      EXPECT_LT(MaxError(grad, ref_grad), 1e-5) << "init " << init << " trial " << trial;
      EXPECT_LT(MaxError(grad, torch_grad), 1e-5) << "init " << init << " trial " << trial;
    }
  }
}

// AccumulateTrace (fused) = Backward, then z <- decay * z + g, and the norm.
TEST_P(CpuMlpShapeTest, FusedTraceStepEqualsBackwardThenDecay) {
  const MlpSpec spec = GetParam();
  const std::vector<float> params = RandomVector(NumParameters(spec), 5, 0.3f);
  auto cpu = CreateCpuMlp(spec, params);
  ASSERT_TRUE(cpu.ok());
  std::vector<float> fused = RandomVector(NumParameters(spec), 6, 0.1f);
  std::vector<float> reference = fused;
  const std::vector<float> input = RandomVector(spec.input_dim, 7);
  const std::vector<float> cotangent = RandomVector(spec.output_dim, 8);
  std::vector<float> out(spec.output_dim);
  (*cpu)->Forward(input, absl::MakeSpan(out));
  const double l1 = (*cpu)->AccumulateTrace(cotangent, 0.79f, absl::MakeSpan(fused));
  const absl::Span<const float> grad = (*cpu)->Backward(cotangent);
  double ref_l1 = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    reference[i] = 0.79f * reference[i] + grad[i];
    ref_l1 += std::fabs(reference[i]);
  }
  EXPECT_LT(MaxError(fused, reference), 1e-6);
  EXPECT_NEAR(l1, ref_l1, 1e-5 * ref_l1);
  // The interface's default (Backward, then a pass) gives the same.
  auto torch = CreateTorchMlp(spec, params);
  ASSERT_TRUE(torch.ok());
  std::vector<float> via_default = RandomVector(NumParameters(spec), 6, 0.1f);
  (*torch)->Forward(input, absl::MakeSpan(out));
  const double default_l1 = (*torch)->AccumulateTrace(cotangent, 0.79f, absl::MakeSpan(via_default));
  EXPECT_LT(MaxError(via_default, reference), 1e-5);
  EXPECT_NEAR(default_l1, ref_l1, 1e-5 * ref_l1);
}

// Where LibTorch runs its AVX2 kernels (pinned before its first operation),
// the CPU backend computes every sum in LibTorch's order: outputs, gradients,
// traces and their norms are LibTorch's bit for bit, which keeps stream-x
// runs on the two backends identical (stream_trainer_test.cc).
const bool kAvx2Kernels = SelectLibTorchAvx2Kernels();

TEST_P(CpuMlpShapeTest, BitIdenticalToLibTorchBackend) {
  if (!kAvx2Kernels) GTEST_SKIP() << "LibTorch does not run its AVX2 kernels on this CPU";
  const MlpSpec spec = GetParam();
  for (int init = 0; init < 2; ++init) {
    const BackendPair nets = MakeBackendPair(spec, init);
    ASSERT_TRUE(nets.cpu && nets.torch);
    std::vector<float> cpu_trace = RandomVector(NumParameters(spec), 5, 0.1f);
    std::vector<float> torch_trace = cpu_trace;
    for (int trial = 0; trial < 20; ++trial) {
      SCOPED_TRACE(testing::Message() << "init " << init << " trial " << trial);
      const std::vector<float> input =
          RandomVector(spec.input_dim, 10 + trial, trial % 2 ? 0.01f : 3.0f);
      const std::vector<float> cotangent = RandomVector(spec.output_dim, 20 + trial);
      std::vector<float> out(spec.output_dim), torch_out(spec.output_dim);
      nets.cpu->Forward(input, absl::MakeSpan(out));
      nets.torch->Forward(input, absl::MakeSpan(torch_out));
      EXPECT_EQ(out, torch_out);
      const absl::Span<const float> grad = nets.cpu->Backward(cotangent);
      const absl::Span<const float> torch_grad = nets.torch->Backward(cotangent);
      EXPECT_TRUE(std::equal(grad.begin(), grad.end(), torch_grad.begin(), torch_grad.end()));
      const double l1 = nets.cpu->AccumulateTrace(cotangent, 0.79f, absl::MakeSpan(cpu_trace));
      const double torch_l1 =
          nets.torch->AccumulateTrace(cotangent, 0.79f, absl::MakeSpan(torch_trace));
      EXPECT_EQ(cpu_trace, torch_trace);
      EXPECT_EQ(l1, torch_l1);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CpuMlpShapeTest,
    testing::Values(Spec(5, {128, 128}, 1),   // stream-x value network, CartPole
                    Spec(5, {128, 128}, 2),   // policy / Q network, CartPole
                    Spec(4, {}, 3),           // no hidden layer
                    Spec(3, {7}, 1),          // narrower than a vector
                    Spec(2, {1, 2}, 2),       // LayerNorm over one and two units
                    Spec(11, {8, 33, 31}, 5),  // around the vector and block widths
                    Spec(17, {64, 96}, 6),    // whole blocks plus a vector
                    Spec(24, {256, 256}, 4),  // wider than the default
                    // LayerNorm over several Welford chunks of 128 (a cascade), with a tail.
                    Spec(9, {1000, 129}, 3), Spec(2, {2051}, 1)),
    [](const testing::TestParamInfo<MlpSpec>& info) {
      std::string name = "in" + std::to_string(info.param.input_dim);
      for (int64_t h : info.param.hidden) name += "_" + std::to_string(h);
      return name + "_out" + std::to_string(info.param.output_dim);
    });

// (Backward after two Forwards: network_test.cc, for both backends.)
TEST(CpuMlpTest, CloneIsIndependent) {
  const MlpSpec spec = Spec(4, {16, 16}, 3);
  const std::vector<float> params = RandomVector(NumParameters(spec), 5, 0.3f);
  auto net = CreateCpuMlp(spec, params);
  ASSERT_TRUE(net.ok());
  std::unique_ptr<Network> clone = (*net)->Clone();
  EXPECT_THAT(std::vector<float>(clone->params().begin(), clone->params().end()),
              testing::ElementsAreArray(params));
  clone->params()[0] += 1.0f;
  EXPECT_EQ((*net)->params()[0], params[0]);
}

TEST(CpuMlpTest, HiddenActivationsAgreeWithLibTorchBackend) {
  const MlpSpec spec = Spec(6, {12, 9}, 2);
  const std::vector<float> params = RandomVector(NumParameters(spec), 9, 0.5f);
  auto cpu = CreateCpuMlp(spec, params);
  auto torch = CreateTorchMlp(spec, params);
  ASSERT_TRUE(cpu.ok() && torch.ok());
  std::vector<std::vector<float>> a, b;
  const std::vector<float> input = RandomVector(6, 3);
  (*cpu)->HiddenActivations(input, &a);
  (*torch)->HiddenActivations(input, &b);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a, b);
}

TEST(CpuMlpTest, RejectsBadSpecAndParameterCount) {
  EXPECT_EQ(CreateCpuMlp(Spec(0, {8}, 2), std::vector<float>(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status wrong = CreateCpuMlp(Spec(3, {8}, 2), std::vector<float>(5)).status();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(wrong.message()), testing::HasSubstr("50"));
}

// Both backends start from the same weights, so jobs and checkpoints move
// between them; "auto" and the aliases resolve, unknown names are NOT_FOUND.
TEST(NetworkBackendNamesTest, AutoAndAliasesResolveAndBackendsShareInitialisation) {
  EXPECT_EQ(*ResolveNetworkBackend("auto"), "cpu_mlp");
  EXPECT_EQ(*ResolveNetworkBackend(""), "cpu_mlp");
  EXPECT_EQ(*ResolveNetworkBackend("cpu"), "cpu_mlp");
  EXPECT_EQ(*ResolveNetworkBackend("libtorch"), "torch_mlp");
  EXPECT_EQ(*ResolveNetworkBackend("torch_mlp"), "torch_mlp");
  const absl::StatusOr<std::string> unknown = ResolveNetworkBackend("tpu");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(unknown.status().message()), testing::HasSubstr("libtorch"));

  NetworkSpec spec;
  spec.input_dim = 5;
  spec.hidden = {32, 32};
  spec.output_dim = 2;
  spec.seed = 11;
  auto cpu = MakeNetwork("auto", spec);
  auto torch = MakeNetwork("libtorch", spec);
  ASSERT_TRUE(cpu.ok() && torch.ok());
  EXPECT_THAT(std::vector<float>((*cpu)->params().begin(), (*cpu)->params().end()),
              testing::ElementsAreArray((*torch)->params()));
}

TEST(TraceKernelsTest, NormsAndUpdatesMatchPlainLoops) {
  for (int64_t n : {1, 7, 8, 33, 1024, 1025, 5000}) {
    std::vector<float> z = RandomVector(n, 1), g = RandomVector(n, 2), w = RandomVector(n, 3);
    std::vector<float> z_ref = z, w_ref = w;
    double l1_ref = 0;
    for (int64_t i = 0; i < n; ++i) {
      z_ref[i] = 0.5f * z_ref[i] + g[i];
      l1_ref += std::fabs(z_ref[i]);
    }
    EXPECT_NEAR(DecayAddL1(0.5f, g.data(), z.data(), n), l1_ref, 1e-5 * l1_ref) << n;
    EXPECT_EQ(z, z_ref) << n;
    for (int64_t i = 0; i < n; ++i) w_ref[i] += 0.25f * z[i];
    AddScaledAndMaybeReset(0.25f, z.data(), w.data(), n, /*reset=*/true);
    EXPECT_LT(MaxError(w, w_ref), 1e-7) << n;
    EXPECT_TRUE(std::all_of(z.begin(), z.end(), [](float v) { return v == 0.0f; })) << n;
  }
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{3, 5}, {70, 40}, {128, 128}, {2, 9}}) {
    std::vector<float> z = RandomVector(rows * cols, 4), g = RandomVector(rows, 5),
                       x = RandomVector(cols, 6);
    // The fused form equals the gradient buffer (rounded products) then
    // DecayAddL1, bit for bit, and so do the norms: that is what keeps the
    // two backends' traces identical.
    std::vector<float> z_ref = z, grad(rows * cols);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) grad[r * cols + c] = g[r] * x[c];
    }
    const double l1_ref = DecayAddL1(0.9f, grad.data(), z_ref.data(), rows * cols);
    DecayAddOuter(0.9f, g.data(), rows, x.data(), cols, z.data());
    EXPECT_EQ(z, z_ref) << rows << "x" << cols;
    EXPECT_EQ(L1Norm(z.data(), rows * cols), l1_ref) << rows << "x" << cols;
    double plain = 0;
    for (float v : z) plain += std::fabs(v);
    EXPECT_NEAR(l1_ref, plain, 1e-5 * plain);
    std::vector<float> b = RandomVector(rows, 7), b_ref = b;
    DecayAdd(0.9f, g.data(), b.data(), rows);
    DecayAddL1(0.9f, g.data(), b_ref.data(), rows);
    EXPECT_EQ(b, b_ref);
  }
}

}  // namespace
}  // namespace rlx
