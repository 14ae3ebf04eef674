#include "envs/navigation_routes.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace rlx {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

float PointBoxDistance(float x, float y, float hw, float hh) {
  const float dx = std::max(std::abs(x) - hw, 0.0f), dy = std::max(std::abs(y) - hh, 0.0f);
  return std::sqrt(dx * dx + dy * dy);
}

float PointSegmentDistance(float px, float py, float ax, float ay, float bx, float by) {
  const float ux = bx - ax, uy = by - ay, len2 = ux * ux + uy * uy;
  float t = len2 > 0 ? ((px - ax) * ux + (py - ay) * uy) / len2 : 0.0f;
  t = std::clamp(t, 0.0f, 1.0f);
  const float dx = ax + t * ux - px, dy = ay + t * uy - py;
  return std::sqrt(dx * dx + dy * dy);
}

}  // namespace

float SegmentObstacleDistance(const Obstacle& o, float ax, float ay, float bx, float by) {
  // Into the rectangle's frame, where it is the box [-hw, hw] x [-hh, hh].
  auto local = [&](float x, float y, float* lx, float* ly) {
    const float rx = x - o.cx, ry = y - o.cy;
    *lx = o.c * rx + o.s * ry;
    *ly = -o.s * rx + o.c * ry;
  };
  float px, py, qx, qy;
  local(ax, ay, &px, &py);
  local(bx, by, &qx, &qy);
  // Slab test of the segment p + t (q - p), t in [0, 1], against the box.
  float t0 = 0.0f, t1 = 1.0f;
  const float p[2] = {px, py}, d[2] = {qx - px, qy - py}, h[2] = {o.hw, o.hh};
  bool meets = true;
  for (int a = 0; a < 2 && meets; ++a) {
    if (std::abs(d[a]) < 1e-12f) {
      meets = p[a] >= -h[a] && p[a] <= h[a];
      continue;
    }
    float ta = (-h[a] - p[a]) / d[a], tb = (h[a] - p[a]) / d[a];
    if (ta > tb) std::swap(ta, tb);
    t0 = std::max(t0, ta);
    t1 = std::min(t1, tb);
    meets = t0 <= t1;
  }
  if (meets) return 0.0f;
  // Disjoint convex sets: the nearest pair has a vertex of one of them.
  float best = std::min(PointBoxDistance(px, py, o.hw, o.hh), PointBoxDistance(qx, qy, o.hw, o.hh));
  for (float sx : {-o.hw, o.hw}) {
    for (float sy : {-o.hh, o.hh}) best = std::min(best, PointSegmentDistance(sx, sy, px, py, qx, qy));
  }
  return best;
}

int ObstacleRoutes::Holding(float x, float y, int* out) const {
  int count = 0;
  for (size_t k = 0; k < obstacles_.size() && count < 8; ++k) {
    if (ObstacleSignedDistance(obstacles_[k], x, y) < clearance_) out[count++] = static_cast<int>(k);
  }
  return count;
}

bool ObstacleRoutes::Clear(float ax, float ay, float bx, float by, const int* skip, int skips) const {
  for (size_t k = 0; k < obstacles_.size(); ++k) {
    const Obstacle& o = obstacles_[k];
    if (PointSegmentDistance(o.cx, o.cy, ax, ay, bx, by) >= reach_[k]) continue;
    if (std::find(skip, skip + skips, static_cast<int>(k)) != skip + skips) continue;
    if (SegmentObstacleDistance(o, ax, ay, bx, by) < clearance_) return false;
  }
  return true;
}

void ObstacleRoutes::Build(const std::vector<Obstacle>& obstacles) {
  obstacles_ = obstacles;
  reach_.clear();
  corner_x_.clear();
  corner_y_.clear();
  // Corners of the obstacles grown a little beyond the clearance, so that
  // the sides between them keep it; corners that another obstacle covers
  // are dropped.
  const float grow = 1.1f * clearance_ + 1e-3f;
  for (const Obstacle& o : obstacles_) {
    reach_.push_back(std::sqrt(o.hw * o.hw + o.hh * o.hh) + clearance_);
    for (float sx : {-1.0f, 1.0f}) {
      for (float sy : {-1.0f, 1.0f}) {
        const float lx = sx * (o.hw + grow), ly = sy * (o.hh + grow);
        const float x = o.cx + o.c * lx - o.s * ly, y = o.cy + o.s * lx + o.c * ly;
        bool free = true;
        for (const Obstacle& other : obstacles_) free &= ObstacleSignedDistance(other, x, y) >= clearance_;
        if (free) {
          corner_x_.push_back(x);
          corner_y_.push_back(y);
        }
      }
    }
  }
  const int v = num_corners();
  corner_dist_.assign(static_cast<size_t>(v) * v, kInf);
  for (int a = 0; a < v; ++a) {
    corner_dist_[a * v + a] = 0.0f;
    for (int b = a + 1; b < v; ++b) {
      if (!Clear(corner_x_[a], corner_y_[a], corner_x_[b], corner_y_[b], nullptr, 0)) continue;
      const float d = std::hypot(corner_x_[a] - corner_x_[b], corner_y_[a] - corner_y_[b]);
      corner_dist_[a * v + b] = corner_dist_[b * v + a] = d;
    }
  }
}

void ObstacleRoutes::SetGoals(const std::vector<float>& goals) {
  const int g_count = static_cast<int>(goals.size() / 2), v = num_corners();
  goal_x_.resize(g_count);
  goal_y_.resize(g_count);
  to_goal_.assign(static_cast<size_t>(g_count) * v, kInf);
  std::vector<uint8_t> done(v);
  int skip[8];
  for (int g = 0; g < g_count; ++g) {
    const float gx = goals[2 * g], gy = goals[2 * g + 1];
    goal_x_[g] = gx;
    goal_y_[g] = gy;
    if (v == 0) continue;
    float* dist = &to_goal_[static_cast<size_t>(g) * v];
    const int skips = Holding(gx, gy, skip);
    for (int a = 0; a < v; ++a) {
      if (Clear(gx, gy, corner_x_[a], corner_y_[a], skip, skips)) {
        dist[a] = std::hypot(corner_x_[a] - gx, corner_y_[a] - gy);
      }
    }
    // Dijkstra on the dense corner graph.
    std::fill(done.begin(), done.end(), 0);
    for (int round = 0; round < v; ++round) {
      int best = -1;
      for (int a = 0; a < v; ++a) {
        if (!done[a] && dist[a] < kInf && (best < 0 || dist[a] < dist[best])) best = a;
      }
      if (best < 0) break;
      done[best] = 1;
      const float* row = &corner_dist_[static_cast<size_t>(best) * v];
      for (int a = 0; a < v; ++a) {
        if (!done[a] && row[a] < kInf) dist[a] = std::min(dist[a], dist[best] + row[a]);
      }
    }
  }
}

float ObstacleRoutes::Distance(int agent, float x, float y) const {
  const float gx = goal_x_[agent], gy = goal_y_[agent];
  const float straight = std::hypot(gx - x, gy - y);
  if (obstacles_.empty()) return straight;
  int skip[8];
  const int skips = Holding(x, y, skip);
  if (Clear(x, y, gx, gy, skip, skips)) return straight;
  // |p - v| + D(v) is the route's length if corner v is in sight: try the
  // corners shortest first, and the first in sight is the answer.
  const int v = num_corners();
  const float* dist = &to_goal_[static_cast<size_t>(agent) * v];
  std::vector<std::pair<float, int>>& heap = scratch_;
  heap.clear();
  for (int a = 0; a < v; ++a) {
    if (dist[a] < kInf) heap.push_back({-(std::hypot(corner_x_[a] - x, corner_y_[a] - y) + dist[a]), a});
  }
  std::make_heap(heap.begin(), heap.end());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const auto [negative, a] = heap.back();
    heap.pop_back();
    if (Clear(x, y, corner_x_[a], corner_y_[a], skip, skips)) return -negative;
  }
  return straight;
}

}  // namespace rlx
