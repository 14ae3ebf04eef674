#include "algorithms/monitors.h"

#include <cmath>

namespace rlx {

double DormantRatio(const Network& network, const std::vector<std::vector<float>>& inputs,
                    double tau) {
  if (inputs.empty()) return 0.0;
  std::vector<std::vector<double>> mean_abs;
  std::vector<std::vector<float>> layers;
  for (const std::vector<float>& input : inputs) {
    network.HiddenActivations(input, &layers);
    if (layers.empty()) return 0.0;
    mean_abs.resize(layers.size());
    for (size_t l = 0; l < layers.size(); ++l) {
      mean_abs[l].resize(layers[l].size(), 0.0);
      for (size_t o = 0; o < layers[l].size(); ++o) {
        mean_abs[l][o] += std::abs(layers[l][o]) / inputs.size();
      }
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
  return total == 0 ? 0.0 : static_cast<double>(dormant) / static_cast<double>(total);
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
