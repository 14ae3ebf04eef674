#include "algorithms/monitors.h"

#include <cmath>

namespace rlx {

double DormantRatio(const MlpSpec& spec, absl::Span<const float> params,
                    const std::vector<std::vector<float>>& inputs, double tau) {
  if (inputs.empty() || spec.hidden.empty()) return 0.0;
  const std::vector<LayerOffsets> offsets = ComputeLayerOffsets(spec);
  std::vector<std::vector<double>> mean_abs(spec.hidden.size());
  for (size_t l = 0; l < spec.hidden.size(); ++l) mean_abs[l].assign(spec.hidden[l], 0.0);
  std::vector<float> x, y;
  for (const std::vector<float>& input : inputs) {
    x = input;
    for (size_t l = 0; l < spec.hidden.size(); ++l) {
      const int64_t in = spec.fan_in(static_cast<int>(l)), out = spec.fan_out(static_cast<int>(l));
      const float* w = params.data() + offsets[l].weight;
      const float* b = params.data() + offsets[l].bias;
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
        mean_abs[l][o] += std::abs(v) / inputs.size();
      }
      x.swap(y);
    }
  }
  int64_t dormant = 0, total = 0;
  for (const std::vector<double>& layer : mean_abs) {
    double layer_mean = 0;
    for (double m : layer) layer_mean += m;
    layer_mean /= layer.size();
    for (double m : layer) {
      if (layer_mean <= 0 || m / layer_mean <= tau) ++dormant;
    }
    total += static_cast<int64_t>(layer.size());
  }
  return static_cast<double>(dormant) / static_cast<double>(total);
}

void ActionDiversity::Add(absl::Span<const float> action, bool discrete) {
  discrete_ = discrete;
  recent_.emplace_back(action.begin(), action.end());
  if (discrete && !action.empty()) ++counts_[static_cast<int64_t>(action[0])];
  if (recent_.size() > window_) {
    if (discrete && !recent_.front().empty()) {
      auto it = counts_.find(static_cast<int64_t>(recent_.front()[0]));
      if (it != counts_.end() && --it->second == 0) counts_.erase(it);
    }
    recent_.pop_front();
  }
}

double ActionDiversity::entropy() const {
  if (recent_.empty()) return 0.0;
  if (discrete_) {
    double h = 0;
    for (const auto& [a, c] : counts_) {
      const double p = static_cast<double>(c) / recent_.size();
      h -= p * std::log(p);
    }
    return h;
  }
  const size_t dims = recent_.front().size();
  double total_std = 0;
  for (size_t d = 0; d < dims; ++d) {
    double mean = 0, sq = 0;
    for (const auto& a : recent_) mean += a[d];
    mean /= recent_.size();
    for (const auto& a : recent_) sq += (a[d] - mean) * (a[d] - mean);
    total_std += std::sqrt(sq / recent_.size());
  }
  return dims == 0 ? 0.0 : total_std / dims;
}

int ActionDiversity::distinct() const {
  return discrete_ ? static_cast<int>(counts_.size()) : 0;
}

}  // namespace rlx
