#include "envs/preference_game.h"

namespace rlx {
namespace {

EnvSpec GameSpec() {
  EnvSpec spec;
  spec.name = PreferenceGame::kName;
  spec.observation_space = Space::Box({-10.0f}, {10.0f});
  spec.action_space = Space::Discrete(PreferenceGame::kActions);
  spec.max_episode_steps = 1;
  spec.reward_threshold = 2;
  return spec;
}

}  // namespace

PreferenceGame::PreferenceGame() : ClassicEnv(GameSpec()) {}

void PreferenceGame::Observe(std::vector<float>* observation) const {
  observation->assign(1, position_);
}

void PreferenceGame::Advance(absl::Span<const float> action, double* reward, bool* terminated) {
  const int a = static_cast<int>(action[0]);
  *reward = kReward[a];
  position_ = kFinalPosition[a];
  *terminated = true;
}

}  // namespace rlx
