#include "algorithms/ppo/ppo_learner.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include <sstream>

#include "algorithms/ppo/advantages.h"
#include "core/status_macros.h"

namespace rlx::ppo {

void Rollout::Resize(int64_t n, int64_t t, int64_t obs_dim, int64_t action_width) {
  num_unrolls = n;
  length = t;
  const int64_t m = n * t;
  observations.resize(m * obs_dim);
  actions.resize(m * action_width);
  log_probs.resize(m);
  values.resize(m);
  rewards.resize(m);
  terminated.resize(m);
  truncated.resize(m);
  final_observations.resize(m * obs_dim);
  next_observations.resize(n * obs_dim);
}

absl::Status Rollout::Validate(int64_t obs_dim, int64_t action_width) const {
  const int64_t m = num_unrolls * length;
  if (num_unrolls < 1 || length < 1) {
    return absl::InvalidArgumentError(absl::StrCat("rollout: needs at least one unroll of one "
                                                   "step, got ", num_unrolls, " x ", length));
  }
  auto check = [](const char* name, size_t got, int64_t want) -> absl::Status {
    if (static_cast<int64_t>(got) == want) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("rollout.", name, ": expected ", want, " values, got ", got));
  };
  for (const absl::Status& s :
       {check("observations", observations.size(), m * obs_dim),
        check("actions", actions.size(), m * action_width), check("log_probs", log_probs.size(), m),
        check("values", values.size(), m), check("rewards", rewards.size(), m),
        check("terminated", terminated.size(), m), check("truncated", truncated.size(), m),
        check("final_observations", final_observations.size(), m * obs_dim),
        check("next_observations", next_observations.size(), num_unrolls * obs_dim)}) {
    if (!s.ok()) return s;
  }
  auto finite = [](const char* name, const std::vector<float>& v) -> absl::Status {
    for (size_t i = 0; i < v.size(); ++i) {
      if (!std::isfinite(v[i])) {
        return absl::InvalidArgumentError(absl::StrCat("rollout.", name, "[", i, "] is ", v[i]));
      }
    }
    return absl::OkStatus();
  };
  for (const absl::Status& s :
       {finite("observations", observations), finite("actions", actions),
        finite("log_probs", log_probs), finite("values", values), finite("rewards", rewards),
        finite("next_observations", next_observations)}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

void Minibatch::Resize(int64_t n, int64_t obs_dim, int64_t action_width) {
  size = n;
  observations.resize(n * obs_dim);
  actions.resize(n * action_width);
  advantages.resize(n);
  returns.resize(n);
  old_log_probs.resize(n);
  old_values.resize(n);
}

absl::StatusOr<std::unique_ptr<PpoLearner>> PpoLearner::Create(const ProblemSpec& problem,
                                                               const PpoConfig& config,
                                                               uint64_t seed) {
  if (absl::Status s = ValidateProblemSpec(problem); !s.ok()) return s;
  const std::vector<std::string> errors = PpoConfigErrors(problem, config);
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("ppo: ", absl::StrJoin(errors, "; ")));
  }
  std::unique_ptr<BatchFunction> actor, critic;
  RETURN_IF_ERROR(MakeLearnerNetworks(problem, config, &actor, &critic));
  return std::unique_ptr<PpoLearner>(
      new PpoLearner(problem, config, seed, std::move(actor), std::move(critic)));
}

PpoLearner::PpoLearner(const ProblemSpec& problem, const PpoConfig& config, uint64_t seed,
                       std::unique_ptr<BatchFunction> actor, std::unique_ptr<BatchFunction> critic)
    : config_(config),
      model_(problem, config, seed, std::move(actor), std::move(critic)),
      rng_(seed ^ 0x5bd1e995u) {
  adam_.m.assign(model_.num_parameters(), 0.0f);
  adam_.v.assign(model_.num_parameters(), 0.0f);
  grad_.assign(model_.num_parameters(), 0.0f);
  actor_cache_ = model_.actor().NewCache();
  critic_cache_ = model_.critic().NewCache();
}

void PpoLearner::AdamStep(double lr) {
  // torch.optim.Adam (betas 0.9, 0.999), over actor, critic and log std:
  // p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps).
  constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f;
  ++adam_steps_;
  const double bc1 = 1.0 - std::pow(0.9, static_cast<double>(adam_steps_));
  const double bc2 = 1.0 - std::pow(0.999, static_cast<double>(adam_steps_));
  const float step = static_cast<float>(lr / bc1);
  const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  const float eps = static_cast<float>(config_.adam_eps);
  std::vector<absl::Span<float>> blocks = model_.actor().parameter_blocks();
  for (absl::Span<float> b : model_.critic().parameter_blocks()) blocks.push_back(b);
  blocks.push_back(absl::MakeSpan(model_.log_std()));
  const float* g = grad_.data();
  float* m = adam_.m.data();
  float* v = adam_.v.data();
  for (absl::Span<float> block : blocks) {
    float* p = block.data();
    const int64_t n = static_cast<int64_t>(block.size());
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      m[i] = kBeta1 * m[i] + (1 - kBeta1) * g[i];
      v[i] = kBeta2 * v[i] + (1 - kBeta2) * g[i] * g[i];
      p[i] -= step * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
    g += n;
    m += n;
    v += n;
  }
}

double PpoLearner::MinibatchLoss(const Minibatch& mb, std::vector<float>* grad,
                                 MinibatchStats* stats) {
  const PpoConfig& c = config_;
  const int64_t n = mb.size, heads = model_.head_width();
  lp_.resize(n);
  ent_.resize(n);
  g_lp_.resize(n);
  g_ent_.resize(n);
  grad_head_.resize(n * heads);
  grad_value_.resize(n);
  absl::Span<const float> head = model_.actor().Forward(mb.observations.data(), n, actor_cache_.get());
  absl::Span<const float> v = model_.critic().Forward(mb.observations.data(), n, critic_cache_.get());
  model_.LogProbEntropy(head.data(), n, mb.actions.data(), lp_.data(), ent_.data());
  const double inv = 1.0 / static_cast<double>(n);
  MinibatchStats s;
  for (int64_t k = 0; k < n; ++k) {
    const double log_ratio = double{lp_[k]} - mb.old_log_probs[k];
    const double ratio = std::exp(log_ratio);
    const double adv = mb.advantages[k];
    const double clipped = std::clamp(ratio, 1.0 - c.clip_coef, 1.0 + c.clip_coef);
    const double l1 = -adv * ratio, l2 = -adv * clipped;
    // max(l1, l2): the gradient w.r.t. log pi flows only through the
    // unclipped term (the clipped one is flat outside the clip range and
    // equal to the unclipped one inside).
    g_lp_[k] = l1 >= l2 ? static_cast<float>(-adv * ratio * inv) : 0.0f;
    g_ent_[k] = static_cast<float>(-c.ent_coef * inv);
    s.policy_loss += std::max(l1, l2) * inv;
    s.entropy += ent_[k] * inv;
    s.approx_kl += ((ratio - 1) - log_ratio) * inv;
    s.clip_fraction += (std::abs(ratio - 1) > c.clip_coef ? 1.0 : 0.0) * inv;
    const double vv = v[k], ret = mb.returns[k], old = mb.old_values[k];
    double dv;
    if (c.clip_value_loss) {
      const double diff = vv - old;
      const double v_clip = old + std::clamp(diff, -c.clip_coef, c.clip_coef);
      const double lu = (vv - ret) * (vv - ret), lc = (v_clip - ret) * (v_clip - ret);
      s.value_loss += 0.5 * std::max(lu, lc) * inv;
      if (lu >= lc) {
        dv = vv - ret;
      } else {
        dv = std::abs(diff) <= c.clip_coef ? v_clip - ret : 0.0;
      }
    } else {
      s.value_loss += 0.5 * (vv - ret) * (vv - ret) * inv;
      dv = vv - ret;
    }
    grad_value_[k] = static_cast<float>(c.vf_coef * dv * inv);
  }
  if (stats != nullptr) *stats = s;
  if (grad != nullptr) {
    grad->assign(model_.num_parameters(), 0.0f);
    float* g_actor = grad->data();
    float* g_critic = g_actor + model_.actor().num_params();
    float* g_log_std = g_critic + model_.critic().num_params();
    model_.HeadBackward(head.data(), n, mb.actions.data(), g_lp_.data(), g_ent_.data(),
                        grad_head_.data(), g_log_std);
    model_.actor().Backward(actor_cache_.get(), grad_head_.data(), g_actor);
    model_.critic().Backward(critic_cache_.get(), grad_value_.data(), g_critic);
  }
  return s.policy_loss + c.vf_coef * s.value_loss - c.ent_coef * s.entropy;
}

absl::Status PpoLearner::Update(const Rollout& r, PpoUpdateInfo* info) {
  const int64_t obs_dim = model_.obs_dim(), width = model_.action_width();
  if (absl::Status s = r.Validate(obs_dim, width); !s.ok()) return s;
  const int64_t n = r.num_unrolls, t_len = r.length, m = n * t_len;
  const PpoConfig& c = config_;
  *info = PpoUpdateInfo();

  // Values the advantages need: V(next observation) per unroll, V(final
  // observation) at truncations, and under V-trace the learner's own V(s_t)
  // and log pi(a_t | s_t).
  std::vector<float> bootstrap(n);
  model_.Values(r.next_observations.data(), n, critic_cache_.get(), bootstrap.data());
  const std::vector<float>* values = &r.values;
  if (c.vtrace) {
    targets_values_.resize(m);
    model_.Values(r.observations.data(), m, critic_cache_.get(), targets_values_.data());
    values = &targets_values_;
    absl::Span<const float> head = model_.actor().Forward(r.observations.data(), m, actor_cache_.get());
    lp_.resize(m);
    ent_.resize(m);
    model_.LogProbEntropy(head.data(), m, r.actions.data(), lp_.data(), ent_.data());
    log_rhos_.resize(m);
    for (int64_t i = 0; i < m; ++i) log_rhos_[i] = lp_[i] - r.log_probs[i];
  }
  next_values_.resize(m);
  std::vector<float> final_value(1);
  for (int64_t u = 0; u < n; ++u) {
    for (int64_t t = 0; t < t_len; ++t) {
      const int64_t i = u * t_len + t;
      if (r.truncated[i]) {
        if (c.bootstrap_on_truncation) {
          model_.Values(&r.final_observations[i * obs_dim], 1, critic_cache_.get(),
                        final_value.data());
          next_values_[i] = final_value[0];
        } else {
          next_values_[i] = 0.0f;  // the return ends here, like a termination
        }
      } else if (t + 1 < t_len) {
        next_values_[i] = (*values)[i + 1];
      } else {
        next_values_[i] = bootstrap[u];
      }
    }
  }
  advantages_.resize(m);
  returns_.resize(m);
  for (int64_t u = 0; u < n; ++u) {
    const int64_t at = u * t_len;
    UnrollView view{absl::MakeConstSpan(&r.rewards[at], t_len),
                    absl::MakeConstSpan(&(*values)[at], t_len),
                    absl::MakeConstSpan(&next_values_[at], t_len),
                    absl::MakeConstSpan(&r.terminated[at], t_len),
                    absl::MakeConstSpan(&r.truncated[at], t_len)};
    if (c.vtrace) {
      VTraceOptions o;
      o.gamma = c.gamma;
      ComputeVTrace(view, absl::MakeConstSpan(&log_rhos_[at], t_len), o,
                    absl::MakeSpan(&returns_[at], t_len), absl::MakeSpan(&advantages_[at], t_len));
    } else {
      ComputeGae(view, c.gamma, c.gae_lambda, absl::MakeSpan(&advantages_[at], t_len),
                 absl::MakeSpan(&returns_[at], t_len));
    }
  }

  // Learning rate: linear annealing over the job's env steps (CleanRL:
  // frac = 1 - (iteration - 1) / num_iterations).
  double lr = c.learning_rate;
  if (c.anneal_lr && c.total_env_steps > 0) {
    const double frac = 1.0 - static_cast<double>(env_steps_) / c.total_env_steps;
    lr = c.learning_rate * std::max(frac, 0.0);
  }
  info->learning_rate = lr;
  env_steps_ += m;
  if (trace_ != nullptr) {
    *trace_ = PpoUpdateTrace();
    trace_->learning_rate = lr;
    trace_->advantages = advantages_;
    trace_->returns = returns_;
    trace_->adam_m = adam_.m;
    trace_->adam_v = adam_.v;
    trace_->adam_steps = adam_steps_;
  }

  const int64_t minibatches = std::max<int64_t>(1, std::min<int64_t>(c.num_minibatches, m));
  const int64_t mb_size = m / minibatches;
  order_.resize(m);
  std::iota(order_.begin(), order_.end(), 0);
  mb_.Resize(mb_size, obs_dim, width);
  const float* old_values = values->data();
  int64_t passes = 0;
  MinibatchStats sum, stats;
  for (int epoch = 0; epoch < c.update_epochs; ++epoch) {
    std::shuffle(order_.begin(), order_.end(), rng_);
    if (trace_ != nullptr) trace_->orders.insert(trace_->orders.end(), order_.begin(), order_.end());
    for (int64_t mb = 0; mb < minibatches; ++mb) {
      for (int64_t k = 0; k < mb_size; ++k) {
        const int64_t i = order_[mb * mb_size + k];
        std::copy_n(&r.observations[i * obs_dim], obs_dim, &mb_.observations[k * obs_dim]);
        std::copy_n(&r.actions[i * width], width, &mb_.actions[k * width]);
        mb_.advantages[k] = advantages_[i];
        mb_.returns[k] = returns_[i];
        mb_.old_log_probs[k] = r.log_probs[i];
        mb_.old_values[k] = old_values[i];
      }
      if (c.normalize_advantages && mb_size > 1) {
        double mean = 0, var = 0;
        for (float a : mb_.advantages) mean += a;
        mean /= mb_size;
        for (float a : mb_.advantages) var += (a - mean) * (a - mean);
        const double std = std::sqrt(var / (mb_size - 1));  // torch.std: unbiased
        for (float& a : mb_.advantages) a = static_cast<float>((a - mean) / (std + 1e-8));
      }
      MinibatchLoss(mb_, &grad_, &stats);
      sum.policy_loss += stats.policy_loss;
      sum.value_loss += stats.value_loss;
      sum.entropy += stats.entropy;
      sum.approx_kl += stats.approx_kl;
      sum.clip_fraction += stats.clip_fraction;
      double norm = 0;
      for (float g : grad_) norm += double{g} * g;
      norm = std::sqrt(norm);
      info->grad_norm = norm;
      if (trace_ != nullptr) {
        trace_->minibatches.push_back(stats);
        trace_->grad_norms.push_back(norm);
      }
      if (norm > c.max_grad_norm) {
        const float scale = static_cast<float>(c.max_grad_norm / (norm + 1e-6));
        for (float& g : grad_) g *= scale;
      }
      AdamStep(lr);
      ++passes;
    }
  }
  const double pg_sum = sum.policy_loss, v_sum = sum.value_loss, ent_sum = sum.entropy,
               kl_sum = sum.approx_kl, clip_sum = sum.clip_fraction;
  info->policy_loss = pg_sum / passes;
  info->value_loss = v_sum / passes;
  info->entropy = ent_sum / passes;
  info->approx_kl = kl_sum / passes;
  info->clip_fraction = clip_sum / passes;
  double ret_mean = 0, ret_var = 0, res_var = 0;
  for (int64_t i = 0; i < m; ++i) ret_mean += returns_[i];
  ret_mean /= m;
  for (int64_t i = 0; i < m; ++i) {
    ret_var += (returns_[i] - ret_mean) * (returns_[i] - ret_mean);
    const double res = returns_[i] - old_values[i];
    res_var += res * res;
  }
  info->explained_variance = ret_var > 0 ? 1.0 - res_var / ret_var : 0.0;
  ++updates_;
  return absl::OkStatus();
}

void PpoLearner::SaveState(StateDict* dict) const {
  AddFloats(dict, "learner/ppo/parameters", model_.GetParameters());
  AddFloats(dict, "learner/ppo/adam_m", adam_.m);
  AddFloats(dict, "learner/ppo/adam_v", adam_.v);
  AddInt64s(dict, "learner/ppo/counters", {updates_, env_steps_, adam_steps_});
  std::ostringstream rng;
  rng << rng_;
  AddBytes(dict, "learner/ppo/rng", rng.str());
}

absl::Status PpoLearner::RestoreState(const StateDict& dict) {
  const int64_t n = model_.num_parameters();
  std::vector<float> parameters, m, v;
  std::vector<int64_t> counters;
  std::string rng_text;
  for (const absl::Status& s : {GetFloats(dict, "learner/ppo/parameters", n, &parameters),
                                GetFloats(dict, "learner/ppo/adam_m", n, &m),
                                GetFloats(dict, "learner/ppo/adam_v", n, &v),
                                GetInt64s(dict, "learner/ppo/counters", 3, &counters),
                                GetBytes(dict, "learner/ppo/rng", &rng_text)}) {
    if (!s.ok()) return s;
  }
  std::mt19937_64 rng;
  std::istringstream in(rng_text);
  in >> rng;
  if (!in) return absl::InvalidArgumentError("learner/ppo/rng: not a generator state");
  if (absl::Status s = model_.SetParameters(parameters); !s.ok()) return s;
  adam_.m = std::move(m);
  adam_.v = std::move(v);
  updates_ = counters[0];
  env_steps_ = counters[1];
  adam_steps_ = counters[2];
  rng_ = rng;
  return absl::OkStatus();
}

}  // namespace rlx::ppo
