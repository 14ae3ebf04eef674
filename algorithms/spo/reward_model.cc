#include "algorithms/spo/reward_model.h"

#include <cmath>

namespace rlx::spo {

RewardModel::RewardModel(int64_t obs_dim, int64_t action_dim, int64_t num_actions,
                         int64_t max_answers)
    : obs_dim_(obs_dim), action_dim_(action_dim), num_actions_(num_actions),
      max_answers_(max_answers) {
  const int64_t n = (num_actions > 0 ? num_actions : action_dim) + obs_dim;
  w_.assign(n, 0.0);
  m_.assign(n, 0.0);
  v_.assign(n, 0.0);
}

std::vector<double> RewardModel::Features(const Trajectory& t) const {
  std::vector<double> phi(w_.size(), 0.0);
  const int64_t a_width = num_actions_ > 0 ? num_actions_ : action_dim_;
  for (int s = 0; s < t.length(); ++s) {
    if (num_actions_ > 0) {
      const int64_t a = static_cast<int64_t>(t.actions(s * t.action_dim()));
      if (a >= 0 && a < num_actions_) phi[a] += 1.0;
    } else {
      for (int64_t k = 0; k < action_dim_ && k < t.action_dim(); ++k) {
        phi[k] += t.actions(s * t.action_dim() + k);
      }
    }
    for (int64_t k = 0; k < obs_dim_ && k < t.obs_dim(); ++k) {
      phi[a_width + k] += t.observations(s * t.obs_dim() + k);
    }
  }
  return phi;
}

double RewardModel::Reward(const Trajectory& t) const {
  const std::vector<double> phi = Features(t);
  double r = 0;
  for (size_t k = 0; k < w_.size(); ++k) r += w_[k] * phi[k];
  return r;
}

double RewardModel::StepReward(absl::Span<const float> observation,
                               absl::Span<const float> action) const {
  const int64_t a_width = num_actions_ > 0 ? num_actions_ : action_dim_;
  double r = 0;
  if (num_actions_ > 0) {
    const int64_t a = action.empty() ? -1 : static_cast<int64_t>(action[0]);
    if (a >= 0 && a < num_actions_) r += w_[a];
  } else {
    for (int64_t k = 0; k < action_dim_ && k < static_cast<int64_t>(action.size()); ++k) {
      r += w_[k] * action[k];
    }
  }
  for (int64_t k = 0; k < obs_dim_ && k < static_cast<int64_t>(observation.size()); ++k) {
    r += w_[a_width + k] * observation[k];
  }
  return r;
}

void RewardModel::Add(const Trajectory& a, const Trajectory& b, double label) {
  std::vector<double> d = Features(a);
  const std::vector<double> fb = Features(b);
  for (size_t k = 0; k < d.size(); ++k) d[k] -= fb[k];
  diffs_.push_back(std::move(d));
  labels_.push_back(label);
  if (static_cast<int64_t>(labels_.size()) > max_answers_) {
    diffs_.pop_front();
    labels_.pop_front();
  }
}

void RewardModel::Fit(int epochs, double learning_rate) {
  if (labels_.empty()) return;
  const size_t n = w_.size();
  std::vector<double> grad(n);
  for (int e = 0; e < epochs; ++e) {
    std::fill(grad.begin(), grad.end(), 0.0);
    for (size_t i = 0; i < labels_.size(); ++i) {
      double z = 0;
      for (size_t k = 0; k < n; ++k) z += w_[k] * diffs_[i][k];
      const double p = 1.0 / (1.0 + std::exp(-z));
      const double g = (p - labels_[i]) / labels_.size();
      for (size_t k = 0; k < n; ++k) grad[k] += g * diffs_[i][k];
    }
    ++adam_steps_;
    const double bc1 = 1 - std::pow(0.9, adam_steps_), bc2 = 1 - std::pow(0.999, adam_steps_);
    for (size_t k = 0; k < n; ++k) {
      grad[k] += 1e-4 * w_[k];
      m_[k] = 0.9 * m_[k] + 0.1 * grad[k];
      v_[k] = 0.999 * v_[k] + 0.001 * grad[k] * grad[k];
      w_[k] -= learning_rate * (m_[k] / bc1) / (std::sqrt(v_[k] / bc2) + 1e-8);
    }
  }
}

}  // namespace rlx::spo
