#include "envs/navigation_controllers.h"

#include <algorithm>
#include <cmath>

namespace rlx {

NavigationController::NavigationController(double repulsion_gain)
    : repulsion_gain_(repulsion_gain) {
  k_position_ = NominalNavigationGains().position;
  k_velocity_ = NominalNavigationGains().velocity;
}

void NavigationController::Act(const NavigationEnv& env, std::vector<float>* actions) const {
  const int n = env.num_agents();
  actions->resize(2 * n);
  const std::vector<float>& p = env.positions();
  const std::vector<float>& v = env.velocities();
  const std::vector<float>& g = env.goals();
  const NeighbourGraph& graph = env.graph();
  const double r = nav::kSensingRadius;
  float hits[nav::kLidarRays];
  for (int i = 0; i < n; ++i) {
    double ux = 0, uy = 0;
    NominalNavigationForce(p[2 * i], p[2 * i + 1], v[2 * i], v[2 * i + 1], g[2 * i], g[2 * i + 1],
                           &ux, &uy);
    if (repulsion_gain_ != 0) {
      auto push = [&](double dx, double dy) {  // (dx, dy): from the other to agent i
        const double d = std::max(std::sqrt(dx * dx + dy * dy), 1e-3);
        if (d >= r) return;
        const double w = repulsion_gain_ * (1.0 / d - 1.0 / r) / d;
        ux += w * dx;
        uy += w * dy;
      };
      for (int k = graph.offsets[i]; k < graph.offsets[i + 1]; ++k) {
        const int j = graph.neighbors[k];
        push(p[2 * i] - p[2 * j], p[2 * i + 1] - p[2 * j + 1]);
      }
      if (!env.obstacles().empty()) {
        env.Lidar(i, hits);
        for (int ray = 0; ray < nav::kLidarRays; ++ray) {
          if (!std::isfinite(hits[ray])) continue;
          const double theta = -M_PI + 2 * M_PI * ray / nav::kLidarRays;
          push(-hits[ray] * std::cos(theta), -hits[ray] * std::sin(theta));
        }
      }
    }
    (*actions)[2 * i] = static_cast<float>(std::clamp(ux, -nav::kMaxForce, nav::kMaxForce));
    (*actions)[2 * i + 1] = static_cast<float>(std::clamp(uy, -nav::kMaxForce, nav::kMaxForce));
  }
}

}  // namespace rlx
