#include "cli/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rlx::cli {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters are not allowed in XML 1.0 (tab, newline excepted).
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out.push_back(' ');
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string Coord(double v) { return absl::StrFormat("%.1f", v); }

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    if (!std::isfinite(v)) return;
    low = std::min(low, v);
    high = std::max(high, v);
  }
  bool Empty() const { return low > high; }
};

}  // namespace

std::vector<double> NiceTicks(double low, double high, int count) {
  if (!std::isfinite(low) || !std::isfinite(high) || high < low) return {};
  if (count < 2) count = 2;
  const double span = high - low;
  if (span <= 0) return {low};
  const double raw = span / (count - 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  const double first = std::ceil(low / step - 1e-9) * step;
  for (double t = first; t <= high + step * 1e-9 && ticks.size() < 100; t += step) {
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string ShortNumber(double v) {
  if (!std::isfinite(v)) return "-";
  const double a = std::abs(v);
  auto trim = [](std::string s) {
    if (s.find('.') != std::string::npos) {
      while (!s.empty() && s.back() == '0') s.pop_back();
      if (!s.empty() && s.back() == '.') s.pop_back();
    }
    return s;
  };
  if (a >= 1e9) return trim(absl::StrFormat("%.2f", v / 1e9)) + "G";
  if (a >= 1e6) return trim(absl::StrFormat("%.2f", v / 1e6)) + "M";
  if (a >= 1e4) return trim(absl::StrFormat("%.1f", v / 1e3)) + "k";
  if (a >= 100 || a == 0) return trim(absl::StrFormat("%.0f", v));
  if (a >= 1) return trim(absl::StrFormat("%.2f", v));
  return trim(absl::StrFormat("%.3g", v));
}

std::string RenderSvgPlot(const SvgPlot& plot) {
  const double width = std::max(200, plot.width);
  const double height = std::max(150, plot.height);
  // The legend: entries in rows under the x axis label (never over the data).
  struct LegendEntry {
    std::string color, label;
    bool dashed;
  };
  std::vector<LegendEntry> entries;
  for (const SvgSeries& series : plot.series) entries.push_back({series.color, series.label, false});
  const bool has_target = plot.target && std::isfinite(*plot.target);
  if (has_target) {
    entries.push_back({"#d62728",
                       plot.target_label.empty() ? absl::StrCat("target ", ShortNumber(*plot.target))
                                                 : plot.target_label,
                       true});
  }
  const double left = 72, right = width - 24, top = plot.subtitle.empty() ? 48 : 64;
  // About 6.6 px per character at font-size 12.
  auto entry_width = [](const LegendEntry& e) { return 30 + 6.6 * e.label.size() + 24; };
  std::vector<std::vector<const LegendEntry*>> rows;
  double row_width = 0;
  for (const LegendEntry& e : entries) {
    if (rows.empty() || row_width + entry_width(e) > right - left) {
      rows.emplace_back();
      row_width = 0;
    }
    rows.back().push_back(&e);
    row_width += entry_width(e);
  }
  const double bottom = height - 48 - 18.0 * rows.size();

  Range xr, yr;
  for (const SvgSeries& s : plot.series) {
    for (const SvgPoint& p : s.points) {
      if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
      xr.Add(p.x);
      yr.Add(p.y);
    }
    for (const SvgBandPoint& b : s.band) {
      if (!std::isfinite(b.x) || !std::isfinite(b.low) || !std::isfinite(b.high)) continue;
      xr.Add(b.x);
      yr.Add(b.low);
      yr.Add(b.high);
    }
  }
  if (plot.target && std::isfinite(*plot.target)) yr.Add(*plot.target);
  if (xr.Empty()) xr.low = 0, xr.high = 1;
  if (yr.Empty()) yr.low = 0, yr.high = 1;
  // Curves over steps start at 0; returns get a margin.
  if (xr.low > 0) xr.low = 0;
  if (xr.high <= xr.low) xr.high = xr.low + 1;
  if (yr.high <= yr.low) {
    const double pad = std::max(1.0, std::abs(yr.low) * 0.1);
    yr.low -= pad;
    yr.high += pad;
  } else {
    const double pad = (yr.high - yr.low) * 0.05;
    yr.low -= pad;
    yr.high += pad;
  }
  const std::vector<double> xticks = NiceTicks(xr.low, xr.high, 7);
  const std::vector<double> yticks = NiceTicks(yr.low, yr.high, 8);
  auto X = [&](double x) { return left + (x - xr.low) / (xr.high - xr.low) * (right - left); };
  auto Y = [&](double y) { return bottom - (y - yr.low) / (yr.high - yr.low) * (bottom - top); };

  std::string s;
  absl::StrAppend(&s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  absl::StrAppendFormat(&s,
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                        "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
                        static_cast<int>(width), static_cast<int>(height),
                        static_cast<int>(width), static_cast<int>(height));
  absl::StrAppend(&s, "<title>", Escape(plot.title), "</title>\n");
  absl::StrAppendFormat(&s, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
                        static_cast<int>(width), static_cast<int>(height));
  absl::StrAppend(&s, "<text x=\"", Coord(width / 2), "\" y=\"24\" text-anchor=\"middle\" "
                      "font-size=\"16\" font-weight=\"bold\">", Escape(plot.title), "</text>\n");
  if (!plot.subtitle.empty()) {
    absl::StrAppend(&s, "<text x=\"", Coord(width / 2), "\" y=\"44\" text-anchor=\"middle\" "
                        "fill=\"#555\">", Escape(plot.subtitle), "</text>\n");
  }

  // Grid and tick labels.
  absl::StrAppend(&s, "<g stroke=\"#e5e5e5\" stroke-width=\"1\">\n");
  for (double t : xticks) {
    absl::StrAppend(&s, "<line x1=\"", Coord(X(t)), "\" y1=\"", Coord(top), "\" x2=\"",
                    Coord(X(t)), "\" y2=\"", Coord(bottom), "\"/>\n");
  }
  for (double t : yticks) {
    absl::StrAppend(&s, "<line x1=\"", Coord(left), "\" y1=\"", Coord(Y(t)), "\" x2=\"",
                    Coord(right), "\" y2=\"", Coord(Y(t)), "\"/>\n");
  }
  absl::StrAppend(&s, "</g>\n<g fill=\"#333\">\n");
  for (double t : xticks) {
    absl::StrAppend(&s, "<text x=\"", Coord(X(t)), "\" y=\"", Coord(bottom + 16),
                    "\" text-anchor=\"middle\">", Escape(ShortNumber(t)), "</text>\n");
  }
  for (double t : yticks) {
    absl::StrAppend(&s, "<text x=\"", Coord(left - 6), "\" y=\"", Coord(Y(t) + 4),
                    "\" text-anchor=\"end\">", Escape(ShortNumber(t)), "</text>\n");
  }
  absl::StrAppend(&s, "</g>\n");
  absl::StrAppend(&s, "<rect x=\"", Coord(left), "\" y=\"", Coord(top), "\" width=\"",
                  Coord(right - left), "\" height=\"", Coord(bottom - top),
                  "\" fill=\"none\" stroke=\"#333\"/>\n");
  absl::StrAppend(&s, "<text x=\"", Coord((left + right) / 2), "\" y=\"", Coord(bottom + 34),
                  "\" text-anchor=\"middle\">", Escape(plot.x_label), "</text>\n");
  absl::StrAppend(&s, "<text x=\"18\" y=\"", Coord((top + bottom) / 2),
                  "\" text-anchor=\"middle\" transform=\"rotate(-90 18 ", Coord((top + bottom) / 2),
                  ")\">", Escape(plot.y_label), "</text>\n");

  // Bands, then the target, then the series on top.
  for (const SvgSeries& series : plot.series) {
    std::vector<SvgBandPoint> band;
    for (const SvgBandPoint& b : series.band) {
      if (std::isfinite(b.x) && std::isfinite(b.low) && std::isfinite(b.high)) band.push_back(b);
    }
    if (band.size() < 2) continue;
    std::stable_sort(band.begin(), band.end(),
                     [](const SvgBandPoint& a, const SvgBandPoint& b) { return a.x < b.x; });
    std::string points;
    for (const SvgBandPoint& b : band) {
      absl::StrAppend(&points, points.empty() ? "" : " ", Coord(X(b.x)), ",", Coord(Y(b.high)));
    }
    for (auto it = band.rbegin(); it != band.rend(); ++it) {
      absl::StrAppend(&points, " ", Coord(X(it->x)), ",", Coord(Y(it->low)));
    }
    absl::StrAppend(&s, "<polygon points=\"", points, "\" fill=\"", Escape(series.color),
                    "\" fill-opacity=\"0.15\" stroke=\"none\"/>\n");
  }
  if (has_target) {
    absl::StrAppend(&s, "<line x1=\"", Coord(left), "\" y1=\"", Coord(Y(*plot.target)),
                    "\" x2=\"", Coord(right), "\" y2=\"", Coord(Y(*plot.target)),
                    "\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n");
  }
  for (const SvgSeries& series : plot.series) {
    std::vector<SvgPoint> points;
    for (const SvgPoint& p : series.points) {
      if (std::isfinite(p.x) && std::isfinite(p.y)) points.push_back(p);
    }
    std::stable_sort(points.begin(), points.end(),
                     [](const SvgPoint& a, const SvgPoint& b) { return a.x < b.x; });
    std::string text;
    for (const SvgPoint& p : points) {
      absl::StrAppend(&text, text.empty() ? "" : " ", Coord(X(p.x)), ",", Coord(Y(p.y)));
    }
    absl::StrAppend(&s, "<polyline points=\"", text, "\" fill=\"none\" stroke=\"",
                    Escape(series.color), "\" stroke-width=\"2\" stroke-linejoin=\"round\">",
                    "<title>", Escape(series.label), "</title></polyline>\n");
    if (series.markers || points.size() == 1) {
      for (const SvgPoint& p : points) {
        absl::StrAppend(&s, "<circle cx=\"", Coord(X(p.x)), "\" cy=\"", Coord(Y(p.y)),
                        "\" r=\"2.5\" fill=\"", Escape(series.color), "\"/>\n");
      }
    }
  }

  // Legend rows under the x axis label.
  if (!rows.empty()) absl::StrAppend(&s, "<g>\n");
  for (size_t r = 0; r < rows.size(); ++r) {
    const double y = bottom + 56 + 18.0 * r;
    double x = left;
    for (const LegendEntry* e : rows[r]) {
      absl::StrAppend(&s, "<line x1=\"", Coord(x), "\" y1=\"", Coord(y - 4), "\" x2=\"",
                      Coord(x + 24), "\" y2=\"", Coord(y - 4), "\" stroke=\"", Escape(e->color),
                      "\" stroke-width=\"2\"", e->dashed ? " stroke-dasharray=\"6 4\"" : "",
                      "/>\n");
      absl::StrAppend(&s, "<text x=\"", Coord(x + 30), "\" y=\"", Coord(y), "\">",
                      Escape(e->label), "</text>\n");
      x += entry_width(*e);
    }
  }
  if (!rows.empty()) absl::StrAppend(&s, "</g>\n");
  absl::StrAppend(&s, "</svg>\n");
  return s;
}

}  // namespace rlx::cli
