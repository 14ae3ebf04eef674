// SPO behind the platform's interfaces (algorithms/algorithm.h), on PPO's
// unroll machinery (algorithms/ppo/runtime.h):
//   actors: PPO's batched unroll worker with the time feature, zero rewards,
//           and every episode that ended inside an unroll riding on it
//           (algorithms/trajectory_codec.h);
//   learner: PPO's unroll learner; when a rollout is full, the episodes
//           that ended in it (their group) are compared through the job's
//           PreferenceService (remote_preferences.h: batched, retried while
//           the service is away, slow or answers non-probabilities; the job's
//           status says so meanwhile), each episode's win rate against
//           `opponents` others from the group and the queue of recent
//           episodes becomes the reward of its last step, then PPO updates;
//   greedy policy: PPO's, with the time feature.
// With spo.group_size G >= 1 (whole episodes in groups of one start state):
//   actors: the same worker sending one item per episode, each env playing
//           G episodes from one start state (ppo::UnrollFlavor::group_size);
//   table: a group gate holds a context's episodes until all G are in;
//   learner: scores each complete group (every member against the others
//           first, then the queue), places the win rate on the last step or
//           spread over the steps (spo.placement), and learns a rollout at
//           a time from scored steps (episode_batcher.h).
#ifndef RLX_ALGORITHMS_SPO_RUNTIME_H_
#define RLX_ALGORITHMS_SPO_RUNTIME_H_

#include <memory>

#include "absl/status/statusor.h"
#include "algorithms/algorithm.h"
#include "algorithms/registry.h"
#include "job.pb.h"

namespace rlx::spo {

absl::StatusOr<std::unique_ptr<JobLearner>> MakeLearner(const JobSpec& spec,
                                                        const LearnerContext& context);
absl::StatusOr<std::unique_ptr<ActorWorker>> MakeWorker(const JobSpec& spec,
                                                        const WorkerOptions& options);
absl::StatusOr<std::unique_ptr<GreedyPolicy>> MakeGreedyPolicy(const JobSpec& spec);
// With spo.group_size >= 1: a group gate on the job's table (a context's
// episodes are learned together, never part of one).
void ConfigureTable(const JobSpec& spec, TableConfig* table);

}  // namespace rlx::spo

#endif  // RLX_ALGORITHMS_SPO_RUNTIME_H_
