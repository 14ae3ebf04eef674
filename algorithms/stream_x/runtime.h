// Stream TD/Q/AC(lambda) behind the platform's interfaces
// (algorithms/algorithm.h): the learner keeps one StreamState (trace set)
// per actor stream and learns each transition item once; the actor worker
// steps one env per group (so each stream waits for the lag bound before
// it acts, as the in-process trainer's order requires); the greedy policy
// is a StreamActor with frozen observation statistics. One actor with one
// env, publish_every 1 and max_policy_lag 0 reproduces stream_train bit for
// bit (tests/distributed).
#ifndef RLX_ALGORITHMS_STREAM_X_RUNTIME_H_
#define RLX_ALGORITHMS_STREAM_X_RUNTIME_H_

#include <memory>

#include "absl/status/statusor.h"
#include "algorithms/algorithm.h"
#include "algorithms/registry.h"
#include "job.pb.h"

namespace rlx::stream_x {

absl::StatusOr<std::unique_ptr<JobLearner>> MakeLearner(const JobSpec& spec,
                                                        const LearnerContext& context);
absl::StatusOr<std::unique_ptr<ActorWorker>> MakeWorker(const JobSpec& spec,
                                                        const WorkerOptions& options);
absl::StatusOr<std::unique_ptr<GreedyPolicy>> MakeGreedyPolicy(const JobSpec& spec);

}  // namespace rlx::stream_x

#endif  // RLX_ALGORITHMS_STREAM_X_RUNTIME_H_
