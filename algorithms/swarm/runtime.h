// PPO and APPO on a multi-agent env (Navigation-v0) behind the platform's
// ActorWorker: the actor's envs_per_actor envs of N agents step together,
// every agent acting with the same parameters in one batched forward pass
// per step. Each agent is a stream of its own: after num_steps steps every
// agent's steps become one unroll item (algorithms/ppo/unroll_codec.h;
// observations in the env's padded graph layout, envs/multi_agent_env.h),
// with actor_id = its env's stream and sequence = (unroll index) x N +
// agent, so the learner (ppo::MakeLearner, unchanged) sees N streams per env
// in order. Episodes end for all agents of an env together; each agent's
// return counts as one episode.
#ifndef RLX_ALGORITHMS_SWARM_RUNTIME_H_
#define RLX_ALGORITHMS_SWARM_RUNTIME_H_

#include <memory>

#include "absl/status/statusor.h"
#include "algorithms/algorithm.h"
#include "algorithms/registry.h"
#include "job.pb.h"

namespace rlx::swarm {

absl::StatusOr<std::unique_ptr<ActorWorker>> MakeWorker(const JobSpec& spec,
                                                        const WorkerOptions& options);

}  // namespace rlx::swarm

#endif  // RLX_ALGORITHMS_SWARM_RUNTIME_H_
