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

}  // namespace rlx::spo

#endif  // RLX_ALGORITHMS_SPO_RUNTIME_H_
