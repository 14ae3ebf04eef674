// The wire form of PPO's experience: one replay item per unroll of T
// consecutive steps of one env stream (docs/algorithms.md, "PPO"), with
// named tensors
//   "observations"       float32 [T, obs_dim]   what each action answered
//   "actions"            float32 [T, action_width] the sampled (unclipped) actions
//   "log_probs"          float32 [T]  behaviour policy's log-probabilities
//   "values"             float32 [T]  behaviour critic's V(s_t)
//   "rewards"            float32 [T]  what the learner learns from (scaled when
//                                 the job normalises rewards)
//   "episode_returns"    float32 [T]  the raw return of the episode that ended
//                                 at step t (terminated or truncated), 0 elsewhere
//   "flags"              uint8   [T, 2]  (terminated, truncated)
//   "final_observations" float32 [T, obs_dim]  the episode's last observation
//                                 where truncated (zeros elsewhere)
//   "next_observation"   float32 [obs_dim]  after the last step (bootstrap)
//   "obs_stats"          float32 [2 obs_dim + 1]  the actor's observation
//                                 statistics for this env (mean, var, count;
//                                 RunningStats::Pack) when the job normalises
//                                 observations, zeros otherwise
// and ItemMetadata (job, actor_id = stream, episode id and step index of the
// first step, policy_version of the acting parameters, num_steps = T). Every
// row has the same signature for a job, so unrolls batch into the columnar
// ItemBatch format (replay/item_batch.h ItemBatchBuilder::AddItem).
// Actors encode; the learner decodes and copies unrolls into a Rollout.
// Stateless.
#ifndef RLX_ALGORITHMS_PPO_UNROLL_CODEC_H_
#define RLX_ALGORITHMS_PPO_UNROLL_CODEC_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "algorithms/ppo/ppo_learner.h"
#include "replay.pb.h"

namespace rlx::ppo {

struct Unroll {
  int64_t length = 0, obs_dim = 0, action_width = 0;
  std::vector<float> observations, actions, log_probs, values, rewards, episode_returns;
  std::vector<uint8_t> terminated, truncated;
  std::vector<float> final_observations, next_observation, obs_stats;

  void Resize(int64_t t, int64_t obs_dim, int64_t action_width);
};

// Appends one acted step to an unroll being grown (an episode of unknown
// length): observation (obs_dim floats), action (action_width floats), the
// behaviour log-probability and value; the other arrays are left to fill.
void AppendStep(const float* observation, const float* action, float log_prob, float value,
                Unroll* unroll);

Item EncodeUnroll(const Unroll& unroll, const ItemMetadata& metadata);

// Checks every tensor against the expected sizes (INVALID_ARGUMENT naming
// the tensor: missing, wrong dtype or shape, non-finite value).
absl::StatusOr<Unroll> DecodeUnroll(const Item& item, int64_t length, int64_t obs_dim,
                                    int64_t action_width);

// Copies `unroll` into slot n of `rollout` (sized for its unrolls).
void CopyUnrollInto(const Unroll& unroll, int64_t n, Rollout* rollout);

}  // namespace rlx::ppo

#endif  // RLX_ALGORITHMS_PPO_UNROLL_CODEC_H_
