#include "models/cpu_mlp.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <cblas.h>

#include "absl/strings/str_cat.h"
#include "models/layer_norm.h"
#include "models/simd.h"
#include "models/trace_kernels.h"

namespace rlx {
namespace {

// y <- W x + b, W (rows x cols) row-major: the bias, then BLAS sgemv adds
// the product (the call, and so the kernel and its summation order, that
// LibTorch's addmv makes for one row).
void MatVec(const float* w, const float* b, const float* x, int64_t rows, int64_t cols,
            float* y) {
  std::memcpy(y, b, rows * sizeof(float));
  cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols), 1.0f,
              w, static_cast<int>(cols), x, 1, 1.0f, y, 1);
}

// gx <- W^T g, W (rows x cols) row-major (LibTorch's mv on the transposed view).
void MatTVec(const float* w, const float* g, int64_t rows, int64_t cols, float* gx) {
  cblas_sgemv(CblasRowMajor, CblasTrans, static_cast<int>(rows), static_cast<int>(cols), 1.0f, w,
              static_cast<int>(cols), g, 1, 0.0f, gx, 1);
}

// act <- LeakyReLU(u). Both sides computed, then selected: a blend, not a
// branch on the sign (which the compiler keeps while the product may trap).
RLX_TARGET_CLONES void Leaky(const float* u, int64_t n, float slope, float* act) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = u[i], scaled = v * slope;
    act[i] = v > 0.0f ? v : scaled;
  }
}

// g_u <- g_act * (u > 0 ? 1 : slope).
RLX_TARGET_CLONES void LeakyBackward(const float* g_act, const float* u, int64_t n, float slope,
                                     float* g_u) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float g = g_act[i], scaled = g * slope;
    g_u[i] = u[i] > 0.0f ? g : scaled;
  }
}

// gw <- outer(g, x).
RLX_TARGET_CLONES void Outer(const float* g, int64_t rows, const float* x, int64_t cols,
                             float* gw) {
  for (int64_t r = 0; r < rows; ++r) {
    const float gr = g[r];
    float* out = gw + r * cols;
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) out[c] = gr * x[c];
  }
}

class CpuMlp final : public Network {
 public:
  CpuMlp(const MlpSpec& spec, absl::Span<const float> params)
      : spec_(spec), offsets_(ComputeLayerOffsets(spec)), params_(params.begin(), params.end()) {
    const int layers = spec_.num_layers();
    int64_t widest = spec_.output_dim;
    for (int l = 0; l < layers; ++l) {
      x_.emplace_back(spec_.fan_in(l), 0.0f);
      widest = std::max(widest, spec_.fan_in(l));
    }
    for (int64_t h : spec_.hidden) {
      pre_.emplace_back(h, 0.0f);
      u_.emplace_back(h, 0.0f);
    }
    mean_.assign(spec_.hidden.size(), 0.0f);
    rstd_.assign(spec_.hidden.size(), 0.0f);
    g_act_.assign(widest, 0.0f);
    g_u_.assign(widest, 0.0f);
    g_pre_.assign(widest, 0.0f);
  }

  int64_t input_dim() const override { return spec_.input_dim; }
  int64_t output_dim() const override { return spec_.output_dim; }
  absl::Span<float> params() override { return absl::MakeSpan(params_); }
  absl::Span<const float> params() const override { return absl::MakeConstSpan(params_); }

  void Forward(absl::Span<const float> input, absl::Span<float> output) override {
    std::memcpy(x_[0].data(), input.data(), spec_.input_dim * sizeof(float));
    const int last = spec_.num_layers() - 1;
    const float eps = static_cast<float>(spec_.layer_norm_eps);
    const float slope = static_cast<float>(spec_.leaky_slope);
    for (int l = 0; l < last; ++l) {
      const int64_t in = spec_.fan_in(l), out = spec_.fan_out(l);
      MatVec(W(l), B(l), x_[l].data(), out, in, pre_[l].data());
      LayerNormForward(pre_[l].data(), out, eps, u_[l].data(), &mean_[l], &rstd_[l]);
      Leaky(u_[l].data(), out, slope, x_[l + 1].data());
    }
    MatVec(W(last), B(last), x_[last].data(), spec_.output_dim, spec_.fan_in(last),
           output.data());
  }

  absl::Span<const float> Backward(absl::Span<const float> cotangent) override {
    grad_.resize(params_.size());
    BackwardInto(cotangent, [this](int l, const float* g) {
      const int64_t in = spec_.fan_in(l), out = spec_.fan_out(l);
      Outer(g, out, x_[l].data(), in, grad_.data() + offsets_[l].weight);
      std::memcpy(grad_.data() + offsets_[l].bias, g, out * sizeof(float));
    });
    return absl::MakeConstSpan(grad_);
  }

  double AccumulateTrace(absl::Span<const float> cotangent, float decay,
                         absl::Span<float> trace) override {
    BackwardInto(cotangent, [&](int l, const float* g) {
      const int64_t in = spec_.fan_in(l), out = spec_.fan_out(l);
      DecayAddOuter(decay, g, out, x_[l].data(), in, trace.data() + offsets_[l].weight);
      DecayAdd(decay, g, trace.data() + offsets_[l].bias, out);
    });
    // The norm in the one order every backend uses (models/trace_kernels.h).
    return L1Norm(trace.data(), static_cast<int64_t>(trace.size()));
  }

  void HiddenActivations(absl::Span<const float> input,
                         std::vector<std::vector<float>>* layers) const override {
    MlpHiddenActivations(spec_, params(), input, layers);
  }

  std::unique_ptr<Network> Clone() const override {
    return std::make_unique<CpuMlp>(spec_, params());
  }

 private:
  const float* W(int l) const { return params_.data() + offsets_[l].weight; }
  const float* B(int l) const { return params_.data() + offsets_[l].bias; }

  // Walks the layers from the output down; sink(l, g) receives the gradient
  // w.r.t. layer l's pre-activation output (its bias gradient; the weight
  // gradient is outer(g, x_[l])).
  template <typename Sink>
  void BackwardInto(absl::Span<const float> cotangent, Sink sink) {
    const int last = spec_.num_layers() - 1;
    const float slope = static_cast<float>(spec_.leaky_slope);
    sink(last, cotangent.data());
    const float* g = cotangent.data();
    for (int l = last - 1; l >= 0; --l) {
      const int64_t width = spec_.hidden[l];
      MatTVec(W(l + 1), g, spec_.fan_out(l + 1), width, g_act_.data());
      LeakyBackward(g_act_.data(), u_[l].data(), width, slope, g_u_.data());
      LayerNormBackward(g_u_.data(), pre_[l].data(), width, mean_[l], rstd_[l], g_pre_.data());
      sink(l, g_pre_.data());
      g = g_pre_.data();
      // The next MatTVec reads g (g_pre_) and writes g_act_: no overlap.
    }
  }

  MlpSpec spec_;
  std::vector<LayerOffsets> offsets_;
  std::vector<float> params_, grad_;
  std::vector<std::vector<float>> x_;  // input of each linear layer
  std::vector<std::vector<float>> pre_;  // per hidden layer: the LayerNorm's input
  std::vector<std::vector<float>> u_;    // per hidden layer: the normalised values
  std::vector<float> mean_, rstd_;       // per hidden layer
  std::vector<float> g_act_, g_u_, g_pre_;  // backward scratch
};

}  // namespace

absl::StatusOr<std::unique_ptr<Network>> MakeCpuMlp(const NetworkSpec& spec) {
  const MlpSpec mlp = MlpSpecFrom(spec);
  if (absl::Status s = ValidateMlpSpec(mlp); !s.ok()) return s;
  std::vector<float> params(NumParameters(mlp));
  SparseInitialize(mlp, spec.sparsity, spec.seed, absl::MakeSpan(params));
  return CreateCpuMlp(mlp, params);
}

absl::StatusOr<std::unique_ptr<Network>> CreateCpuMlp(const MlpSpec& spec,
                                                     absl::Span<const float> params) {
  if (absl::Status s = ValidateMlpSpec(spec); !s.ok()) return s;
  if (static_cast<int64_t>(params.size()) != NumParameters(spec)) {
    return absl::InvalidArgumentError(absl::StrCat("CreateCpuMlp: ", params.size(),
                                                   " parameters given, the spec needs ",
                                                   NumParameters(spec)));
  }
  return std::unique_ptr<Network>(std::make_unique<CpuMlp>(spec, params));
}

}  // namespace rlx
