#include "models/dense_mlp.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"

namespace rlx {

absl::Status ValidateDenseMlpSpec(const DenseMlpSpec& spec) {
  if (spec.input_dim <= 0 || spec.output_dim <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("DenseMlp: input_dim and output_dim must be "
                                                   "> 0, got ",
                                                   spec.input_dim, " and ", spec.output_dim));
  }
  for (size_t i = 0; i < spec.hidden.size(); ++i) {
    if (spec.hidden[i] <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("DenseMlp: hidden[", i, "] must be > 0, got ", spec.hidden[i]));
    }
  }
  return absl::OkStatus();
}

namespace {

inline float TanhApproxInline(float x) {
  constexpr float kClamp = 7.90531110763549805f;  // tanh(x) rounds to +-1 beyond
  x = x > kClamp ? kClamp : x;  // branch-free forms, so loops vectorise
  x = x < -kClamp ? -kClamp : x;
  const float x2 = x * x;
  float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
  p = x2 * p + -8.60467152213735e-11f;
  p = x2 * p + 5.12229709037114e-08f;
  p = x2 * p + 1.48572235717979e-05f;
  p = x2 * p + 6.37261928875436e-04f;
  p = x2 * p + 4.89352455891786e-03f;
  p = x * p;
  float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
  q = x2 * q + 2.26843463243900e-03f;
  q = x2 * q + 4.89352518554385e-03f;
  return p / q;
}

}  // namespace

float TanhApprox(float x) { return TanhApproxInline(x); }

int64_t DenseMlpNumParameters(const DenseMlpSpec& spec) {
  int64_t n = 0;
  for (int l = 0; l < spec.num_layers(); ++l) n += (spec.fan_in(l) + 1) * spec.fan_out(l);
  return n;
}

DenseMlp::DenseMlp(DenseMlpSpec spec) : spec_(std::move(spec)) {
  int64_t at = 0;
  for (int l = 0; l < spec_.num_layers(); ++l) {
    Offsets o;
    o.weight = at;
    at += spec_.fan_in(l) * spec_.fan_out(l);
    o.bias = at;
    at += spec_.fan_out(l);
    offsets_.push_back(o);
  }
  params_.assign(at, 0.0f);
}

void DenseMlp::OrthogonalInitialize(double hidden_gain, double output_gain, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  for (int l = 0; l < spec_.num_layers(); ++l) {
    const int64_t rows = spec_.fan_out(l), cols = spec_.fan_in(l);
    const double gain = l == spec_.num_layers() - 1 ? output_gain : hidden_gain;
    // Orthonormalise the longer side's vectors: Gram-Schmidt over the
    // min(rows, cols) vectors of length max(rows, cols), then lay them out as
    // rows (rows <= cols) or columns (rows > cols) of W.
    const int64_t k = std::min(rows, cols), len = std::max(rows, cols);
    std::vector<double> q(k * len);
    for (double& v : q) v = normal(rng);
    for (int64_t i = 0; i < k; ++i) {
      double* qi = &q[i * len];
      for (int pass = 0; pass < 2; ++pass) {  // twice for numerical orthogonality
        for (int64_t j = 0; j < i; ++j) {
          const double* qj = &q[j * len];
          double dot = 0;
          for (int64_t t = 0; t < len; ++t) dot += qi[t] * qj[t];
          for (int64_t t = 0; t < len; ++t) qi[t] -= dot * qj[t];
        }
      }
      double norm = 0;
      for (int64_t t = 0; t < len; ++t) norm += qi[t] * qi[t];
      norm = std::sqrt(norm);
      for (int64_t t = 0; t < len; ++t) qi[t] /= norm;
    }
    float* w = &params_[offsets_[l].weight];
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        const double v = rows <= cols ? q[r * len + c] : q[c * len + r];
        w[r * cols + c] = static_cast<float>(gain * v);
      }
    }
    std::fill(params_.begin() + offsets_[l].bias, params_.begin() + offsets_[l].bias + rows, 0.0f);
  }
}

absl::Span<const float> DenseMlp::Forward(const float* x, int64_t batch,
                                          DenseMlpCache* cache) const {
  const int layers = spec_.num_layers();
  cache->batch = batch;
  cache->inputs.resize(layers);
  cache->outputs.resize(layers);
  const float* in = x;
  for (int l = 0; l < layers; ++l) {
    const int64_t fi = spec_.fan_in(l), fo = spec_.fan_out(l);
    std::vector<float>& out = cache->outputs[l];
    out.resize(batch * fo);
    const float* b = &params_[offsets_[l].bias];
    for (int64_t r = 0; r < batch; ++r) std::memcpy(&out[r * fo], b, fo * sizeof(float));
    // out (batch x fo) += in (batch x fi) * W^T (fi x fo)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(batch),
                static_cast<int>(fo), static_cast<int>(fi), 1.0f, in, static_cast<int>(fi),
                &params_[offsets_[l].weight], static_cast<int>(fi), 1.0f, out.data(),
                static_cast<int>(fo));
    if (l + 1 < layers) {
      float* o = out.data();
      const int64_t count = batch * fo;
#pragma omp simd
      for (int64_t i = 0; i < count; ++i) o[i] = TanhApproxInline(o[i]);
    }
    cache->inputs[l] = in;
    in = out.data();
  }
  return absl::MakeConstSpan(cache->outputs.back());
}

void DenseMlp::Backward(DenseMlpCache* cache, const float* grad_output, float* grad_params,
                        float* grad_input) const {
  const int layers = spec_.num_layers();
  const int64_t batch = cache->batch;
  std::vector<float>& g = cache->grad;  // d loss / d (pre-activation of layer l)
  g.assign(grad_output, grad_output + batch * spec_.output_dim);
  for (int l = layers - 1; l >= 0; --l) {
    const int64_t fi = spec_.fan_in(l), fo = spec_.fan_out(l);
    if (l + 1 < layers) {
      // Through tanh: d/dz = d/dy * (1 - y^2).
      const float* y = cache->outputs[l].data();
      float* gp = g.data();
      const int64_t count = batch * fo;
#pragma omp simd
      for (int64_t i = 0; i < count; ++i) gp[i] *= 1.0f - y[i] * y[i];
    }
    // dW (fo x fi) += g^T (fo x batch) * in (batch x fi); db += column sums of g.
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(fo),
                static_cast<int>(fi), static_cast<int>(batch), 1.0f, g.data(),
                static_cast<int>(fo), cache->inputs[l], static_cast<int>(fi), 1.0f,
                grad_params + offsets_[l].weight, static_cast<int>(fi));
    float* db = grad_params + offsets_[l].bias;
    for (int64_t r = 0; r < batch; ++r) {
      const float* gr = &g[r * fo];
      for (int64_t c = 0; c < fo; ++c) db[c] += gr[c];
    }
    if (l == 0 && grad_input == nullptr) break;
    // d in (batch x fi) = g (batch x fo) * W (fo x fi)
    float* next = l == 0 ? grad_input : nullptr;
    if (next == nullptr) {
      cache->grad_next.resize(batch * fi);
      next = cache->grad_next.data();
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(batch),
                static_cast<int>(fi), static_cast<int>(fo), 1.0f, g.data(), static_cast<int>(fo),
                &params_[offsets_[l].weight], static_cast<int>(fi), 0.0f, next,
                static_cast<int>(fi));
    if (l > 0) g.swap(cache->grad_next);
  }
}

}  // namespace rlx
