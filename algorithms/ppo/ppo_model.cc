#include "algorithms/ppo/ppo_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "models/backends.h"
#include "models/dense_mlp.h"
#include "models/graph_net.h"

namespace rlx::ppo {
namespace {

constexpr double kHalfLog2Pi = 0.91893853320467274178;  // 0.5 * log(2 pi)

std::unique_ptr<BatchFunction> MakeNetwork(const ProblemSpec& p, const PpoConfig& c,
                                           int64_t outputs) {
  if (c.graph_network()) {
    GraphNetSpec s;
    s.max_pool = c.network == "gnn_max";
    s.typed_heads = c.network == "gnn_typed";
    s.heads = c.gnn_heads;
    s.ego_dim = p.graph.ego_dim;
    s.edge_dim = p.graph.edge_dim;
    s.max_edges = p.graph.max_edges;
    s.message_hidden.assign(c.hidden.begin(), c.hidden.end() - 1);
    s.message_dim = c.hidden.back();
    s.update_hidden = c.hidden;
    s.output_dim = outputs;
    return std::make_unique<GraphNet>(s);
  }
  return std::make_unique<DenseMlp>(DenseMlpSpec{p.observation_dim, c.hidden, outputs});
}

// log-softmax of n logits into out (doubles); returns the entropy.
double LogSoftmax(const float* z, int64_t n, double* out) {
  const float zmax = *std::max_element(z, z + n);
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) sum += std::exp(double{z[j]} - zmax);
  const double lse = zmax + std::log(sum);
  double h = 0;
  for (int64_t j = 0; j < n; ++j) {
    out[j] = z[j] - lse;
    h -= std::exp(out[j]) * out[j];
  }
  return h;
}

}  // namespace

PpoModel::PpoModel(const ProblemSpec& problem, const PpoConfig& config, uint64_t seed)
    : PpoModel(problem, config, seed,
               MakeNetwork(problem, config, problem.discrete ? problem.num_actions : problem.action_dim),
               MakeNetwork(problem, config, 1)) {}

PpoModel::PpoModel(const ProblemSpec& problem, const PpoConfig& config, uint64_t seed,
                   std::unique_ptr<BatchFunction> actor, std::unique_ptr<BatchFunction> critic)
    : problem_(problem), actor_(std::move(actor)), critic_(std::move(critic)) {
  actor_->Initialize(std::sqrt(2.0), 0.01, seed * 2 + 1);
  critic_->Initialize(std::sqrt(2.0), 1.0, seed * 2 + 2);
  if (!problem.discrete) log_std_.assign(problem.action_dim, static_cast<float>(config.init_log_std));
}

int64_t PpoModel::num_parameters() const {
  return actor_->num_params() + critic_->num_params() + static_cast<int64_t>(log_std_.size());
}

std::vector<float> PpoModel::GetParameters() const {
  std::vector<float> flat, part;
  flat.reserve(num_parameters());
  for (const BatchFunction* f : {actor_.get(), critic_.get()}) {
    GetBatchFunctionParameters(*f, &part);
    flat.insert(flat.end(), part.begin(), part.end());
  }
  flat.insert(flat.end(), log_std_.begin(), log_std_.end());
  return flat;
}

absl::Status PpoModel::SetParameters(absl::Span<const float> flat) {
  if (static_cast<int64_t>(flat.size()) != num_parameters()) {
    return absl::InvalidArgumentError(absl::StrCat("PPO parameters: expected ", num_parameters(),
                                                   " floats, got ", flat.size()));
  }
  const float* p = flat.data();
  SetBatchFunctionParameters(actor_.get(), p);
  p += actor_->num_params();
  SetBatchFunctionParameters(critic_.get(), p);
  p += critic_->num_params();
  std::copy(p, p + log_std_.size(), log_std_.begin());
  return absl::OkStatus();
}

void PpoModel::Values(const float* observations, int64_t batch, BatchCache* cache,
                      float* values) const {
  absl::Span<const float> v = critic_->Forward(observations, batch, cache);
  std::copy(v.begin(), v.end(), values);
}

void PpoModel::Act(const float* observations, int64_t batch, bool greedy, std::mt19937_64* rng,
                   ActScratch* scratch, ActOutput* out) const {
  const int64_t width = action_width(), heads = head_width();
  out->actions.resize(batch * width);
  out->env_actions.resize(batch * width);
  out->log_probs.resize(batch);
  out->values.resize(batch);
  if (scratch->actor == nullptr) scratch->actor = actor_->NewCache();
  if (scratch->critic == nullptr) scratch->critic = critic_->NewCache();
  absl::Span<const float> head = actor_->Forward(observations, batch, scratch->actor.get());
  Values(observations, batch, scratch->critic.get(), out->values.data());
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::normal_distribution<double> normal;
  for (int64_t b = 0; b < batch; ++b) {
    const float* z = &head[b * heads];
    if (problem_.discrete) {
      const float zmax = *std::max_element(z, z + heads);
      double sum = 0;
      for (int64_t j = 0; j < heads; ++j) sum += std::exp(double{z[j]} - zmax);
      const double lse = zmax + std::log(sum);
      int64_t a = 0;
      if (greedy) {
        a = std::max_element(z, z + heads) - z;
      } else {
        double u = uniform(*rng) * sum, acc = 0;
        for (a = 0; a < heads - 1; ++a) {
          acc += std::exp(double{z[a]} - zmax);
          if (u < acc) break;
        }
      }
      out->actions[b] = out->env_actions[b] = static_cast<float>(a);
      out->log_probs[b] = static_cast<float>(z[a] - lse);
    } else {
      double lp = 0;
      for (int64_t i = 0; i < width; ++i) {
        const double sigma = std::exp(double{log_std_[i]});
        const double eps = greedy ? 0.0 : normal(*rng);
        const double a = z[i] + sigma * eps;
        lp += -0.5 * eps * eps - log_std_[i] - kHalfLog2Pi;
        out->actions[b * width + i] = static_cast<float>(a);
        out->env_actions[b * width + i] = static_cast<float>(
            std::clamp(a, double{problem_.action_low[i]}, double{problem_.action_high[i]}));
      }
      out->log_probs[b] = static_cast<float>(lp);
    }
  }
}

void PpoModel::LogProbEntropy(const float* head, int64_t batch, const float* actions,
                              float* log_probs, float* entropies) const {
  const int64_t heads = head_width();
  if (problem_.discrete) {
    std::vector<double> lp(heads);
    for (int64_t b = 0; b < batch; ++b) {
      const double h = LogSoftmax(&head[b * heads], heads, lp.data());
      log_probs[b] = static_cast<float>(lp[static_cast<int64_t>(actions[b])]);
      entropies[b] = static_cast<float>(h);
    }
    return;
  }
  double h = 0;
  for (float s : log_std_) h += s + 0.5 + kHalfLog2Pi;
  for (int64_t b = 0; b < batch; ++b) {
    double lp = 0;
    for (int64_t i = 0; i < heads; ++i) {
      const double sigma = std::exp(double{log_std_[i]});
      const double d = (actions[b * heads + i] - head[b * heads + i]) / sigma;
      lp += -0.5 * d * d - log_std_[i] - kHalfLog2Pi;
    }
    log_probs[b] = static_cast<float>(lp);
    entropies[b] = static_cast<float>(h);
  }
}

void PpoModel::HeadBackward(const float* head, int64_t batch, const float* actions,
                            const float* g_log_prob, const float* g_entropy, float* grad_head,
                            float* grad_log_std) const {
  const int64_t heads = head_width();
  if (problem_.discrete) {
    std::vector<double> lp(heads);
    for (int64_t b = 0; b < batch; ++b) {
      const double h = LogSoftmax(&head[b * heads], heads, lp.data());
      const int64_t a = static_cast<int64_t>(actions[b]);
      for (int64_t j = 0; j < heads; ++j) {
        const double p = std::exp(lp[j]);
        // d log p_a / dz_j = [j == a] - p_j;  d H / dz_j = -p_j (log p_j + H)
        const double dlp = (j == a ? 1.0 : 0.0) - p;
        const double dh = -p * (lp[j] + h);
        grad_head[b * heads + j] = static_cast<float>(g_log_prob[b] * dlp + g_entropy[b] * dh);
      }
    }
    return;
  }
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < heads; ++i) {
      const double var = std::exp(2.0 * log_std_[i]);
      const double diff = actions[b * heads + i] - head[b * heads + i];
      // d log p / d mean = diff / var;  d log p / d log_std = diff^2 / var - 1;
      // d H / d log_std = 1.
      grad_head[b * heads + i] = static_cast<float>(g_log_prob[b] * diff / var);
      grad_log_std[i] += static_cast<float>(g_log_prob[b] * (diff * diff / var - 1.0) +
                                            g_entropy[b]);
    }
  }
}

absl::Status MakeLearnerNetworks(const ProblemSpec& problem, const PpoConfig& config,
                                 std::unique_ptr<BatchFunction>* actor,
                                 std::unique_ptr<BatchFunction>* critic) {
  const int64_t head = problem.discrete ? problem.num_actions : problem.action_dim;
  if (!config.learner_on_libtorch()) {
    *actor = MakeNetwork(problem, config, head);
    *critic = MakeNetwork(problem, config, 1);
    return absl::OkStatus();
  }
  if (config.network != "mlp") {
    return absl::InvalidArgumentError(
        absl::StrCat("ppo: network \"", config.network, "\" has no LibTorch form"));
  }
  ASSIGN_OR_RETURN(*actor, MakeTorchBatchMlp(DenseMlpSpec{problem.observation_dim, config.hidden, head},
                                             config.device));
  ASSIGN_OR_RETURN(*critic, MakeTorchBatchMlp(DenseMlpSpec{problem.observation_dim, config.hidden, 1},
                                              config.device));
  return absl::OkStatus();
}

}  // namespace rlx::ppo
