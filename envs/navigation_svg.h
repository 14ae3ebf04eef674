// Draws one Navigation-v0 episode as an SVG picture for a person to look
// at: the area, the obstacles, every agent's path from its start (circle)
// to its goal (cross), green for agents that succeeded, red for agents that
// collided, grey for the rest.
//
// Usage: NavigationPathRecorder rec; call rec.Record(env) after Reset and
// after every Step of one episode; then rec.WriteSvg(path).
#ifndef RLX_ENVS_NAVIGATION_SVG_H_
#define RLX_ENVS_NAVIGATION_SVG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "envs/navigation.h"

namespace rlx {

class NavigationPathRecorder {
 public:
  // Appends the env's positions (the first call also takes its area,
  // obstacles and goals); later calls update the agents' outcomes.
  void Record(const NavigationEnv& env);
  std::string Svg(const std::string& title) const;
  absl::Status WriteSvg(const std::string& path, const std::string& title) const;
  bool empty() const { return frames_.empty(); }

 private:
  double side_ = 0;
  std::vector<Obstacle> obstacles_;
  std::vector<float> goals_;
  std::vector<std::vector<float>> frames_;  // positions per step
  std::vector<NavigationAgentStats> stats_;
};

}  // namespace rlx

#endif  // RLX_ENVS_NAVIGATION_SVG_H_
