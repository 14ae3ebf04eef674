#include "envs/navigation_svg.h"

#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rlx {

void NavigationPathRecorder::Record(const NavigationEnv& env) {
  if (frames_.empty()) {
    side_ = env.side();
    obstacles_ = env.obstacles();
    goals_ = env.goals();
  }
  frames_.push_back(env.positions());
  stats_ = env.stats();
}

std::string NavigationPathRecorder::Svg(const std::string& title) const {
  const double size = 800, margin = 0.5;
  const double scale = size / (side_ + 2 * margin);
  auto X = [&](double x) { return (x + margin) * scale; };
  auto Y = [&](double y) { return size - (y + margin) * scale; };  // y up
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f "
      "%.0f\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n"
      "<text x=\"8\" y=\"20\" font-family=\"sans-serif\" font-size=\"14\">%s</text>\n",
      size, size + 10, size, size + 10, X(0), Y(side_), side_ * scale, side_ * scale, title);
  for (const Obstacle& o : obstacles_) {
    std::string points;
    for (int k = 0; k < 4; ++k) {
      const double sx = (k == 0 || k == 3) ? -o.hw : o.hw, sy = k < 2 ? -o.hh : o.hh;
      absl::StrAppendFormat(&points, "%.1f,%.1f ", X(o.cx + o.c * sx - o.s * sy),
                            Y(o.cy + o.s * sx + o.c * sy));
    }
    absl::StrAppendFormat(&svg, "<polygon points=\"%s\" fill=\"#555\"/>\n", points);
  }
  const size_t agents = goals_.size() / 2;
  for (size_t i = 0; i < agents && !frames_.empty(); ++i) {
    const NavigationAgentStats& s = stats_[i];
    const char* color = s.success() ? "#2a9d3a" : (s.collided ? "#d62728" : "#888");
    std::string path;
    for (size_t t = 0; t < frames_.size(); t += 2) {
      absl::StrAppendFormat(&path, "%s%.1f,%.1f ", t == 0 ? "M" : "L", X(frames_[t][2 * i]),
                            Y(frames_[t][2 * i + 1]));
    }
    absl::StrAppendFormat(&svg,
                          "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\" "
                          "opacity=\"0.8\"/>\n",
                          path, color);
    absl::StrAppendFormat(&svg, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>\n",
                          X(frames_[0][2 * i]), Y(frames_[0][2 * i + 1]),
                          nav::kAgentRadius * scale, color);
    const double gx = X(goals_[2 * i]), gy = Y(goals_[2 * i + 1]), r = 4;
    absl::StrAppendFormat(&svg,
                          "<path d=\"M%.1f,%.1f L%.1f,%.1f M%.1f,%.1f L%.1f,%.1f\" stroke=\"%s\" "
                          "stroke-width=\"1.5\"/>\n",
                          gx - r, gy - r, gx + r, gy + r, gx - r, gy + r, gx + r, gy - r, color);
  }
  svg += "</svg>\n";
  return svg;
}

absl::Status NavigationPathRecorder::WriteSvg(const std::string& path,
                                              const std::string& title) const {
  std::ofstream out(path);
  out << Svg(title);
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace rlx
