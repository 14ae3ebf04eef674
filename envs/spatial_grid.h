// SpatialGrid: a uniform grid over 2-D points for fixed-radius neighbour
// queries in O(N) per rebuild. Cells are `radius` wide, so every point
// within `radius` of a query lies in its cell or one of the 8 around it.
// Points outside the grid's box are clamped into the border cells (clamping
// keeps two points within `radius` in the same or adjacent cells, so queries
// stay exact anywhere).
//
// Rebuild is a counting sort: no allocation once the buffers have grown.
// Not thread-safe; queries are const and may run concurrently.
#ifndef RLX_ENVS_SPATIAL_GRID_H_
#define RLX_ENVS_SPATIAL_GRID_H_

#include <cstdint>
#include <vector>

namespace rlx {

class SpatialGrid {
 public:
  // Covers [min_x, min_x + side] x [min_y, min_y + side] with cells of `radius`.
  SpatialGrid(double min_x, double min_y, double side, double radius);

  // Indexes n points, xy[2 * i], xy[2 * i + 1] (interleaved).
  void Rebuild(const float* xy, int n);

  // Calls visit(j, dx, dy, d2) for every indexed point j != self with
  // squared distance d2 = dx^2 + dy^2 < radius^2, where (dx, dy) = p_j - (x, y).
  template <typename Visit>
  void ForEachWithin(float x, float y, int self, Visit&& visit) const {
    const int cx = CellX(x), cy = CellY(y);
    const float r2 = radius2_;
    // The three cells of a row are adjacent in cell order, so their points
    // are one range of the sorted arrays.
    const int x0 = cx > 0 ? cx - 1 : 0, x1 = cx + 1 < cells_x_ ? cx + 1 : cells_x_ - 1;
    for (int gy = cy - 1; gy <= cy + 1; ++gy) {
      if (gy < 0 || gy >= cells_y_) continue;
      const int end = starts_[gy * cells_x_ + x1 + 1];
      for (int k = starts_[gy * cells_x_ + x0]; k < end; ++k) {
        const float dx = sorted_xy_[2 * k] - x, dy = sorted_xy_[2 * k + 1] - y;
        const float d2 = dx * dx + dy * dy;
        if (d2 < r2 && order_[k] != self) visit(order_[k], dx, dy, d2);
      }
    }
  }

  int CellX(float x) const { return Clamp(static_cast<int>((x - min_x_) * inv_cell_), cells_x_); }
  int CellY(float y) const { return Clamp(static_cast<int>((y - min_y_) * inv_cell_), cells_y_); }
  int cells_x() const { return cells_x_; }
  int cells_y() const { return cells_y_; }

 private:
  static int Clamp(int c, int n) { return c < 0 ? 0 : (c >= n ? n - 1 : c); }
  float min_x_, min_y_, inv_cell_, radius2_;
  int cells_x_, cells_y_;
  std::vector<int> starts_;      // cells + 1
  std::vector<int> order_;       // point indices sorted by cell
  std::vector<int> cell_of_;     // per point
  std::vector<float> sorted_xy_; // positions in sorted order
};

}  // namespace rlx

#endif  // RLX_ENVS_SPATIAL_GRID_H_
