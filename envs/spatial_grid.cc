#include "envs/spatial_grid.h"

#include <algorithm>
#include <cmath>

namespace rlx {

SpatialGrid::SpatialGrid(double min_x, double min_y, double side, double radius)
    : min_x_(static_cast<float>(min_x)),
      min_y_(static_cast<float>(min_y)),
      // Cells a hair wider than the radius, so float rounding of the cell
      // index can never put two points within `radius` two cells apart.
      inv_cell_(static_cast<float>(1.0 / (radius * (1 + 1e-5)))),
      radius2_(static_cast<float>(radius * radius)) {
  cells_x_ = cells_y_ = std::max(1, static_cast<int>(std::ceil(side / radius) + 1));
  starts_.assign(static_cast<size_t>(cells_x_) * cells_y_ + 1, 0);
}

void SpatialGrid::Rebuild(const float* xy, int n) {
  std::fill(starts_.begin(), starts_.end(), 0);
  cell_of_.resize(n);
  order_.resize(n);
  sorted_xy_.resize(2 * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int cell = CellY(xy[2 * i + 1]) * cells_x_ + CellX(xy[2 * i]);
    cell_of_[i] = cell;
    ++starts_[cell + 1];
  }
  for (size_t c = 1; c < starts_.size(); ++c) starts_[c] += starts_[c - 1];
  // Fill using starts_ as cursors, then shift back.
  for (int i = 0; i < n; ++i) {
    const int k = starts_[cell_of_[i]]++;
    order_[k] = i;
    sorted_xy_[2 * k] = xy[2 * i];
    sorted_xy_[2 * k + 1] = xy[2 * i + 1];
  }
  for (size_t c = starts_.size() - 1; c > 0; --c) starts_[c] = starts_[c - 1];
  starts_[0] = 0;
}

}  // namespace rlx
