#include "models/cpu_mlp.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "models/simd.h"
#include "models/trace_kernels.h"

namespace rlx {
namespace {

// y <- W x + b, W (rows x cols) row-major. Four rows at a time, each with
// eight partial sums in one vector register: at these widths a row's final
// reduction costs more than its multiply-adds, so it is done once per row,
// on registers.
RLX_TARGET_CLONES void MatVec(const float* w, const float* b, const float* x, int64_t rows,
                              int64_t cols, float* y) {
  const int64_t body = cols - cols % 8;
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = w + r * cols;
    const float* w1 = w0 + cols;
    const float* w2 = w1 + cols;
    const float* w3 = w2 + cols;
    V8 a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (int64_t c = 0; c < body; c += 8) {
      const V8 xv = Load8(x + c);
      a0 += Load8(w0 + c) * xv;
      a1 += Load8(w1 + c) * xv;
      a2 += Load8(w2 + c) * xv;
      a3 += Load8(w3 + c) * xv;
    }
    float s0 = Sum8(a0), s1 = Sum8(a1), s2 = Sum8(a2), s3 = Sum8(a3);
    for (int64_t c = body; c < cols; ++c) {
      s0 += w0[c] * x[c];
      s1 += w1[c] * x[c];
      s2 += w2[c] * x[c];
      s3 += w3[c] * x[c];
    }
    y[r] = b[r] + s0;
    y[r + 1] = b[r + 1] + s1;
    y[r + 2] = b[r + 2] + s2;
    y[r + 3] = b[r + 3] + s3;
  }
  for (; r < rows; ++r) {
    const float* wr = w + r * cols;
    V8 a = {};
    for (int64_t c = 0; c < body; c += 8) a += Load8(wr + c) * Load8(x + c);
    float acc = Sum8(a);
    for (int64_t c = body; c < cols; ++c) acc += wr[c] * x[c];
    y[r] = b[r] + acc;
  }
}

// gx <- W^T g, W (rows x cols) row-major. By blocks of 32 columns whose
// sums stay in registers over all rows (accumulating into gx in memory row
// by row waits on its own stores).
RLX_TARGET_CLONES void MatTVec(const float* w, const float* g, int64_t rows, int64_t cols,
                               float* gx) {
  int64_t c = 0;
  for (; c + 32 <= cols; c += 32) {
    V8 a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (int64_t r = 0; r < rows; ++r) {
      const float* wr = w + r * cols + c;
      const V8 gr = Broadcast8(g[r]);
      a0 += Load8(wr) * gr;
      a1 += Load8(wr + 8) * gr;
      a2 += Load8(wr + 16) * gr;
      a3 += Load8(wr + 24) * gr;
    }
    Store8(gx + c, a0);
    Store8(gx + c + 8, a1);
    Store8(gx + c + 16, a2);
    Store8(gx + c + 24, a3);
  }
  for (; c + 8 <= cols; c += 8) {
    V8 a = {};
    for (int64_t r = 0; r < rows; ++r) a += Load8(w + r * cols + c) * Broadcast8(g[r]);
    Store8(gx + c, a);
  }
  for (; c < cols; ++c) {
    float a = 0.0f;
    for (int64_t r = 0; r < rows; ++r) a += w[r * cols + c] * g[r];
    gx[c] = a;
  }
}

// In place: v <- (v - mean(v)) * rstd, rstd = 1 / sqrt(var(v) + eps) (biased
// variance, as LayerNorm); then act <- LeakyReLU(v). Returns rstd.
RLX_TARGET_CLONES float LayerNormLeaky(float* v, int64_t n, float eps, float slope, float* act) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += v[i];
  const float mean = sum / static_cast<float>(n);
  float sq = 0.0f;
#pragma omp simd reduction(+ : sq)
  for (int64_t i = 0; i < n; ++i) sq += (v[i] - mean) * (v[i] - mean);
  const float rstd = 1.0f / std::sqrt(sq / static_cast<float>(n) + eps);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float u = (v[i] - mean) * rstd;
    v[i] = u;
    act[i] = u > 0.0f ? u : slope * u;
  }
  return rstd;
}

// From the gradient w.r.t. the activations (g_act) to the gradient w.r.t.
// the LayerNorm's input (g_pre), given the normalised values u:
//   g_u = g_act * (u > 0 ? 1 : slope)
//   g_pre = rstd * (g_u - mean(g_u) - u * mean(g_u * u))
RLX_TARGET_CLONES void LayerNormLeakyBackward(const float* g_act, const float* u, int64_t n,
                                              float rstd, float slope, float* g_pre) {
  float sum = 0.0f, dot = 0.0f;
#pragma omp simd reduction(+ : sum, dot)
  for (int64_t i = 0; i < n; ++i) {
    const float gu = u[i] > 0.0f ? g_act[i] : slope * g_act[i];
    g_pre[i] = gu;
    sum += gu;
    dot += gu * u[i];
  }
  const float mean_g = sum / static_cast<float>(n), mean_gu = dot / static_cast<float>(n);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) g_pre[i] = rstd * (g_pre[i] - mean_g - u[i] * mean_gu);
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
    for (int64_t h : spec_.hidden) u_.emplace_back(h, 0.0f);
    rstd_.assign(spec_.hidden.size(), 0.0f);
    g_act_.assign(widest, 0.0f);
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
      MatVec(W(l), B(l), x_[l].data(), out, in, u_[l].data());
      rstd_[l] = LayerNormLeaky(u_[l].data(), out, eps, slope, x_[l + 1].data());
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
    double l1 = 0.0;
    BackwardInto(cotangent, [&](int l, const float* g) {
      const int64_t in = spec_.fan_in(l), out = spec_.fan_out(l);
      l1 += DecayAddOuterL1(decay, g, out, x_[l].data(), in, trace.data() + offsets_[l].weight);
      l1 += DecayAddL1(decay, g, trace.data() + offsets_[l].bias, out);
    });
    return l1;
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
      LayerNormLeakyBackward(g_act_.data(), u_[l].data(), width, rstd_[l], slope,
                             g_pre_.data());
      sink(l, g_pre_.data());
      g = g_pre_.data();
      // The next MatTVec reads g (g_pre_) and writes g_act_: no overlap.
    }
  }

  MlpSpec spec_;
  std::vector<LayerOffsets> offsets_;
  std::vector<float> params_, grad_;
  std::vector<std::vector<float>> x_;  // input of each linear layer
  std::vector<std::vector<float>> u_;  // per hidden layer: the normalised values
  std::vector<float> rstd_;            // per hidden layer
  std::vector<float> g_act_, g_pre_;   // backward scratch
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
