#include "cli/learning_curve.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/svg_plot.h"
#include "core/file_util.h"

namespace rlx::cli {
namespace {

constexpr char kTrainHeader[] = "env_steps,mean_return,episodes\n";

absl::StatusOr<std::vector<std::vector<std::string>>> ReadCsvRows(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("no file ", path));
  std::vector<std::vector<std::string>> rows;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
    rows.push_back(absl::StrSplit(absl::StripTrailingAsciiWhitespace(line), ','));
  }
  return rows;
}

std::string StateName(JobState state) {
  return std::string(absl::StripPrefix(JobState_Name(state), "JOB_"));
}

}  // namespace

absl::StatusOr<std::vector<EvalCurvePoint>> ReadEvalCurve(const std::string& path) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = ReadCsvRows(path);
  if (!rows.ok()) return rows.status();
  std::vector<EvalCurvePoint> out;
  for (const auto& f : *rows) {
    EvalCurvePoint p;
    if (f.size() < 6 || !absl::SimpleAtoi(f[0], &p.learner_step) ||
        !absl::SimpleAtod(f[2], &p.mean_return) || !absl::SimpleAtod(f[3], &p.min_return) ||
        !absl::SimpleAtod(f[4], &p.max_return) || !absl::SimpleAtoi(f[5], &p.episodes)) {
      continue;  // the header, or a row being written
    }
    out.push_back(p);
  }
  return out;
}

absl::StatusOr<std::vector<TrainReturnPoint>> ReadTrainReturn(const std::string& path) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = ReadCsvRows(path);
  if (!rows.ok()) return rows.status();
  std::vector<TrainReturnPoint> out;
  for (const auto& f : *rows) {
    TrainReturnPoint p;
    if (f.size() < 3 || !absl::SimpleAtoi(f[0], &p.env_steps) ||
        !absl::SimpleAtod(f[1], &p.mean_return) || !absl::SimpleAtoi(f[2], &p.episodes)) {
      continue;
    }
    out.push_back(p);
  }
  return out;
}

void TrainReturnRecorder::Init(int64_t env_steps) {
  initialised_ = true;
  path_ = absl::StrCat(dir_, "/", kTrainReturnFile);
  if (!MakeDirs(dir_).ok()) return;
  absl::StatusOr<std::vector<TrainReturnPoint>> old = ReadTrainReturn(path_);
  if (old.ok() && !old->empty() && old->back().env_steps <= env_steps) {
    last_steps_ = old->back().env_steps;  // the same job, watched before
    last_episodes_ = old->back().episodes;
    return;
  }
  (void)WriteStringAtomically(path_, kTrainHeader);
  last_steps_ = -1;
  last_episodes_ = 0;
}

void TrainReturnRecorder::Record(const JobStatus& s) {
  if (s.episodes() <= 0 || !std::isfinite(s.mean_return())) return;
  if (!initialised_) Init(s.env_steps());
  if (path_.empty() || s.env_steps() <= last_steps_ || s.episodes() <= last_episodes_) return;
  std::ofstream out(path_, std::ios::app);
  out << absl::StrFormat("%d,%.6g,%d\n", s.env_steps(), s.mean_return(), s.episodes());
  out.flush();
  if (!out) return;
  last_steps_ = s.env_steps();
  last_episodes_ = s.episodes();
}

std::string RenderLearningCurve(const LearningCurveData& data) {
  SvgPlot plot;
  plot.title = absl::StrCat("Learning curve: ", data.job);
  plot.subtitle = data.subtitle;
  plot.x_label = "env steps learned (= learner steps)";
  plot.y_label = "episode return";
  if (!data.eval.empty()) {
    SvgSeries eval;
    eval.label = "evaluation: mean greedy return (band: min..max)";
    eval.color = "#1f77b4";
    eval.markers = true;
    for (const EvalCurvePoint& p : data.eval) {
      eval.points.push_back({static_cast<double>(p.learner_step), p.mean_return});
      eval.band.push_back({static_cast<double>(p.learner_step), p.min_return, p.max_return});
    }
    plot.series.push_back(std::move(eval));
  }
  if (!data.train.empty()) {
    SvgSeries train;
    train.label = "training: mean return of the last 10 episodes";
    train.color = "#ff7f0e";
    for (const TrainReturnPoint& p : data.train) {
      train.points.push_back({static_cast<double>(p.env_steps), p.mean_return});
    }
    plot.series.push_back(std::move(train));
  }
  if (data.target) {
    plot.target = data.target;
    plot.target_label = absl::StrCat("target ", ShortNumber(*data.target), " (stop rule)");
  }
  return RenderSvgPlot(plot);
}

std::string JobSubtitle(const JobStatus& s) {
  std::string out = absl::StrCat(s.spec().algorithm(), " on ", s.spec().env());
  if (s.state() != JOB_STATE_UNSPECIFIED) {
    absl::StrAppend(&out, ", ", StateName(s.state()), " at ", s.env_steps(), " env steps");
  }
  return out;
}

absl::StatusOr<std::string> WriteLearningCurve(const std::string& job_dir,
                                               const JobStatus& status,
                                               const std::string& svg_path) {
  LearningCurveData data;
  data.job = status.name();
  data.subtitle = JobSubtitle(status);
  const std::string eval_path = absl::StrCat(job_dir, "/", kEvalCurveFile);
  const std::string train_path = absl::StrCat(job_dir, "/", kTrainReturnFile);
  if (auto eval = ReadEvalCurve(eval_path); eval.ok()) data.eval = *eval;
  if (auto train = ReadTrainReturn(train_path); train.ok()) data.train = *train;
  if (data.eval.empty() && data.train.empty()) {
    return absl::NotFoundError(absl::StrCat("nothing to plot for ", status.name(), ": no rows in ",
                                            eval_path, " or ", train_path));
  }
  if (status.spec().stop().has_target_eval_return()) {
    data.target = status.spec().stop().target_eval_return();
  }
  if (const size_t slash = svg_path.rfind('/'); slash != std::string::npos && slash > 0) {
    if (absl::Status s = MakeDirs(svg_path.substr(0, slash)); !s.ok()) return s;
  }
  if (absl::Status s = WriteStringAtomically(svg_path, RenderLearningCurve(data)); !s.ok()) {
    return s;
  }
  std::string what;
  auto points = [](size_t n) { return absl::StrCat(n, n == 1 ? " point" : " points"); };
  if (!data.eval.empty()) absl::StrAppend(&what, "evaluation (", points(data.eval.size()), ")");
  if (!data.train.empty()) {
    absl::StrAppend(&what, what.empty() ? "" : ", ", "training return (",
                    points(data.train.size()), ")");
  }
  if (data.target) absl::StrAppend(&what, ", target ", ShortNumber(*data.target));
  if (data.train.empty()) {
    absl::StrAppend(&what, "; no training-return series (", train_path,
                    " is written only while `rlctl watch` or `rlctl run` follows the job)");
  }
  return what;
}

}  // namespace rlx::cli
