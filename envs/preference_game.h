// PreferenceGame-v0: the one-step game of SPO's intransitive experiment
// (docs/algorithms.md, "SPO"). Three actions; the episode ends after one step
// (terminated). Each action's trajectory differs on three criteria, one per
// rater of the intransitive preference function
// (algorithms/preferences.h):
//   action   reward (return)   final observation[0]   energy (sum of a^2)
//     0            0                   1                      0
//     1            2                   0                      1
//     2            1                   2                      4
// Rater "return" ranks 1 > 2 > 0, rater "final position" 2 > 0 > 1, rater
// "energy" (less is better) 0 > 1 > 2: three transitive raters whose
// majority cycles (0 beats 1, 1 beats 2, 2 beats 0) when none of them is
// half the population. Observation: [x] with x uniform in [-0.05, 0.05) at
// reset (seeded like the classic envs), the final position after the step.
#ifndef RLX_ENVS_PREFERENCE_GAME_H_
#define RLX_ENVS_PREFERENCE_GAME_H_

#include "envs/classic_env.h"

namespace rlx {

class PreferenceGame : public ClassicEnv {
 public:
  static constexpr char kName[] = "PreferenceGame-v0";
  static constexpr int kActions = 3;
  // Per action: the reward of its step and the position it ends at.
  static constexpr double kReward[kActions] = {0, 2, 1};
  static constexpr float kFinalPosition[kActions] = {1, 0, 2};
  PreferenceGame();

 protected:
  void ResetState() override { position_ = static_cast<float>(Uniform(-0.05, 0.05)); }
  void Observe(std::vector<float>* observation) const override;
  void Advance(absl::Span<const float> action, double* reward, bool* terminated) override;

 private:
  float position_ = 0;
};

}  // namespace rlx

#endif  // RLX_ENVS_PREFERENCE_GAME_H_
