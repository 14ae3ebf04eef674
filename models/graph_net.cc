#include "models/graph_net.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace rlx {
namespace {

DenseMlpSpec MessageSpec(const GraphNetSpec& s) {
  return {s.edge_dim + s.ego_dim, s.message_hidden, s.message_dim};
}
DenseMlpSpec GateSpec(const GraphNetSpec& s) { return {s.message_dim, {}, s.heads}; }
DenseMlpSpec UpdateSpec(const GraphNetSpec& s) {
  return {s.ego_dim + s.aggregate_dim(), s.update_hidden, s.output_dim};
}

}  // namespace

absl::Status ValidateGraphNetSpec(const GraphNetSpec& s) {
  if (s.ego_dim < 1 || s.edge_dim < 1 || s.max_edges < 0 || s.message_dim < 1 ||
      s.output_dim < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GraphNet: ego_dim, edge_dim, message_dim and output_dim must be >= 1 and max_edges >= 0, "
        "got ",
        s.ego_dim, ", ", s.edge_dim, ", ", s.message_dim, ", ", s.output_dim, ", ", s.max_edges));
  }
  if (s.typed_heads && s.heads % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("GraphNet: typed heads need an even number of heads, got ", s.heads));
  }
  if (s.edge_dim < 1 && s.typed_heads) {
    return absl::InvalidArgumentError("GraphNet: typed heads need edge_dim >= 1");
  }
  if (s.heads < 1 || s.message_dim % s.heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GraphNet: heads must be >= 1 and divide message_dim (", s.message_dim, "), got ", s.heads));
  }
  for (const DenseMlpSpec& m : {MessageSpec(s), UpdateSpec(s)}) {
    if (absl::Status st = ValidateDenseMlpSpec(m); !st.ok()) return st;
  }
  return absl::OkStatus();
}

int64_t GraphNetNumParameters(const GraphNetSpec& s) {
  return DenseMlpNumParameters(MessageSpec(s)) + DenseMlpNumParameters(GateSpec(s)) +
         DenseMlpNumParameters(UpdateSpec(s));
}

GraphNet::GraphNet(GraphNetSpec spec)
    : spec_(std::move(spec)),
      message_(MessageSpec(spec_)),
      gate_(GateSpec(spec_)),
      update_(UpdateSpec(spec_)) {}

int64_t GraphNet::num_params() const {
  return message_.num_params() + gate_.num_params() + update_.num_params();
}

std::vector<absl::Span<float>> GraphNet::parameter_blocks() {
  return {message_.params(), gate_.params(), update_.params()};
}

std::vector<absl::Span<const float>> GraphNet::parameter_blocks() const {
  return {message_.params(), gate_.params(), update_.params()};
}

void GraphNet::Initialize(double hidden_gain, double output_gain, uint64_t seed) {
  message_.OrthogonalInitialize(hidden_gain, 1.0, seed * 3 + 1);
  gate_.OrthogonalInitialize(1.0, 1.0, seed * 3 + 2);
  update_.OrthogonalInitialize(hidden_gain, output_gain, seed * 3 + 3);
}

absl::Span<const float> GraphNet::Forward(const float* x, int64_t batch, BatchCache* base) const {
  GraphNetCache* c = static_cast<GraphNetCache*>(base);
  const int64_t ego = spec_.ego_dim, ed = spec_.edge_dim, sw = 1 + ed, in_w = input_dim();
  const int64_t msg_in = ed + ego, h = spec_.message_dim, uw = ego + spec_.aggregate_dim();
  const int64_t nh = spec_.heads, hd = h / nh;
  c->batch = batch;
  c->offsets.resize(batch + 1);
  c->offsets[0] = 0;
  c->edge_in.clear();
  // Gather the valid slots: [edge features, receiver's ego features].
  for (int64_t i = 0; i < batch; ++i) {
    const float* row = x + i * in_w;
    const float* slots = row + ego;
    for (int64_t k = 0; k < spec_.max_edges; ++k) {
      const float* slot = slots + k * sw;
      if (slot[0] > 0.5f) {
        c->edge_in.insert(c->edge_in.end(), slot + 1, slot + sw);
        c->edge_in.insert(c->edge_in.end(), row, row + ego);
      }
    }
    c->offsets[i + 1] = static_cast<int64_t>(c->edge_in.size()) / msg_in;
  }
  const int64_t edges = c->offsets[batch];
  c->update_in.assign(batch * uw, 0.0f);
  for (int64_t i = 0; i < batch; ++i) std::memcpy(&c->update_in[i * uw], x + i * in_w, ego * sizeof(float));
  c->alpha.assign(edges * nh, 0.0f);
  // Which heads an edge takes part in: all of them, or (typed_heads) those of its type.
  c->group.resize(edges);
  for (int64_t k = 0; k < edges; ++k) c->group[k] = c->edge_in[k * msg_in] > 0.5f ? 0 : 1;
  const bool typed = spec_.typed_heads;
  if (spec_.max_pool) c->argmax.assign(batch * h, -1);
  if (edges > 0) {
    absl::Span<const float> msg = message_.Forward(c->edge_in.data(), edges, &c->message);
    absl::Span<const float> gate = gate_.Forward(msg.data(), edges, &c->gate);
    for (int64_t i = 0; i < batch; ++i) {
      const int64_t b = c->offsets[i], e = c->offsets[i + 1];
      if (b == e) continue;
      float* agg = &c->update_in[i * uw + ego];
      // Head t weighs message components [t hd, (t + 1) hd).
      for (int64_t t = 0; t < nh; ++t) {
        const uint8_t head_group = static_cast<uint8_t>(2 * t / nh);
        auto in_head = [&](int64_t k) { return !typed || c->group[k] == head_group; };
        float gmax = -std::numeric_limits<float>::infinity();
        for (int64_t k = b; k < e; ++k) {
          if (in_head(k)) gmax = std::max(gmax, gate[k * nh + t]);
        }
        if (gmax == -std::numeric_limits<float>::infinity()) continue;  // no slot of this type
        double sum = 0;
        for (int64_t k = b; k < e; ++k) {
          if (in_head(k)) sum += std::exp(double{gate[k * nh + t]} - gmax);
        }
        for (int64_t k = b; k < e; ++k) {
          if (!in_head(k)) continue;
          const float a = static_cast<float>(std::exp(double{gate[k * nh + t]} - gmax) / sum);
          c->alpha[k * nh + t] = a;
          const float* m = &msg[k * h + t * hd];
          for (int64_t d = 0; d < hd; ++d) agg[t * hd + d] += a * m[d];
        }
      }
      if (!spec_.max_pool) continue;
      float* pool = agg + h;
      int32_t* arg = &c->argmax[i * h];
      for (int64_t d = 0; d < h; ++d) {
        pool[d] = msg[b * h + d];
        arg[d] = static_cast<int32_t>(b);
      }
      for (int64_t k = b + 1; k < e; ++k) {
        const float* m = &msg[k * h];
        for (int64_t d = 0; d < h; ++d) {
          if (m[d] > pool[d]) {
            pool[d] = m[d];
            arg[d] = static_cast<int32_t>(k);
          }
        }
      }
    }
  }
  return update_.Forward(c->update_in.data(), batch, &c->update);
}

void GraphNet::Backward(BatchCache* base, const float* grad_output, float* grad_params) const {
  GraphNetCache* c = static_cast<GraphNetCache*>(base);
  const int64_t ego = spec_.ego_dim, h = spec_.message_dim, batch = c->batch;
  const int64_t uw = ego + spec_.aggregate_dim(), nh = spec_.heads, hd = h / nh;
  float* g_message = grad_params;
  float* g_gate = g_message + message_.num_params();
  float* g_update = g_gate + gate_.num_params();
  c->grad_update_in.resize(batch * uw);
  update_.Backward(&c->update, grad_output, g_update, c->grad_update_in.data());
  const int64_t edges = c->offsets[batch];
  if (edges == 0) return;
  const std::vector<float>& msg = c->message.outputs.back();
  c->grad_messages.assign(edges * h, 0.0f);
  c->grad_gate.resize(edges * nh);
  for (int64_t i = 0; i < batch; ++i) {
    const int64_t b = c->offsets[i], e = c->offsets[i + 1];
    if (b == e) continue;
    const float* d_agg = &c->grad_update_in[i * uw + ego];
    for (int64_t t = 0; t < nh; ++t) {
      // d alpha_k = m_k . d_agg (the head's components); softmax:
      // d g_k = alpha_k (d alpha_k - sum_j alpha_j d alpha_j).
      double weighted = 0;
      for (int64_t k = b; k < e; ++k) {
        const float* m = &msg[k * h + t * hd];
        float* dm = &c->grad_messages[k * h + t * hd];
        const float a = c->alpha[k * nh + t];
        double dot = 0;
        for (int64_t d = 0; d < hd; ++d) {
          dot += double{m[d]} * d_agg[t * hd + d];
          dm[d] = a * d_agg[t * hd + d];
        }
        c->grad_gate[k * nh + t] = static_cast<float>(dot);
        weighted += a * dot;
      }
      for (int64_t k = b; k < e; ++k) {
        float& g = c->grad_gate[k * nh + t];
        g = static_cast<float>(c->alpha[k * nh + t] * (g - weighted));
      }
    }
    if (!spec_.max_pool) continue;
    const float* d_pool = d_agg + h;
    const int32_t* arg = &c->argmax[i * h];
    for (int64_t d = 0; d < h; ++d) c->grad_messages[arg[d] * h + d] += d_pool[d];
  }
  c->grad_from_gate.resize(edges * h);
  gate_.Backward(&c->gate, c->grad_gate.data(), g_gate, c->grad_from_gate.data());
  for (int64_t k = 0; k < edges * h; ++k) c->grad_messages[k] += c->grad_from_gate[k];
  message_.Backward(&c->message, c->grad_messages.data(), g_message);
}

void GetBatchFunctionParameters(const BatchFunction& f, std::vector<float>* out) {
  out->clear();
  out->reserve(f.num_params());
  for (absl::Span<const float> block : f.parameter_blocks()) {
    out->insert(out->end(), block.begin(), block.end());
  }
}

void SetBatchFunctionParameters(BatchFunction* f, const float* flat) {
  for (absl::Span<float> block : f->parameter_blocks()) {
    std::copy(flat, flat + block.size(), block.begin());
    flat += block.size();
  }
}

}  // namespace rlx
