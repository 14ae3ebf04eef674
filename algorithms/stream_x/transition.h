// What an actor stream hands a stream-x learner, and the learner's per-stream
// state.
//
// A Transition carries RAW observations and rewards: normalisation, reward
// scaling and the time feature are the learner's job, so the learner is
// env-agnostic and its statistics are shared across streams. Transitions of
// one stream must arrive in order; the first of an episode has episode_start,
// and after one with terminated or truncated the next must have
// episode_start.
//
// StreamState is everything that belongs to ONE actor stream rather than to
// the shared learner: the eligibility traces (one per network), the reward
// scaler's discounted return u, and the preprocessed current observation with
// its step in the episode. A learner serving several actors keeps one
// StreamState per actor (StreamLearner::NewStream).
#ifndef RLX_ALGORITHMS_STREAM_X_TRANSITION_H_
#define RLX_ALGORITHMS_STREAM_X_TRANSITION_H_

#include <cstdint>
#include <vector>

namespace rlx {

struct Transition {
  // Raw o_t. Read only when episode_start (otherwise the learner uses the
  // stream's o_t, the previous transition's next_observation); may be empty then.
  std::vector<float> observation;
  // Discrete: one element holding the action index. Continuous: the sampled,
  // UNclipped action (its log-probability is what the policy learns from).
  std::vector<float> action;
  double reward = 0.0;                  // raw r_{t+1}
  std::vector<float> next_observation;  // raw o_{t+1}
  bool terminated = false;              // o_{t+1} is terminal: no bootstrap
  bool truncated = false;               // time limit: bootstrap from o_{t+1}
  bool episode_start = false;           // o_t is the first observation of its episode

  bool done() const { return terminated || truncated; }
};

struct StreamState {
  std::vector<std::vector<float>> traces;  // one per network of the learner
  double reward_trace = 0.0;               // u of the reward scaler
  std::vector<float> observation;          // preprocessed o_t (network input)
  int64_t episode_step = 0;                // t of o_t within its episode
  bool in_episode = false;                 // observation is valid
};

}  // namespace rlx

#endif  // RLX_ALGORITHMS_STREAM_X_TRANSITION_H_
