// The learner side of the stream-x algorithms (docs/algorithms.md, "One
// learner step" and "Learner and actors"): Stream TD(lambda), Stream Q(lambda)
// and Stream AC(lambda), learning from one transition at a time, as it arrives.
//
// Who calls it: the in-process trainer (algorithms/stream_x/stream_trainer.h) and, later,
// a learner process fed by remote actors. The learner never touches an
// environment: it learns from Transitions (raw observations and rewards) and
// keeps
//   * SHARED state: the networks (one flat parameter buffer each), the
//     observation normaliser, the reward scaler's variance of u, and the step
//     and episode counters (the epsilon schedule's position);
//   * PER-STREAM state in a caller-owned StreamState (traces, reward-scaler u,
//     current preprocessed observation), so one learner can serve several
//     actor streams, each with its own traces.
// Actors act from a PolicySnapshot (acting network parameters + normaliser
// statistics + step counter) through StreamActor (algorithms/stream_x/actor.h),
// with their own random generator; the learner holds no RNG after
// construction.
//
// Learn(t, stream), for every algorithm:
//   1. at episode_start: zero the stream's traces, update the normaliser with
//      o_t and preprocess it (step 0); otherwise use the stream's o_t;
//   2. update the normaliser with o_{t+1}, preprocess it (step t + 1);
//   3. scale the reward (u per stream, variance shared);
//   4. the algorithm's update (see stream_ac.h, stream_q.h, stream_td.h) with
//      bootstrap factor (1 - terminated), where a truncation counts as
//      terminated unless config.bootstrap_on_truncation (default true);
//   5. on done the stream's traces are zeroed after the update and the next
//      transition must start an episode.
// Errors: INVALID_ARGUMENT for wrongly sized transitions or an action out of
// range; FAILED_PRECONDITION for a transition that continues no episode. On an
// error nothing changes.
//
// Not thread-safe: one thread drives a learner (and all its streams).
#ifndef RLX_ALGORITHMS_STREAM_X_LEARNER_H_
#define RLX_ALGORITHMS_STREAM_X_LEARNER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "algorithms/seeds.h"
#include "algorithms/stream_x/config.h"
#include "algorithms/stream_x/normalizer.h"
#include "algorithms/stream_x/obgd.h"
#include "core/state_dict.h"
#include "algorithms/stream_x/transition.h"
#include "models/network.h"

namespace rlx {

// Makes a sparsely initialised network. Unset (the default everywhere):
// the configuration's backend by name (StreamConfig.network, models/backends.h).
using NetworkFactory =
    std::function<absl::StatusOr<std::unique_ptr<Network>>(const NetworkSpec& spec)>;
NetworkFactory BackendNetworkFactory(const std::string& backend);

// What an actor needs to act like the learner's current policy.
struct PolicySnapshot {
  std::vector<float> params;  // acting network: policy (AC) or Q (Q); empty for TD
  std::vector<double> observation_mean, observation_m2;
  int64_t observation_count = 0;
  int64_t learner_steps = 0;  // transitions learned so far
};

// A snapshot as named tensors ("snapshot/params", ".../observation_mean",
// ".../observation_m2", ".../counters"), the form it travels in over gRPC.
// Load checks presence, dtypes and consistent sizes (INVALID_ARGUMENT /
// NOT_FOUND); the actor's Sync checks the sizes against its network.
void SaveSnapshot(const PolicySnapshot& snapshot, StateDict* dict);
absl::Status LoadSnapshot(const StateDict& dict, PolicySnapshot* snapshot);

// Diagnostics of the most recent Learn.
struct LearnInfo {
  double scaled_reward = 0;
  double value = 0;       // V(s) (AC, TD) or Q(s, a) (Q), before the update
  double delta = 0;       // TD error
  ObgdStepInfo value_step;   // value / Q network
  ObgdStepInfo policy_step;  // policy network (AC)
  double log_prob = 0, entropy = 0;  // AC
  bool exploratory = false;  // Q: a != argmax Q(s, .)
  bool traces_reset = false;
};

class StreamLearner {
 public:
  // The learner for config.algorithm. Networks are initialised from seed.
  static absl::StatusOr<std::unique_ptr<StreamLearner>> Create(
      const ProblemSpec& problem, const StreamConfig& config, uint64_t seed,
      NetworkFactory factory = nullptr);
  virtual ~StreamLearner() = default;

  const ProblemSpec& problem() const { return problem_; }
  const StreamConfig& config() const { return config_; }

  // A fresh stream (zero traces, reward trace 0, no episode).
  StreamState NewStream() const;
  absl::Status Learn(const Transition& transition, StreamState* stream);
  const LearnInfo& last_info() const { return info_; }

  void GetSnapshot(PolicySnapshot* snapshot) const;

  int64_t steps() const { return steps_; }
  int64_t episodes() const { return episodes_; }
  const RunningMeanVar& observation_stats() const { return observation_stats_; }
  const RunningMeanVar& reward_stats() const { return reward_stats_; }

  // Networks in a fixed order with names: AC {"value", "policy"}, Q {"q"},
  // TD {"value"}.
  int num_networks() const { return static_cast<int>(networks_.size()); }
  Network& network(int i) { return *networks_[i]; }
  const Network& network(int i) const { return *networks_[i]; }
  const std::string& network_name(int i) const { return network_names_[i]; }

  // Shared state under "learner/..." names; streams under the given prefix.
  // Restore checks every size against this learner's configuration; on error
  // the learner or stream is unchanged.
  void SaveState(StateDict* dict) const;
  absl::Status RestoreState(const StateDict& dict);
  void SaveStream(const StreamState& stream, absl::string_view prefix, StateDict* dict) const;
  absl::Status RestoreStream(const StateDict& dict, absl::string_view prefix,
                             StreamState* stream) const;

 protected:
  // One preprocessed transition, as the algorithms see it.
  struct Step {
    absl::Span<const float> observation;       // network input of o_t
    absl::Span<const float> action;
    double reward = 0;                         // scaled
    absl::Span<const float> next_observation;  // network input of o_{t+1}
    bool terminated = false;
    bool done = false;
  };

  StreamLearner(const ProblemSpec& problem, const StreamConfig& config,
                std::vector<std::unique_ptr<Network>> networks,
                std::vector<std::string> network_names);

  // The algorithm's update. Must reset the traces in stream->traces when
  // step.done (and whenever else the algorithm cuts them).
  virtual void Update(const Step& step, StreamState* stream, LearnInfo* info) = 0;
  // Extra validation of the action; INVALID_ARGUMENT if out of range.
  virtual absl::Status ValidateAction(absl::Span<const float> action) const = 0;
  // Index of the network actors act with, or -1 (TD).
  virtual int acting_network() const = 0;

 private:
  ProblemSpec problem_;
  StreamConfig config_;
  std::vector<std::unique_ptr<Network>> networks_;
  std::vector<std::string> network_names_;
  RunningMeanVar observation_stats_;
  RunningMeanVar reward_stats_{1};
  int64_t steps_ = 0;
  int64_t episodes_ = 0;
  std::vector<float> next_input_;  // scratch
  LearnInfo info_;
};

// Mixes a run seed with a purpose tag into an independent 64-bit seed.

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_LEARNER_H_
