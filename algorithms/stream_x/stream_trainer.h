// The in-process stream-x trainer: one environment, one actor, one learner,
// lag 0. It is deliberately structured as the distributed system will be:
//   actor side:   StreamActor.Observe / Act with its own generator;
//   env:          Env::Step with the (clipped) action;
//   learner side: StreamLearner::Learn(transition, &stream), then the actor
//                 syncs to the learner's new snapshot.
// so that a distributed run with one actor and lag 0 reproduces it exactly.
// Same options and seed => the same episodes, returns and parameters, bit for
// bit. Greedy evaluation runs on a separate env and actor (statistics frozen)
// and does not disturb training.
//
// Used by the stream_train binary, the learning tests and benchmarks.
// Blocking; runs on the calling thread.
#ifndef RLX_ALGORITHMS_STREAM_X_STREAM_TRAINER_H_
#define RLX_ALGORITHMS_STREAM_X_STREAM_TRAINER_H_

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/env.h"
#include "algorithms/stream_x/config.h"
#include "algorithms/job_spec.h"  // ProblemFromEnvSpec
#include "algorithms/seeds.h"
#include "algorithms/stream_x/learner.h"

namespace rlx {

// The learner's view of an environment.
// Seeds: algorithms/seeds.h (shared with the distributed job).


struct EpisodeRecord {
  int64_t env_step = 0;  // total env steps when the episode ended
  int64_t episode = 0;   // 1-based
  double episode_return = 0;  // raw rewards
  int64_t length = 0;
  bool truncated = false;
  // Stream TD only: RMS of V(s_t) - G_t over the episode, G_t the discounted
  // Monte Carlo return of the scaled rewards the learner saw (truncated
  // episodes give a partial G_t), and the RMS of G_t for scale. NaN otherwise.
  double value_rmse = NAN;
  double return_rms = NAN;
};

struct EvalRecord {
  int64_t env_step = 0;
  std::vector<double> returns;
  double mean_return = 0;
};

struct TrainProgress {
  int64_t env_step = 0;
  int64_t episodes = 0;
  double steps_per_second = 0;   // since the previous report
  double mean_return_last10 = NAN;
  double mean_value_rmse_last10 = NAN;  // TD
  double mean_return_rms_last10 = NAN;  // TD: RMS of the MC returns, for scale
  double epsilon = NAN;                 // Q
};

struct StreamTrainOptions {
  std::string env_name = "CartPole-v1";
  StreamConfig config;   // config.total_steps = steps when left 0
  int64_t steps = 100000;
  uint64_t seed = 0;
  int64_t eval_every = 0;  // env steps between greedy evaluations; 0 = never
  int eval_episodes = 10;
  bool final_eval = false;  // one more evaluation at the end
  int64_t progress_every = 0;  // env steps between on_progress calls; 0 = never
  // "Solved": the mean training return of the last 10 episodes first reaches
  // this (NaN: the env's reward_threshold).
  double solve_threshold = NAN;
  bool stop_when_solved = false;
  std::function<void(const EpisodeRecord&)> on_episode;
  std::function<void(const EvalRecord&)> on_eval;
  std::function<void(const TrainProgress&)> on_progress;
  NetworkFactory network_factory;  // unset: config.network's backend
};

struct StreamTrainResult {
  std::vector<EpisodeRecord> episodes;
  std::vector<EvalRecord> evals;
  int64_t env_steps = 0;
  int64_t solved_at = -1;  // env step, or -1
  double solve_threshold = NAN;
  double seconds = 0;      // training wall time, evaluation excluded
  double steps_per_second = 0;
  std::unique_ptr<StreamLearner> learner;  // final state
};

absl::StatusOr<StreamTrainResult> RunStreamTraining(const StreamTrainOptions& options);

// Mean of the last n episode returns (NaN if none).
double MeanLastReturns(const std::vector<EpisodeRecord>& episodes, int n);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_STREAM_TRAINER_H_
