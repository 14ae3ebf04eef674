#include "algorithms/stream_x/stream_trainer.h"

#include <chrono>
#include <cmath>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "envs/registry.h"
#include "algorithms/stream_x/actor.h"

namespace rlx {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Seed tags: one independent generator per purpose.

absl::StatusOr<EvalRecord> Evaluate(const StreamTrainOptions& options, const ProblemSpec& problem,
                                    const StreamConfig& config, const StreamLearner& learner,
                                    int64_t env_step, int64_t eval_index) {
  ASSIGN_OR_RETURN(std::unique_ptr<Env> env, MakeEnv(options.env_name));
  ASSIGN_OR_RETURN(std::unique_ptr<StreamActor> actor,
                   StreamActor::Create(problem, config, DeriveSeed(options.seed, kEvalSeedTag),
                                       options.network_factory));
  PolicySnapshot snapshot;
  learner.GetSnapshot(&snapshot);
  RETURN_IF_ERROR(actor->Sync(snapshot));
  actor->set_update_statistics(false);
  EvalRecord record;
  record.env_step = env_step;
  std::vector<float> observation;
  StepResult result;
  ActorAction action;
  for (int e = 0; e < options.eval_episodes; ++e) {
    env->Reset(DeriveSeed(options.seed, kEvalSeedTag + 1000 * (eval_index + 1) + e),
               &observation);
    actor->Observe(observation, /*episode_start=*/true);
    double total = 0;
    while (true) {
      RETURN_IF_ERROR(actor->Act(/*greedy=*/true, &action));
      RETURN_IF_ERROR(env->Step(action.env_action, &result));
      total += result.reward;
      if (result.done()) break;
      actor->Observe(result.observation, /*episode_start=*/false);
    }
    record.returns.push_back(total);
  }
  double sum = 0;
  for (double r : record.returns) sum += r;
  record.mean_return = record.returns.empty() ? NAN : sum / record.returns.size();
  return record;
}

}  // namespace

double MeanLastReturns(const std::vector<EpisodeRecord>& episodes, int n) {
  if (episodes.empty()) return NAN;
  const size_t k = std::min<size_t>(n, episodes.size());
  double sum = 0;
  for (size_t i = episodes.size() - k; i < episodes.size(); ++i) sum += episodes[i].episode_return;
  return sum / k;
}

absl::StatusOr<StreamTrainResult> RunStreamTraining(const StreamTrainOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Env> env, MakeTrainingEnv(options.env_name, options.config));
  ASSIGN_OR_RETURN(ProblemSpec problem, ProblemFromEnvSpec(env->spec()));
  StreamConfig config = options.config;
  if (config.total_steps == 0) config.total_steps = options.steps;
  ASSIGN_OR_RETURN(std::unique_ptr<StreamLearner> learner,
                   StreamLearner::Create(problem, config, options.seed, options.network_factory));
  ASSIGN_OR_RETURN(std::unique_ptr<StreamActor> actor,
                   StreamActor::Create(problem, config, DeriveSeed(options.seed, kActorSeedTag),
                                       options.network_factory));
  StreamState stream = learner->NewStream();
  PolicySnapshot snapshot;
  learner->GetSnapshot(&snapshot);
  RETURN_IF_ERROR(actor->Sync(snapshot));

  StreamTrainResult out;
  out.solve_threshold = std::isnan(options.solve_threshold) ? env->spec().reward_threshold
                                                            : options.solve_threshold;
  const bool td = config.algorithm == StreamAlgorithm::kStreamTD;

  Transition transition;
  StepResult result;
  ActorAction action;
  env->Reset(DeriveSeed(options.seed, kEnvSeedTag), &transition.observation);
  actor->Observe(transition.observation, /*episode_start=*/true);
  transition.episode_start = true;
  double episode_return = 0;
  int64_t episode_length = 0;
  std::vector<double> values, rewards;  // TD value error

  double train_seconds = 0;
  Clock::time_point segment_start = Clock::now();
  Clock::time_point progress_start = segment_start;
  int64_t progress_steps = 0;
  int64_t eval_index = 0;

  for (int64_t step = 1; step <= options.steps; ++step) {
    // Actor side.
    RETURN_IF_ERROR(actor->Act(/*greedy=*/false, &action));
    RETURN_IF_ERROR(env->Step(action.env_action, &result));
    actor->Observe(result.observation, /*episode_start=*/false);
    // Learner side.
    transition.action = action.action;
    transition.reward = result.reward;
    transition.next_observation = result.observation;
    transition.terminated = result.terminated;
    transition.truncated = result.truncated;
    RETURN_IF_ERROR(learner->Learn(transition, &stream));
    learner->GetSnapshot(&snapshot);
    RETURN_IF_ERROR(actor->Sync(snapshot));
    if (td) {
      values.push_back(learner->last_info().value);
      rewards.push_back(learner->last_info().scaled_reward);
    }

    episode_return += result.reward;
    ++episode_length;
    if (result.done()) {
      EpisodeRecord record;
      record.env_step = step;
      record.episode = static_cast<int64_t>(out.episodes.size()) + 1;
      record.episode_return = episode_return;
      record.length = episode_length;
      record.truncated = result.truncated && !result.terminated;
      if (td) {
        double g = 0, err2 = 0, g2 = 0;
        for (size_t i = values.size(); i-- > 0;) {
          g = rewards[i] + config.gamma * g;
          err2 += (values[i] - g) * (values[i] - g);
          g2 += g * g;
        }
        record.value_rmse = std::sqrt(err2 / values.size());
        record.return_rms = std::sqrt(g2 / values.size());
        values.clear();
        rewards.clear();
      }
      out.episodes.push_back(record);
      if (options.on_episode) options.on_episode(record);
      if (out.solved_at < 0 && out.episodes.size() >= 10 &&
          MeanLastReturns(out.episodes, 10) >= out.solve_threshold) {
        out.solved_at = step;
      }
      episode_return = 0;
      episode_length = 0;
      env->Reset(std::nullopt, &transition.observation);
      actor->Observe(transition.observation, /*episode_start=*/true);
      transition.episode_start = true;
    } else {
      std::swap(transition.observation, transition.next_observation);
      transition.episode_start = false;
    }
    out.env_steps = step;

    if (options.progress_every > 0 && step % options.progress_every == 0 && options.on_progress) {
      TrainProgress progress;
      progress.env_step = step;
      progress.episodes = static_cast<int64_t>(out.episodes.size());
      progress.steps_per_second = (step - progress_steps) / SecondsSince(progress_start);
      progress.mean_return_last10 = MeanLastReturns(out.episodes, 10);
      if (td && !out.episodes.empty()) {
        const size_t k = std::min<size_t>(10, out.episodes.size());
        double sum = 0, rms = 0;
        for (size_t i = out.episodes.size() - k; i < out.episodes.size(); ++i) {
          sum += out.episodes[i].value_rmse;
          rms += out.episodes[i].return_rms;
        }
        progress.mean_value_rmse_last10 = sum / k;
        progress.mean_return_rms_last10 = rms / k;
      }
      if (config.algorithm == StreamAlgorithm::kStreamQ) progress.epsilon = action.epsilon;
      options.on_progress(progress);
      progress_steps = step;
      progress_start = Clock::now();
    }
    const bool eval_now = !td && options.eval_every > 0 && step % options.eval_every == 0;
    const bool stop = options.stop_when_solved && out.solved_at >= 0;
    if (eval_now || (options.final_eval && !td && (step == options.steps || stop))) {
      train_seconds += SecondsSince(segment_start);
      ASSIGN_OR_RETURN(EvalRecord eval,
                       Evaluate(options, problem, config, *learner, step, eval_index++));
      if (options.on_eval) options.on_eval(eval);
      out.evals.push_back(std::move(eval));
      segment_start = Clock::now();
      progress_start = segment_start;
      progress_steps = step;
    }
    if (stop) break;
  }
  train_seconds += SecondsSince(segment_start);
  out.seconds = train_seconds;
  out.steps_per_second = out.env_steps / std::max(train_seconds, 1e-9);
  out.learner = std::move(learner);
  return out;
}

}  // namespace rlx
