#include "cli/job_file.h"

#include <cmath>
#include <vector>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/file_util.h"
#include "envs/registry.h"

namespace rlx::cli {
namespace {

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<JobSpec> ParseJobText(const std::string& contents) {
  JobSpec spec;
  const absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(contents);
  if (!trimmed.empty() && trimmed[0] == '{') {
    const auto status = google::protobuf::util::JsonStringToMessage(contents, &spec);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("JSON: ", status.message().as_string()));
    }
    return spec;
  }
  struct Collector : google::protobuf::io::ErrorCollector {
    std::string errors;
    void AddError(int line, int column, const std::string& message) override {
      absl::StrAppend(&errors, errors.empty() ? "" : "; ", "line ", line + 1, ":", column + 1,
                      ": ", message);
    }
  } collector;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  if (!parser.ParseFromString(contents, &spec)) {
    return absl::InvalidArgumentError(collector.errors);
  }
  return spec;
}

absl::StatusOr<JobSpec> ReadJobFile(const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFileToString(path);
  if (!contents.ok()) {
    return absl::NotFoundError(absl::StrCat("cannot read job file ", path));
  }
  absl::StatusOr<JobSpec> spec = ParseJobText(*contents);
  if (!spec.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed job file ", path, ": ", spec.status().message()));
  }
  return spec;
}

absl::Status CheckJobSpec(const JobSpec& spec) {
  std::vector<std::string> errors;
  auto bad = [&](const std::string& field, const std::string& what) {
    errors.push_back(absl::StrCat(field, ": ", what));
  };
  if (!ValidName(spec.name())) {
    bad("name", absl::StrCat("must be 1-128 of [A-Za-z0-9_.-], got '", spec.name(), "'"));
  }
  const std::string& algorithm = spec.algorithm();
  if (algorithm != "stream_ac" && algorithm != "stream_q" && algorithm != "stream_td") {
    bad("algorithm", absl::StrCat("unknown algorithm '", algorithm,
                                  "' (stream_ac, stream_q, stream_td)"));
  }
  if (absl::StatusOr<std::unique_ptr<Env>> env = MakeEnv(spec.env()); !env.ok()) {
    bad("env", std::string(env.status().message()));
  }
  if (spec.num_actors() < 0) bad("num_actors", absl::StrCat("must be >= 1, got ", spec.num_actors()));
  if (spec.envs_per_actor() < 0) {
    bad("envs_per_actor", absl::StrCat("must be >= 1, got ", spec.envs_per_actor()));
  }
  if (spec.table_max_size() < 0) {
    bad("table_max_size", absl::StrCat("must be >= 1, got ", spec.table_max_size()));
  }
  const StopRule& stop = spec.stop();
  if (stop.max_env_steps() < 0) {
    bad("stop.max_env_steps", absl::StrCat("must be >= 0, got ", stop.max_env_steps()));
  }
  if (stop.max_wall_seconds() < 0 || !std::isfinite(stop.max_wall_seconds())) {
    bad("stop.max_wall_seconds", absl::StrCat("must be >= 0, got ", stop.max_wall_seconds()));
  }
  if (stop.max_env_steps() == 0 && stop.max_wall_seconds() == 0 && !stop.has_target_eval_return()) {
    bad("stop", "set at least one of max_env_steps, max_wall_seconds, target_eval_return");
  }
  if (stop.has_target_eval_return() && spec.eval().every_learner_steps() <= 0) {
    bad("stop.target_eval_return", "needs eval.every_learner_steps > 0");
  }
  if (spec.eval().every_learner_steps() < 0) bad("eval.every_learner_steps", "must be >= 0");
  if (spec.eval().episodes() < 0) bad("eval.episodes", "must be >= 0");
  if (spec.publish_every() < 0) {
    bad("publish_every", absl::StrCat("must be >= 1, got ", spec.publish_every()));
  }
  if (spec.has_max_policy_lag() && spec.max_policy_lag() < -1) {
    bad("max_policy_lag", absl::StrCat("must be >= -1, got ", spec.max_policy_lag()));
  }
  if (!spec.device().empty() && spec.device() != "cpu" && spec.device() != "cuda") {
    bad("device", absl::StrCat("must be cpu or cuda, got '", spec.device(), "'"));
  }
  if (spec.checkpoint_every_steps() < 0) bad("checkpoint_every_steps", "must be >= 1");
  const std::string& td = spec.stream_x().td_policy();
  if (!td.empty() && td != "random" && td != "cartpole_balance") {
    bad("stream_x.td_policy", absl::StrCat("must be random or cartpole_balance, got '", td, "'"));
  }
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("invalid job: ", absl::StrJoin(errors, "; ")));
}

}  // namespace rlx::cli
