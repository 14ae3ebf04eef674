// GraphNet: a one-hop graph attention network over each row's local graph,
// on DenseMlp blocks (no LibTorch), with a hand-written backward pass.
// The policy and value networks of the swarm controllers (GCBF+'s GNN
// shape; docs/algorithms.md, "Graph policies").
//
// Input row (GraphLayout in envs/multi_agent_env.h): the receiver's ego
// features (ego_dim), then max_edges slots of [valid, edge features
// (edge_dim)]. For every valid slot j of row i:
//   message m_ij = MLP_msg([e_ij, x_i])                (message_dim)
//   gate    g_ij = W m_ij + b                          (a linear layer, `heads` outputs)
//   a_ij    = softmax of g_i. over row i's valid slots (per head)
//   h_i     = sum_j a_ij m_ij                          (0 with no valid slot;
//             head t weighs components [t, t + 1) x message_dim / heads)
//   p_i     = max_j m_ij, per component                (max_pool only; 0 with
//                                                       no valid slot)
//   output  = MLP_update([x_i, h_i (, p_i)])           (output_dim)
// The attention average is blind to how many neighbours there are and how
// extreme the nearest one is; the max-pool channel keeps the per-feature
// extreme (the most crowded direction, the nearest hit), still independent
// of the slot order and of the number of slots.
// The same weights serve every row, so the output is invariant to the order
// of a row's slots, rows are independent (permuting agents permutes the
// outputs), and any number of valid slots up to max_edges works: the
// messages are computed for valid slots only, so cost follows the real
// neighbour count. max_edges fixes only the input width; the parameters do
// not depend on it (GraphNetNumParameters), so a policy trained with one
// layout runs with a wider one.
//
// Parameters: blocks [message MLP, gate, update MLP].
// Thread-safety: as BatchFunction.
#ifndef RLX_MODELS_GRAPH_NET_H_
#define RLX_MODELS_GRAPH_NET_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "models/batch_function.h"
#include "models/dense_mlp.h"

namespace rlx {

struct GraphNetSpec {
  int64_t ego_dim = 0;
  int64_t edge_dim = 0;
  int64_t max_edges = 0;
  std::vector<int64_t> message_hidden = {64};
  int64_t message_dim = 64;
  std::vector<int64_t> update_hidden = {64};
  int64_t output_dim = 0;
  int64_t heads = 1;      // attention heads; must divide message_dim
  bool max_pool = false;  // add the max-pool channel p_i to the update's input
  // Heads by node type: heads [0, heads / 2) attend over the slots whose
  // first edge feature is set (other agents), heads [heads / 2, heads) over
  // the rest (LiDAR hits), each softmax over its own type only (0 where a row
  // has none), so obstacle points and agents do not compete for one
  // average. heads must be even.
  bool typed_heads = false;
  int64_t aggregate_dim() const { return max_pool ? 2 * message_dim : message_dim; }
  int64_t input_dim() const { return ego_dim + max_edges * (1 + edge_dim); }
};

absl::Status ValidateGraphNetSpec(const GraphNetSpec& spec);
int64_t GraphNetNumParameters(const GraphNetSpec& spec);

struct GraphNetCache : BatchCache {
  int64_t batch = 0;
  std::vector<int64_t> offsets;   // batch + 1: row i's edges are [offsets[i], offsets[i+1])
  std::vector<float> edge_in;     // E x (edge_dim + ego_dim)
  std::vector<float> alpha;       // E x heads
  std::vector<uint8_t> group;     // E (typed_heads): 0 agent slot, 1 other
  std::vector<int32_t> argmax;    // batch x message_dim (max_pool): the winning edge, -1 if none
  std::vector<float> update_in;   // batch x (ego_dim + aggregate_dim)
  std::vector<float> grad_update_in, grad_messages, grad_gate, grad_from_gate;
  DenseMlpCache message, gate, update;
};

class GraphNet : public BatchFunction {
 public:
  explicit GraphNet(GraphNetSpec spec);

  const GraphNetSpec& spec() const { return spec_; }
  int64_t input_dim() const override { return spec_.input_dim(); }
  int64_t output_dim() const override { return spec_.output_dim; }
  int64_t num_params() const override;
  std::vector<absl::Span<float>> parameter_blocks() override;
  std::vector<absl::Span<const float>> parameter_blocks() const override;
  void Initialize(double hidden_gain, double output_gain, uint64_t seed) override;
  std::unique_ptr<BatchCache> NewCache() const override {
    return std::make_unique<GraphNetCache>();
  }
  absl::Span<const float> Forward(const float* x, int64_t batch, BatchCache* cache) const override;
  void Backward(BatchCache* cache, const float* grad_output, float* grad_params) const override;

 private:
  GraphNetSpec spec_;
  DenseMlp message_, gate_, update_;
};

}  // namespace rlx

#endif  // RLX_MODELS_GRAPH_NET_H_
