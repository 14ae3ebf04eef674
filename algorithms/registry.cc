#include "algorithms/registry.h"

#include "absl/strings/str_cat.h"
#include "algorithms/algorithm_spec.h"
#include "algorithms/ppo/runtime.h"
#include "algorithms/spo/runtime.h"
#include "algorithms/stream_x/runtime.h"
#include "algorithms/swarm/runtime.h"
#include "envs/multi_agent_registry.h"

namespace rlx {
namespace {

// PPO and APPO act in single-agent envs (ppo/) or multi-agent ones (swarm/);
// the learner and the greedy policy are the same.
absl::StatusOr<std::unique_ptr<ActorWorker>> MakePpoWorker(const JobSpec& spec,
                                                           const WorkerOptions& options) {
  if (IsMultiAgentEnv(spec.env())) return swarm::MakeWorker(spec, options);
  return ppo::MakeWorker(spec, options);
}

// The running side of every algorithm in algorithms/algorithm_spec.cc's
// table. Adding an algorithm: a line here and one there.
constexpr AlgorithmRuntime kRuntimes[] = {
    {"stream_ac", stream_x::MakeLearner, stream_x::MakeWorker, stream_x::MakeGreedyPolicy},
    {"stream_q", stream_x::MakeLearner, stream_x::MakeWorker, stream_x::MakeGreedyPolicy},
    {"stream_td", stream_x::MakeLearner, stream_x::MakeWorker, stream_x::MakeGreedyPolicy},
    {"ppo", ppo::MakeLearner, MakePpoWorker, ppo::MakeGreedyPolicy},
    {"appo", ppo::MakeLearner, MakePpoWorker, ppo::MakeGreedyPolicy},
    {"spo", spo::MakeLearner, spo::MakeWorker, spo::MakeGreedyPolicy, spo::ConfigureTable},
};

}  // namespace

absl::StatusOr<const AlgorithmRuntime*> FindAlgorithm(const std::string& name) {
  for (const AlgorithmRuntime& a : kRuntimes) {
    if (name == a.name) return &a;
  }
  return absl::NotFoundError(
      absl::StrCat("unknown algorithm '", name, "' (", AlgorithmNames(), ")"));
}

}  // namespace rlx
