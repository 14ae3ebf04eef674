// Whole, scored episodes packed into PPO rollouts (docs/algorithms.md,
// "SPO", placement): SPO learns from an episode only once its win rate is
// known, so episodes wait here, in the order they were scored, until a
// rollout's worth of steps (num_unrolls x length) is in. Rows are cut
// anywhere: a row that ends inside an episode bootstraps from the value of
// the episode's next observation; every episode's last step is a
// termination (a time limit ends the comparison too). Steps of an episode
// keep the behaviour log-probabilities and values they were acted with.
// Not thread-safe.
#ifndef RLX_ALGORITHMS_SPO_EPISODE_BATCHER_H_
#define RLX_ALGORITHMS_SPO_EPISODE_BATCHER_H_

#include <cstdint>
#include <deque>

#include "algorithms/ppo/ppo_learner.h"
#include "algorithms/ppo/unroll_codec.h"

namespace rlx::spo {

class EpisodeBatcher {
 public:
  // The episode's reward: `win_rate` on its last step, or win_rate / length
  // on each step when `spread`. Empty episodes are ignored.
  void Add(ppo::Unroll episode, double win_rate, bool spread);
  int64_t ready_steps() const { return ready_; }
  // Fills `rollout` (sized: num_unrolls x length, the episodes' widths) with
  // the oldest steps and drops them; false (rollout untouched) when fewer
  // than a rollout's worth are in.
  bool Fill(ppo::Rollout* rollout);
  void Clear();

 private:
  std::deque<ppo::Unroll> episodes_;
  int64_t offset_ = 0;  // steps of episodes_.front() already taken
  int64_t ready_ = 0;
};

}  // namespace rlx::spo

#endif  // RLX_ALGORITHMS_SPO_EPISODE_BATCHER_H_
