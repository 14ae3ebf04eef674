#include "models/mlp.h"

#include <cmath>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"

namespace rlx {

absl::Status ValidateMlpSpec(const MlpSpec& spec) {
  if (spec.input_dim <= 0 || spec.output_dim <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("MlpSpec: input_dim (", spec.input_dim,
                                                   ") and output_dim (", spec.output_dim,
                                                   ") must be positive"));
  }
  for (size_t i = 0; i < spec.hidden.size(); ++i) {
    if (spec.hidden[i] <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("MlpSpec: hidden[", i, "] = ", spec.hidden[i], " must be positive"));
    }
  }
  if (!(spec.layer_norm_eps > 0)) {
    return absl::InvalidArgumentError("MlpSpec: layer_norm_eps must be positive");
  }
  return absl::OkStatus();
}

std::vector<LayerOffsets> ComputeLayerOffsets(const MlpSpec& spec) {
  std::vector<LayerOffsets> offsets(spec.num_layers());
  int64_t at = 0;
  for (int l = 0; l < spec.num_layers(); ++l) {
    offsets[l].weight = at;
    at += spec.fan_out(l) * spec.fan_in(l);
    offsets[l].bias = at;
    at += spec.fan_out(l);
  }
  return offsets;
}

int64_t NumParameters(const MlpSpec& spec) {
  int64_t n = 0;
  for (int l = 0; l < spec.num_layers(); ++l) n += spec.fan_out(l) * (spec.fan_in(l) + 1);
  return n;
}

void SparseInitialize(const MlpSpec& spec, double sparsity, uint64_t seed,
                      absl::Span<float> params) {
  std::mt19937_64 gen(seed);
  // Own conversions (not std:: distributions) so values are the same with any
  // standard library.
  auto uniform01 = [&gen]() { return static_cast<double>(gen() >> 11) * 0x1.0p-53; };
  const std::vector<LayerOffsets> offsets = ComputeLayerOffsets(spec);
  for (int l = 0; l < spec.num_layers(); ++l) {
    const int64_t in = spec.fan_in(l), out = spec.fan_out(l);
    const double bound = std::sqrt(1.0 / static_cast<double>(in));
    float* w = params.data() + offsets[l].weight;
    for (int64_t i = 0; i < out * in; ++i) {
      w[i] = static_cast<float>(-bound + 2.0 * bound * uniform01());
    }
    const int64_t num_zeros = std::min<int64_t>(
        in, static_cast<int64_t>(std::ceil(sparsity * static_cast<double>(in))));
    std::vector<int64_t> perm(in);
    for (int64_t o = 0; o < out; ++o) {
      std::iota(perm.begin(), perm.end(), 0);
      // Partial Fisher-Yates: the first num_zeros entries are a uniform sample.
      for (int64_t i = 0; i < num_zeros; ++i) {
        const int64_t j = i + static_cast<int64_t>(uniform01() * static_cast<double>(in - i));
        std::swap(perm[i], perm[std::min(j, in - 1)]);
        w[o * in + perm[i]] = 0.0f;
      }
    }
    float* b = params.data() + offsets[l].bias;
    std::fill(b, b + out, 0.0f);
  }
}

MlpSpec MlpSpecFrom(const NetworkSpec& spec) {
  MlpSpec m;
  m.input_dim = spec.input_dim;
  m.hidden = spec.hidden;
  m.output_dim = spec.output_dim;
  return m;
}

void MlpHiddenActivations(const MlpSpec& spec, absl::Span<const float> params,
                          absl::Span<const float> input, std::vector<std::vector<float>>* layers) {
  const std::vector<LayerOffsets> offsets = ComputeLayerOffsets(spec);
  layers->resize(spec.hidden.size());
  std::vector<float> x(input.begin(), input.end());
  for (size_t l = 0; l < spec.hidden.size(); ++l) {
    const int64_t in = spec.fan_in(static_cast<int>(l)), out = spec.fan_out(static_cast<int>(l));
    const float* w = params.data() + offsets[l].weight;
    const float* b = params.data() + offsets[l].bias;
    std::vector<float>& y = (*layers)[l];
    y.assign(out, 0.f);
    for (int64_t o = 0; o < out; ++o) {
      double acc = b[o];
      for (int64_t i = 0; i < in; ++i) acc += static_cast<double>(w[o * in + i]) * x[i];
      y[o] = static_cast<float>(acc);
    }
    double mean = 0, var = 0;
    for (float v : y) mean += v;
    mean /= out;
    for (float v : y) var += (v - mean) * (v - mean);
    var /= out;
    const double rstd = 1.0 / std::sqrt(var + spec.layer_norm_eps);
    for (int64_t o = 0; o < out; ++o) {
      double v = (y[o] - mean) * rstd;
      if (v < 0) v *= spec.leaky_slope;
      y[o] = static_cast<float>(v);
    }
    x = y;
  }
}

}  // namespace rlx
