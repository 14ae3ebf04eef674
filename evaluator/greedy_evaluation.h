// Greedy evaluation of one published policy: the evaluator's inner loop,
// kept free of gRPC so it can be tested and reused, and of any algorithm:
// the job's algorithm's GreedyPolicy (algorithms/registry.h) acts.
//
// EvaluateGreedy runs `episodes` greedy episodes of the job's
// environment (a multi-agent env: at each N of eval.agents, all agents
// acting in one batch; Navigation-v0's success, collisions and time to goal
// in `swarm`) with a fresh greedy policy (statistics frozen where the
// algorithm keeps them from the learner, so evaluation never drifts from
// it). Episode e of evaluation number `eval_index` (0-based) resets its env
// with EvalEpisodeSeed(EvalSeedBase(spec), eval_index, e) (algorithms/
// seeds.h): the in-process trainer's seeds, so a stream-x job whose eval.seed
// is 0 is evaluated on exactly the episodes stream_train would use at the
// same learner step. Blocking, single-threaded; `stop` (may be null) is
// polled between episodes and makes it return CANCELLED.
#ifndef RLX_EVALUATOR_GREEDY_EVALUATION_H_
#define RLX_EVALUATOR_GREEDY_EVALUATION_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/state_dict.h"
#include "job.pb.h"

namespace rlx {

// A multi-agent evaluation at one agent count (Navigation-v0's figures).
struct SwarmFigures {
  int agents = 0;
  double success_rate = 0, reach_rate = 0, collisions_per_agent = 0, mean_time_to_goal = 0;
};

struct EvaluationResult {
  // Raw (unscaled) episode returns; multi-agent envs: each episode's mean
  // per-agent return at the first evaluated N.
  std::vector<double> returns;
  double mean_return = 0;
  double min_return = 0;
  double max_return = 0;
  int64_t env_steps = 0;
  // Multi-agent envs: one entry per N in the job's eval.agents, and a
  // picture (SVG) of the agents' paths in the first episode at the first N.
  std::vector<SwarmFigures> swarm;
  std::string paths_svg;
};

// spec must be valid (algorithms/job_spec.h ValidateJobSpec); episodes >= 1;
// parameters as the job's learner publishes them.
absl::StatusOr<EvaluationResult> EvaluateGreedy(const JobSpec& spec,
                                                    const StateDict& parameters,
                                                    int64_t eval_index, int episodes,
                                                    const std::atomic<bool>* stop = nullptr);

}  // namespace rlx

#endif  // RLX_EVALUATOR_GREEDY_EVALUATION_H_
