// A line chart as a standalone SVG document (no scripts, no external
// resources): axes with round tick values, one <polyline> per series (and
// nothing else is a polyline), an optional translucent band per series
// (<polygon>), an optional horizontal target line (<line>, dashed), a title
// and a legend. `rlctl plot` and `rlctl run` draw learning curves with it
// (cli/learning_curve.h).
//
// Stateless and deterministic: the same plot gives the same bytes.
#ifndef RLX_CLI_SVG_PLOT_H_
#define RLX_CLI_SVG_PLOT_H_

#include <optional>
#include <string>
#include <vector>

namespace rlx::cli {

struct SvgPoint {
  double x = 0;
  double y = 0;
};

struct SvgBandPoint {
  double x = 0;
  double low = 0;
  double high = 0;
};

struct SvgSeries {
  std::string label;           // legend text
  std::string color = "#1f77b4";
  std::vector<SvgPoint> points;  // drawn in x order; non-finite points are skipped
  std::vector<SvgBandPoint> band;  // optional shaded range (e.g. min..max)
  bool markers = false;        // a dot at each point
};

struct SvgPlot {
  std::string title;
  std::string subtitle;  // a second, smaller line under the title (may be empty)
  std::string x_label;
  std::string y_label;
  std::vector<SvgSeries> series;
  std::optional<double> target;  // a dashed horizontal line
  std::string target_label;
  int width = 800;
  int height = 500;
};

// The document, starting with an XML declaration. Every text is escaped.
// With no finite point at all, the axes span [0, 1].
std::string RenderSvgPlot(const SvgPlot& plot);

// Tick values covering [low, high] at a round step (1, 2 or 5 times a power
// of ten) giving about `count` ticks; low <= high.
std::vector<double> NiceTicks(double low, double high, int count);

// "60k", "1.5M", "250", "0.25": short axis labels.
std::string ShortNumber(double v);

}  // namespace rlx::cli

#endif  // RLX_CLI_SVG_PLOT_H_
