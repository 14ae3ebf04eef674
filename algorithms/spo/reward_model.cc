#include "algorithms/spo/reward_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

namespace rlx::spo {

RewardModel::RewardModel(int64_t obs_dim, int64_t action_dim, int64_t num_actions,
                         int64_t max_answers, MlpOptions mlp)
    : obs_dim_(obs_dim), action_dim_(action_dim), num_actions_(num_actions),
      max_answers_(max_answers),
      feature_dim_((num_actions > 0 ? num_actions : action_dim) + obs_dim),
      mlp_options_(std::move(mlp)), rng_(mlp_options_.seed) {
  w_.assign(feature_dim_, 0.0);
  m_.assign(feature_dim_, 0.0);
  v_.assign(feature_dim_, 0.0);
  if (!mlp_options_.hidden.empty()) {
    DenseMlpSpec spec;
    spec.input_dim = feature_dim_;
    spec.hidden = mlp_options_.hidden;
    spec.output_dim = 1;
    mlp_ = std::make_unique<DenseMlp>(spec);
    mlp_->OrthogonalInitialize(std::sqrt(2.0), 1.0, mlp_options_.seed);
    cache_ = mlp_->NewCache();
    mlp_m_.assign(mlp_->num_params(), 0.0f);
    mlp_v_.assign(mlp_->num_params(), 0.0f);
    grad_.assign(mlp_->num_params(), 0.0f);
  }
}

RewardModel::~RewardModel() = default;

void RewardModel::StepFeaturesOf(const float* observation, const float* action,
                                 float* out) const {
  const int64_t a_width = num_actions_ > 0 ? num_actions_ : action_dim_;
  std::fill(out, out + feature_dim_, 0.0f);
  if (num_actions_ > 0) {
    const int64_t a = static_cast<int64_t>(action[0]);
    if (a >= 0 && a < num_actions_) out[a] = 1.0f;
  } else {
    std::copy(action, action + action_dim_, out);
  }
  std::copy(observation, observation + obs_dim_, out + a_width);
}

std::shared_ptr<const RewardModel::StepFeatures> RewardModel::Stored(const Trajectory& t) {
  // FNV-1a over the trajectory's floats: the same episode named by several
  // answers (as a group member, then from the queue) is stored once.
  uint64_t h = 1469598103934665603ull ^ static_cast<uint64_t>(t.length());
  auto mix = [&h](float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    h = (h ^ bits) * 1099511628211ull;
  };
  for (float v : t.observations()) mix(v);
  for (float v : t.actions()) mix(v);
  auto found = by_hash_.find(h);
  if (found != by_hash_.end()) {
    if (std::shared_ptr<const StepFeatures> s = found->second.lock()) return s;
  }
  auto s = std::make_shared<StepFeatures>();
  s->length = t.length();
  s->rows.resize(s->length * feature_dim_);
  std::vector<float> obs(obs_dim_, 0.0f), act(std::max<int64_t>(action_dim_, 1), 0.0f);
  for (int64_t k = 0; k < s->length; ++k) {
    for (int64_t j = 0; j < obs_dim_ && j < t.obs_dim(); ++j) {
      obs[j] = t.observations(k * t.obs_dim() + j);
    }
    for (int64_t j = 0; j < static_cast<int64_t>(act.size()) && j < t.action_dim(); ++j) {
      act[j] = t.actions(k * t.action_dim() + j);
    }
    StepFeaturesOf(obs.data(), act.data(), &s->rows[k * feature_dim_]);
  }
  if (by_hash_.size() > 4 * static_cast<size_t>(max_answers_)) {  // drop expired entries
    for (auto it = by_hash_.begin(); it != by_hash_.end();) {
      it = it->second.expired() ? by_hash_.erase(it) : std::next(it);
    }
  }
  by_hash_[h] = s;
  return s;
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
  if (mlp_ != nullptr) {
    std::vector<float> obs(obs_dim_, 0.0f), act(std::max<int64_t>(action_dim_, 1), 0.0f);
    double r = 0;
    for (int64_t k = 0; k < t.length(); ++k) {
      for (int64_t j = 0; j < obs_dim_ && j < t.obs_dim(); ++j) {
        obs[j] = t.observations(k * t.obs_dim() + j);
      }
      for (int64_t j = 0; j < static_cast<int64_t>(act.size()) && j < t.action_dim(); ++j) {
        act[j] = t.actions(k * t.action_dim() + j);
      }
      r += StepReward(obs, act);
    }
    return r;
  }
  const std::vector<double> phi = Features(t);
  double r = 0;
  for (size_t k = 0; k < w_.size(); ++k) r += w_[k] * phi[k];
  return r;
}

double RewardModel::StepReward(absl::Span<const float> observation,
                               absl::Span<const float> action) const {
  if (mlp_ != nullptr) {
    std::vector<float> obs(obs_dim_, 0.0f), act(std::max<int64_t>(action_dim_, 1), 0.0f);
    std::copy_n(observation.begin(), std::min<int64_t>(obs_dim_, observation.size()), obs.begin());
    std::copy_n(action.begin(), std::min<int64_t>(act.size(), action.size()), act.begin());
    float out = 0;
    StepRewards(obs.data(), obs_dim_, act.data(), static_cast<int64_t>(act.size()), 1, &out);
    return out;
  }
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

void RewardModel::StepRewards(const float* observations, int64_t obs_stride,
                              const float* actions, int64_t action_stride, int64_t n,
                              float* out) const {
  if (mlp_ == nullptr) {
    const int64_t a_width = std::max<int64_t>(action_dim_, 1);
    for (int64_t k = 0; k < n; ++k) {
      out[k] = static_cast<float>(
          StepReward(absl::MakeConstSpan(observations + k * obs_stride, obs_dim_),
                     absl::MakeConstSpan(actions + k * action_stride, a_width)));
    }
    return;
  }
  std::vector<float> x(n * feature_dim_);
  for (int64_t k = 0; k < n; ++k) {
    StepFeaturesOf(observations + k * obs_stride, actions + k * action_stride,
                   &x[k * feature_dim_]);
  }
  absl::Span<const float> r = mlp_->Forward(x.data(), n, cache_.get());
  std::copy(r.begin(), r.end(), out);
}

void RewardModel::Add(const Trajectory& a, const Trajectory& b, double label) {
  if (mlp_ != nullptr) {
    pairs_.emplace_back(Stored(a), Stored(b));
    labels_.push_back(label);
    if (static_cast<int64_t>(labels_.size()) > max_answers_) {
      pairs_.pop_front();
      labels_.pop_front();
    }
    return;
  }
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

void RewardModel::FitMlp(int steps) {
  // Each step: a minibatch of answers; one forward pass over the distinct
  // trajectories they name (all their steps), R per trajectory, the
  // logistic loss's gradient (p - label) / B on R(a) and its negative on
  // R(b), handed to every step of the trajectory; L2 and Adam.
  const int64_t n = static_cast<int64_t>(labels_.size());
  const int64_t batch = std::min<int64_t>(std::max(1, mlp_options_.minibatch), n);
  std::vector<int64_t> chosen(batch);
  std::vector<const StepFeatures*> trajs;
  std::unordered_map<const StepFeatures*, int64_t> index;
  std::vector<int64_t> first;  // trajectory k's first row
  std::vector<float> x, grad_out, total;
  for (int s = 0; s < steps; ++s) {
    trajs.clear();
    index.clear();
    first.clear();
    int64_t rows = 0;
    auto id = [&](const StepFeatures* f) {
      auto [it, inserted] = index.emplace(f, static_cast<int64_t>(trajs.size()));
      if (inserted) {
        trajs.push_back(f);
        first.push_back(rows);
        rows += f->length;
      }
      return it->second;
    };
    std::vector<std::pair<int64_t, int64_t>> named(batch);
    for (int64_t q = 0; q < batch; ++q) {
      chosen[q] = static_cast<int64_t>(rng_() % static_cast<uint64_t>(n));
      named[q] = {id(pairs_[chosen[q]].first.get()), id(pairs_[chosen[q]].second.get())};
    }
    x.resize(rows * feature_dim_);
    for (size_t k = 0; k < trajs.size(); ++k) {
      std::copy(trajs[k]->rows.begin(), trajs[k]->rows.end(), &x[first[k] * feature_dim_]);
    }
    absl::Span<const float> r = mlp_->Forward(x.data(), rows, cache_.get());
    total.assign(trajs.size(), 0.0f);
    for (size_t k = 0; k < trajs.size(); ++k) {
      for (int64_t j = 0; j < trajs[k]->length; ++j) total[k] += r[first[k] + j];
    }
    std::vector<float> grad_total(trajs.size(), 0.0f);
    for (int64_t q = 0; q < batch; ++q) {
      const double z = static_cast<double>(total[named[q].first]) - total[named[q].second];
      const double p = 1.0 / (1.0 + std::exp(-z));
      const float g = static_cast<float>((p - labels_[chosen[q]]) / batch);
      grad_total[named[q].first] += g;
      grad_total[named[q].second] -= g;
    }
    grad_out.resize(rows);
    for (size_t k = 0; k < trajs.size(); ++k) {
      std::fill_n(&grad_out[first[k]], trajs[k]->length, grad_total[k]);
    }
    std::fill(grad_.begin(), grad_.end(), 0.0f);
    mlp_->Backward(static_cast<DenseMlpCache*>(cache_.get()), grad_out.data(), grad_.data());
    absl::Span<float> w = mlp_->params();
    ++adam_steps_;
    const double lr = mlp_options_.learning_rate;
    const double bc1 = 1 - std::pow(0.9, adam_steps_), bc2 = 1 - std::pow(0.999, adam_steps_);
    for (size_t k = 0; k < w.size(); ++k) {
      const float g = grad_[k] + 1e-4f * w[k];
      mlp_m_[k] = 0.9f * mlp_m_[k] + 0.1f * g;
      mlp_v_[k] = 0.999f * mlp_v_[k] + 0.001f * g * g;
      w[k] -= static_cast<float>(lr * (mlp_m_[k] / bc1) / (std::sqrt(mlp_v_[k] / bc2) + 1e-8));
    }
  }
}

void RewardModel::Fit(int epochs, double learning_rate) {
  if (labels_.empty()) return;
  if (mlp_ != nullptr) {
    FitMlp(epochs);
    return;
  }
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
