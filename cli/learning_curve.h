// The learning curve of a job, for `rlctl plot` and the end of `rlctl run`.
//
// Data (nothing is made up):
//  - the evaluation curve the evaluator writes, <out_dir>/<job>/eval_curve.csv
//    (learner_step,policy_version,mean_return,min,max,episodes; a learner's
//    step is one env step learned, so the x axis is env steps learned);
//  - the training return: the learner keeps no series of it on disk, only
//    JobStatus.mean_return (the mean of the last 10 training episodes) at the
//    moment it is asked. `rlctl watch` and `rlctl run` of a local topology
//    record what they are sent into <out_dir>/<job>/train_return.csv
//    (env_steps,mean_return,episodes; a row when the episode count grew), so
//    a job has a training-return series for the stretches someone watched
//    it, at the watch interval, and none otherwise.
//
// RenderLearningCurve draws them (cli/svg_plot.h): the evaluation mean (with
// its min..max band) and the training return against env steps, and the
// job's stop.target_eval_return as a dashed line when it has one.
#ifndef RLX_CLI_LEARNING_CURVE_H_
#define RLX_CLI_LEARNING_CURVE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "job.pb.h"

namespace rlx::cli {

struct EvalCurvePoint {
  int64_t learner_step = 0;
  double mean_return = 0, min_return = 0, max_return = 0;
  int64_t episodes = 0;
};

struct TrainReturnPoint {
  int64_t env_steps = 0;
  double mean_return = 0;
  int64_t episodes = 0;
};

inline constexpr char kEvalCurveFile[] = "eval_curve.csv";
inline constexpr char kTrainReturnFile[] = "train_return.csv";
inline constexpr char kLearningCurveFile[] = "learning_curve.svg";

// NOT_FOUND when the file is missing; rows that do not parse (the header)
// are skipped. In file order.
absl::StatusOr<std::vector<EvalCurvePoint>> ReadEvalCurve(const std::string& path);
absl::StatusOr<std::vector<TrainReturnPoint>> ReadTrainReturn(const std::string& path);

// Appends a JobStatus's training return to <job_dir>/train_return.csv, one
// row per status whose episode count grew since the last row. A file whose
// last row is ahead of the first status recorded belongs to an older job of
// the same name and is started again. Errors are ignored (the series is a
// convenience; the run goes on).
class TrainReturnRecorder {
 public:
  explicit TrainReturnRecorder(std::string job_dir) : dir_(std::move(job_dir)) {}
  void Record(const JobStatus& status);
  const std::string& path() const { return path_; }

 private:
  void Init(int64_t env_steps);
  std::string dir_, path_;
  bool initialised_ = false;
  int64_t last_steps_ = -1, last_episodes_ = 0;
};

struct LearningCurveData {
  std::string job;
  std::string subtitle;  // e.g. "stream_ac on CartPole-v1, SUCCEEDED"
  std::vector<EvalCurvePoint> eval;
  std::vector<TrainReturnPoint> train;
  std::optional<double> target;  // stop.target_eval_return
};

// The SVG: one <polyline> per series present (evaluation, training return).
std::string RenderLearningCurve(const LearningCurveData& data);

// The subtitle of a job: "<algorithm> on <env>, <STATE> after N env steps".
std::string JobSubtitle(const JobStatus& status);

// Reads <job_dir>/eval_curve.csv and train_return.csv (either may be
// missing, not both: NOT_FOUND), writes the SVG to svg_path (atomically) and
// returns a one-line description of what it drew ("evaluation (12 points),
// training return (30 points)").
absl::StatusOr<std::string> WriteLearningCurve(const std::string& job_dir,
                                               const JobStatus& status,
                                               const std::string& svg_path);

}  // namespace rlx::cli

#endif  // RLX_CLI_LEARNING_CURVE_H_
