// The multi-agent environment interface, beside Env (envs/env.h): N agents
// share one world and step together. Each agent has its own observation,
// action, reward and done flags; the env also exposes who senses whom (the
// neighbour graph) for graph policies and for inspection.
//
// Graph observations. An agent's observation is a flat float vector laid out
// as GraphLayout says: its own ("ego") features, then max_edges edge slots of
// [valid (1 or 0), edge_dim features]. A slot with valid 0 is padding and all
// zero. Graph networks (models/graph_net.h) read only the valid slots, in any
// order and any number of them; a flat MLP reads the vector as it is.
//
// Episodes: Reset starts one for every agent. Step takes all agents' actions
// (num_agents x action flat size, agent-major) and returns per-agent results;
// the episode ends when done() (every agent terminated or truncated), after
// which the caller must Reset (Step returns FAILED_PRECONDITION otherwise).
// Actions are validated like Env's: a wrong count, a non-finite value or a
// value outside the action box is INVALID_ARGUMENT naming the agent, and
// nothing changes.
//
// Not thread-safe; one owner.
#ifndef RLX_ENVS_MULTI_AGENT_ENV_H_
#define RLX_ENVS_MULTI_AGENT_ENV_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "envs/env.h"

namespace rlx {

// How a flat per-agent observation holds a local graph (see above).
struct GraphLayout {
  int64_t ego_dim = 0;
  int64_t edge_dim = 0;
  int64_t max_edges = 0;
  int64_t slot_width() const { return 1 + edge_dim; }
  int64_t width() const { return ego_dim + max_edges * slot_width(); }
  bool empty() const { return ego_dim == 0 && max_edges == 0; }
};

struct MultiAgentSpec {
  std::string name;
  int num_agents = 0;
  Space observation_space;  // per agent: a Box of graph_layout.width() floats
  Space action_space;       // per agent
  GraphLayout graph_layout;
  int max_episode_steps = 0;
};

// Agents i and j are neighbours when j is in i's sensing range: j is listed
// in neighbors[offsets[i], offsets[i + 1]). Compressed rows, num_agents + 1
// offsets.
struct NeighbourGraph {
  std::vector<int32_t> offsets;
  std::vector<int32_t> neighbors;
  int64_t degree(int i) const { return offsets[i + 1] - offsets[i]; }
};

struct MultiAgentStepResult {
  std::vector<float> observations;  // num_agents x observation width
  std::vector<float> rewards;       // num_agents
  std::vector<uint8_t> terminated;  // num_agents
  std::vector<uint8_t> truncated;   // num_agents
  // Every agent's episode is over.
  bool done() const;
};

class MultiAgentEnv {
 public:
  virtual ~MultiAgentEnv() = default;
  virtual const MultiAgentSpec& spec() const = 0;
  // Starts an episode; with a seed the env's generator is re-seeded. Writes
  // num_agents x width observations into *observations (resized).
  virtual void Reset(std::optional<uint64_t> seed, std::vector<float>* observations) = 0;
  virtual absl::Status Step(absl::Span<const float> actions, MultiAgentStepResult* result) = 0;
  // The neighbour graph of the current state (after Reset or the last Step).
  virtual const NeighbourGraph& graph() const = 0;
};

// Checks num_agents actions against the per-agent action space.
absl::Status ValidateMultiAgentActions(const MultiAgentSpec& spec,
                                       absl::Span<const float> actions);

}  // namespace rlx

#endif  // RLX_ENVS_MULTI_AGENT_ENV_H_
