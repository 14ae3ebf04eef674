#include "envs/navigation_controllers.h"

#include <algorithm>
#include <cmath>

namespace rlx {

NavigationController::NavigationController(double repulsion_gain)
    : repulsion_gain_(repulsion_gain) {
  // Discrete-time LQR for one axis: x = [position, velocity],
  // A = [[1, dt], [0, 1]], B = [0, dt / m], Q = 5 I, R = 1. Iterate the
  // Riccati equation P = Q + A'PA - A'PB (R + B'PB)^-1 B'PA to convergence.
  const double dt = nav::kDt, b = nav::kDt / nav::kMass;
  double p00 = 5, p01 = 0, p11 = 5;
  double k0 = 0, k1 = 0;
  for (int it = 0; it < 100000; ++it) {
    // B'PB, B'PA with B = [0, b]
    const double bpb = b * b * p11;
    const double bpa0 = b * p01, bpa1 = b * (p01 * dt + p11);
    const double inv = 1.0 / (1.0 + bpb);
    k0 = inv * bpa0;
    k1 = inv * bpa1;
    // A'PA
    const double a00 = p00, a01 = p00 * dt + p01, a11 = p00 * dt * dt + 2 * p01 * dt + p11;
    const double n00 = 5 + a00 - bpa0 * k0, n01 = a01 - bpa0 * k1, n11 = 5 + a11 - bpa1 * k1;
    const double change = std::abs(n00 - p00) + std::abs(n01 - p01) + std::abs(n11 - p11);
    p00 = n00;
    p01 = n01;
    p11 = n11;
    if (change < 1e-10) break;
  }
  k_position_ = k0;  // u = -K x with x = -error: u = K error
  k_velocity_ = k1;
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
    double e[4] = {g[2 * i] - p[2 * i], g[2 * i + 1] - p[2 * i + 1], -v[2 * i], -v[2 * i + 1]};
    const double norm = std::sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2] + e[3] * e[3]);
    if (norm > r) {
      for (double& x : e) x *= r / norm;
    }
    double ux = k_position_ * e[0] + k_velocity_ * e[2];
    double uy = k_position_ * e[1] + k_velocity_ * e[3];
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
