#include "algorithms/stream_x/learner.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "algorithms/stream_x/observation.h"
#include "algorithms/stream_x/stream_ac.h"
#include "algorithms/stream_x/stream_q.h"
#include "algorithms/stream_x/stream_td.h"
#include "models/backends.h"

namespace rlx {


NetworkFactory BackendNetworkFactory(const std::string& backend) {
  return [backend](const NetworkSpec& spec) { return MakeNetwork(backend, spec); };
}

absl::StatusOr<std::unique_ptr<StreamLearner>> StreamLearner::Create(
    const ProblemSpec& problem, const StreamConfig& config, uint64_t seed,
    NetworkFactory factory) {
  RETURN_IF_ERROR(ValidateStreamConfig(problem, config));
  if (!factory) factory = BackendNetworkFactory(config.network);
  switch (config.algorithm) {
    case StreamAlgorithm::kStreamAC:
      return StreamAcLearner::Create(problem, config, seed, factory);
    case StreamAlgorithm::kStreamQ:
      return StreamQLearner::Create(problem, config, seed, factory);
    case StreamAlgorithm::kStreamTD:
      return StreamTdLearner::Create(problem, config, seed, factory);
  }
  return absl::InvalidArgumentError("unknown algorithm");
}

void SaveSnapshot(const PolicySnapshot& snapshot, StateDict* dict) {
  AddFloats(dict, "snapshot/params", snapshot.params);
  AddDoubles(dict, "snapshot/observation_mean", snapshot.observation_mean);
  AddDoubles(dict, "snapshot/observation_m2", snapshot.observation_m2);
  const int64_t counters[] = {snapshot.observation_count, snapshot.learner_steps};
  AddInt64s(dict, "snapshot/counters", counters);
}

absl::Status LoadSnapshot(const StateDict& dict, PolicySnapshot* snapshot) {
  PolicySnapshot loaded;
  RETURN_IF_ERROR(GetFloats(dict, "snapshot/params", -1, &loaded.params));
  RETURN_IF_ERROR(GetDoubles(dict, "snapshot/observation_mean", -1, &loaded.observation_mean));
  RETURN_IF_ERROR(GetDoubles(dict, "snapshot/observation_m2",
                             static_cast<int64_t>(loaded.observation_mean.size()),
                             &loaded.observation_m2));
  std::vector<int64_t> counters;
  RETURN_IF_ERROR(GetInt64s(dict, "snapshot/counters", 2, &counters));
  loaded.observation_count = counters[0];
  loaded.learner_steps = counters[1];
  *snapshot = std::move(loaded);
  return absl::OkStatus();
}

StreamLearner::StreamLearner(const ProblemSpec& problem, const StreamConfig& config,
                             std::vector<std::unique_ptr<Network>> networks,
                             std::vector<std::string> network_names)
    : problem_(problem),
      config_(config),
      networks_(std::move(networks)),
      network_names_(std::move(network_names)),
      observation_stats_(problem.observation_dim),
      next_input_(NetworkInputDim(problem, config)) {}

StreamState StreamLearner::NewStream() const {
  StreamState stream;
  for (const auto& net : networks_) stream.traces.emplace_back(net->num_params(), 0.0f);
  stream.observation.assign(NetworkInputDim(problem_, config_), 0.0f);
  return stream;
}

absl::Status StreamLearner::Learn(const Transition& t, StreamState* stream) {
  const size_t obs_dim = static_cast<size_t>(problem_.observation_dim);
  if (t.next_observation.size() != obs_dim ||
      (t.episode_start && t.observation.size() != obs_dim)) {
    return absl::InvalidArgumentError(absl::StrCat("transition: observations must have ",
                                                   obs_dim, " elements"));
  }
  if (!std::isfinite(t.reward)) return absl::InvalidArgumentError("transition: reward not finite");
  auto finite = [](const std::vector<float>& v) {
    for (float x : v) {
      if (!std::isfinite(x)) return false;
    }
    return true;
  };
  if (!finite(t.next_observation) || (t.episode_start && !finite(t.observation))) {
    return absl::InvalidArgumentError("transition: observation not finite");
  }
  RETURN_IF_ERROR(ValidateAction(t.action));
  if (!t.episode_start && !stream->in_episode) {
    return absl::FailedPreconditionError(
        "transition continues no episode on this stream (expected episode_start)");
  }
  if (stream->traces.size() != networks_.size() ||
      stream->observation.size() != next_input_.size()) {
    return absl::InvalidArgumentError("stream state does not belong to this learner");
  }

  if (t.episode_start) {
    for (auto& trace : stream->traces) std::fill(trace.begin(), trace.end(), 0.0f);
    stream->episode_step = 0;
    observation_stats_.Update(t.observation);
    PreprocessObservation(problem_, config_, observation_stats_, t.observation, 0,
                          absl::MakeSpan(stream->observation));
  }
  observation_stats_.Update(t.next_observation);
  PreprocessObservation(problem_, config_, observation_stats_, t.next_observation,
                        stream->episode_step + 1, absl::MakeSpan(next_input_));

  const bool done = t.done();
  info_ = LearnInfo();
  info_.scaled_reward =
      config_.scale_rewards
          ? ScaleReward(t.reward, done, config_.gamma, &stream->reward_trace, &reward_stats_)
          : t.reward;

  Step step;
  step.observation = stream->observation;
  step.action = t.action;
  step.reward = info_.scaled_reward;
  step.next_observation = next_input_;
  step.terminated = t.terminated || (t.truncated && !config_.bootstrap_on_truncation);
  step.done = done;
  Update(step, stream, &info_);

  ++steps_;
  if (done) {
    ++episodes_;
    stream->in_episode = false;
    stream->episode_step = 0;
  } else {
    std::swap(stream->observation, next_input_);
    ++stream->episode_step;
    stream->in_episode = true;
  }
  return absl::OkStatus();
}

void StreamLearner::GetSnapshot(PolicySnapshot* snapshot) const {
  const int acting = acting_network();
  if (acting >= 0) {
    absl::Span<const float> params = networks_[acting]->params();
    snapshot->params.assign(params.begin(), params.end());
  } else {
    snapshot->params.clear();
  }
  snapshot->observation_mean = observation_stats_.mean();
  snapshot->observation_m2 = observation_stats_.m2();
  snapshot->observation_count = observation_stats_.count();
  snapshot->learner_steps = steps_;
}

void StreamLearner::SaveState(StateDict* dict) const {
  for (int i = 0; i < num_networks(); ++i) {
    AddFloats(dict, absl::StrCat("learner/", network_names_[i], "/params"),
              networks_[i]->params());
  }
  AddDoubles(dict, "learner/observation_stats/mean", observation_stats_.mean());
  AddDoubles(dict, "learner/observation_stats/m2", observation_stats_.m2());
  AddDoubles(dict, "learner/reward_stats/mean", reward_stats_.mean());
  AddDoubles(dict, "learner/reward_stats/m2", reward_stats_.m2());
  const int64_t counters[] = {observation_stats_.count(), reward_stats_.count(), steps_,
                              episodes_};
  AddInt64s(dict, "learner/counters", counters);
}

absl::Status StreamLearner::RestoreState(const StateDict& dict) {
  std::vector<std::vector<float>> params(networks_.size());
  for (int i = 0; i < num_networks(); ++i) {
    RETURN_IF_ERROR(GetFloats(dict, absl::StrCat("learner/", network_names_[i], "/params"),
                              networks_[i]->num_params(), &params[i]));
  }
  std::vector<double> obs_mean, obs_m2, rew_mean, rew_m2;
  RETURN_IF_ERROR(GetDoubles(dict, "learner/observation_stats/mean", problem_.observation_dim,
                             &obs_mean));
  RETURN_IF_ERROR(
      GetDoubles(dict, "learner/observation_stats/m2", problem_.observation_dim, &obs_m2));
  RETURN_IF_ERROR(GetDoubles(dict, "learner/reward_stats/mean", 1, &rew_mean));
  RETURN_IF_ERROR(GetDoubles(dict, "learner/reward_stats/m2", 1, &rew_m2));
  std::vector<int64_t> counters;
  RETURN_IF_ERROR(GetInt64s(dict, "learner/counters", 4, &counters));
  for (int i = 0; i < num_networks(); ++i) {
    std::copy(params[i].begin(), params[i].end(), networks_[i]->params().begin());
  }
  observation_stats_.SetState(std::move(obs_mean), std::move(obs_m2), counters[0]);
  reward_stats_.SetState(std::move(rew_mean), std::move(rew_m2), counters[1]);
  steps_ = counters[2];
  episodes_ = counters[3];
  return absl::OkStatus();
}

void StreamLearner::SaveStream(const StreamState& stream, absl::string_view prefix,
                               StateDict* dict) const {
  for (int i = 0; i < num_networks(); ++i) {
    AddFloats(dict, absl::StrCat(prefix, "/trace/", network_names_[i]), stream.traces[i]);
  }
  AddDoubles(dict, absl::StrCat(prefix, "/reward_trace"), {stream.reward_trace});
  AddFloats(dict, absl::StrCat(prefix, "/observation"), stream.observation);
  const int64_t position[] = {stream.episode_step, stream.in_episode ? 1 : 0};
  AddInt64s(dict, absl::StrCat(prefix, "/position"), position);
}

absl::Status StreamLearner::RestoreStream(const StateDict& dict, absl::string_view prefix,
                                          StreamState* stream) const {
  StreamState restored;
  restored.traces.resize(networks_.size());
  for (int i = 0; i < num_networks(); ++i) {
    RETURN_IF_ERROR(GetFloats(dict, absl::StrCat(prefix, "/trace/", network_names_[i]),
                              networks_[i]->num_params(), &restored.traces[i]));
  }
  std::vector<double> u;
  RETURN_IF_ERROR(GetDoubles(dict, absl::StrCat(prefix, "/reward_trace"), 1, &u));
  restored.reward_trace = u[0];
  RETURN_IF_ERROR(GetFloats(dict, absl::StrCat(prefix, "/observation"),
                            NetworkInputDim(problem_, config_), &restored.observation));
  std::vector<int64_t> position;
  RETURN_IF_ERROR(GetInt64s(dict, absl::StrCat(prefix, "/position"), 2, &position));
  restored.episode_step = position[0];
  restored.in_episode = position[1] != 0;
  *stream = std::move(restored);
  return absl::OkStatus();
}

}  // namespace rlx
