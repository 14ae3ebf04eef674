// The LibTorch batched MLP (models/torch_batch_mlp.h), opened from the module
// as PPO's learner opens it, against DenseMlp: same parameters, same outputs
// and gradients.
#include <cmath>
#include <random>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/backends.h"
#include "models/dense_mlp.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

std::vector<float> Random(int64_t n, std::mt19937* rng) {
  std::normal_distribution<float> normal;
  std::vector<float> v(n);
  for (float& x : v) x = normal(*rng);
  return v;
}

void ExpectNear(const std::vector<float>& a, absl::Span<const float> b, double tol,
                const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_NEAR(a[i], b[i], tol * (1 + std::abs(a[i]))) << what << " [" << i << "]";
  }
}

TEST(TorchBatchMlpTest, MatchesDenseMlpOutputsAndGradients) {
  const std::vector<DenseMlpSpec> specs = {
      {4, {64, 64}, 2}, {3, {}, 1}, {8, {32}, 5}, {17, {16, 8, 4}, 3}};
  std::mt19937 rng(7);
  for (const DenseMlpSpec& spec : specs) {
    DenseMlp dense(spec);
    dense.OrthogonalInitialize(std::sqrt(2.0), 0.5, 3);
    // Non-zero biases, so they take part.
    for (float& p : dense.params()) p += 0.01f * std::normal_distribution<float>()(rng);
    absl::StatusOr<std::unique_ptr<BatchFunction>> torch = MakeTorchBatchMlp(spec, "cpu");
    ASSERT_TRUE(torch.ok()) << torch.status();
    ASSERT_EQ((*torch)->num_params(), dense.num_params());
    std::vector<float> flat(dense.params().begin(), dense.params().end());
    SetBatchFunctionParameters(torch->get(), flat.data());
    for (int64_t batch : {1, 7, 64}) {
      SCOPED_TRACE(testing::Message() << "input " << spec.input_dim << " hidden "
                                      << spec.hidden.size() << " batch " << batch);
      const std::vector<float> x = Random(batch * spec.input_dim, &rng);
      const std::vector<float> g = Random(batch * spec.output_dim, &rng);
      DenseMlpCache dense_cache;
      const absl::Span<const float> want = dense.Forward(x.data(), batch, &dense_cache);
      std::unique_ptr<BatchCache> cache = (*torch)->NewCache();
      const absl::Span<const float> got = (*torch)->Forward(x.data(), batch, cache.get());
      ExpectNear(std::vector<float>(want.begin(), want.end()), got, 1e-5, "output");
      // Backward adds: start both from the same non-zero buffer.
      std::vector<float> want_grad(dense.num_params(), 0.25f), got_grad(dense.num_params(), 0.25f);
      dense.Backward(&dense_cache, g.data(), want_grad.data());
      (*torch)->Backward(cache.get(), g.data(), got_grad.data());
      ExpectNear(want_grad, got_grad, 1e-5, "gradient");
    }
  }
}

TEST(TorchBatchMlpTest, EachForwardUsesTheParametersAsTheyAreNow) {
  const DenseMlpSpec spec{5, {8}, 2};
  absl::StatusOr<std::unique_ptr<BatchFunction>> torch = MakeTorchBatchMlp(spec, "cpu");
  ASSERT_TRUE(torch.ok()) << torch.status();
  (*torch)->Initialize(1.0, 1.0, 4);
  DenseMlp dense(spec);
  std::mt19937 rng(3);
  const std::vector<float> x = Random(3 * spec.input_dim, &rng);
  std::unique_ptr<BatchCache> cache = (*torch)->NewCache();
  for (int round = 0; round < 3; ++round) {
    // An optimiser's step: written through parameter_blocks(), as PPO's Adam does.
    for (absl::Span<float> block : (*torch)->parameter_blocks()) {
      for (float& p : block) p += 0.1f * std::normal_distribution<float>()(rng);
    }
    std::vector<float> flat;
    GetBatchFunctionParameters(**torch, &flat);
    SetBatchFunctionParameters(&dense, flat.data());
    DenseMlpCache dense_cache;
    const absl::Span<const float> want = dense.Forward(x.data(), 3, &dense_cache);
    ExpectNear(std::vector<float>(want.begin(), want.end()),
               (*torch)->Forward(x.data(), 3, cache.get()), 1e-5, "output");
  }
}

TEST(TorchBatchMlpTest, InitialisesAsDenseMlpDoes) {
  const DenseMlpSpec spec{6, {16, 16}, 3};
  absl::StatusOr<std::unique_ptr<BatchFunction>> torch = MakeTorchBatchMlp(spec, "cpu");
  ASSERT_TRUE(torch.ok()) << torch.status();
  (*torch)->Initialize(std::sqrt(2.0), 0.01, 9);
  DenseMlp dense(spec);
  dense.Initialize(std::sqrt(2.0), 0.01, 9);
  std::vector<float> got;
  GetBatchFunctionParameters(**torch, &got);
  EXPECT_EQ(got, std::vector<float>(dense.params().begin(), dense.params().end()));
}

TEST(TorchBatchMlpTest, RefusesDevicesItCannotUse) {
  const DenseMlpSpec spec{4, {8}, 2};
  absl::StatusOr<std::unique_ptr<BatchFunction>> bad = MakeTorchBatchMlp(spec, "tpu");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("must be cpu, cuda or cuda:N"));
  absl::StatusOr<std::unique_ptr<BatchFunction>> bad_spec =
      MakeTorchBatchMlp(DenseMlpSpec{0, {8}, 2}, "cpu");
  EXPECT_EQ(bad_spec.status().code(), absl::StatusCode::kInvalidArgument);
  if (BackendCudaAvailable()) {
    // A CUDA LibTorch with a GPU: the same network on it.
    absl::StatusOr<std::unique_ptr<BatchFunction>> gpu = MakeTorchBatchMlp(spec, "cuda");
    ASSERT_TRUE(gpu.ok()) << gpu.status();
    DenseMlp dense(spec);
    dense.Initialize(1.0, 1.0, 2);
    std::vector<float> flat(dense.params().begin(), dense.params().end());
    SetBatchFunctionParameters(gpu->get(), flat.data());
    std::mt19937 rng(1);
    const std::vector<float> x = Random(2 * spec.input_dim, &rng);
    DenseMlpCache dense_cache;
    const absl::Span<const float> want = dense.Forward(x.data(), 2, &dense_cache);
    std::unique_ptr<BatchCache> cache = (*gpu)->NewCache();
    ExpectNear(std::vector<float>(want.begin(), want.end()),
               (*gpu)->Forward(x.data(), 2, cache.get()), 1e-5, "output on cuda");
  } else {
    absl::StatusOr<std::unique_ptr<BatchFunction>> gpu = MakeTorchBatchMlp(spec, "cuda");
    EXPECT_EQ(gpu.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(gpu.status().message()), HasSubstr("cannot use CUDA"));
  }
}

}  // namespace
}  // namespace rlx
