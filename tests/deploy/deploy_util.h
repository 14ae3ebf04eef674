// Helpers for the deployment tests (tests/deploy/): finding external tools,
// running them with a time limit, starting the real topology, talking to the
// learner's JobService and to Prometheus's HTTP API.
#ifndef RLX_TESTS_DEPLOY_DEPLOY_UTIL_H_
#define RLX_TESTS_DEPLOY_DEPLOY_UTIL_H_

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cli/process.h"
#include "core/file_util.h"
#include "job.grpc.pb.h"
#include "replay/client.h"
#include "tests/test_util.h"

namespace rlx::deploy {

inline std::string SourceDir() { return RLX_SOURCE_DIR; }

// Absolute path of an executable found in $PATH, or nullopt.
inline std::optional<std::string> FindTool(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  absl::StrAppend(&dirs, ":/usr/sbin:/sbin");
  for (absl::string_view dir : absl::StrSplit(dirs, ':', absl::SkipEmpty())) {
    const std::string full = absl::StrCat(dir, "/", name);
    if (::access(full.c_str(), X_OK) == 0) return full;
  }
  return std::nullopt;
}

// GTEST_SKIP()s the calling test when a tool is missing.
#define RLX_REQUIRE_TOOL(var, name)                                                     \
  const std::optional<std::string> var = ::rlx::deploy::FindTool(name);                 \
  if (!var) GTEST_SKIP() << "'" << name << "' is not installed (scripts/install-deps.sh " \
                                            "installs it); skipping"

struct RunResult {
  int exit_code = -1;  // -1: timed out (killed)
  std::string output;  // stdout + stderr
};

// Runs argv to completion (at most timeout), capturing its output.
inline RunResult RunTool(const std::vector<std::string>& argv,
                         absl::Duration timeout = absl::Seconds(60)) {
  static int counter = 0;
  const std::string log = absl::StrCat("/tmp/rlx_deploy_run_", ::getpid(), "_", counter++, ".log");
  RunResult r;
  auto p = Subprocess::Start(argv, log);
  if (!p.ok()) {
    r.output = p.status().ToString();
    return r;
  }
  std::optional<int> code = p->Wait(timeout);
  r.exit_code = code ? *code : -1;
  auto out = ReadFileToString(log);
  if (out.ok()) r.output = *out;
  ::unlink(log.c_str());
  return r;
}

// A TCP port that was free a moment ago on 127.0.0.1 (0 if none could be had).
inline int FreePort() {
  const absl::StatusOr<int> port = cli::PickFreePort("127.0.0.1");
  return port.ok() ? *port : 0;
}

using Proc = ServingProcess;

// Starts the real binaries on 127.0.0.1 with free ports and --port_file
// (like tests/e2e/distributed_test.cc), every one serving /metrics.
class LocalTopology {
 public:
  explicit LocalTopology(std::string dir) : dir_(std::move(dir)) {}

  absl::StatusOr<Proc> Start(const std::string& binary, const std::string& tag,
                             std::vector<std::string> extra,
                             absl::Duration timeout = absl::Seconds(60)) {
    return StartWithPortFile(dir_, binary, tag, extra, timeout);
  }

  // replay, learner, `actors` actors, the evaluator and the preference server.
  absl::Status StartAll(int actors) {
    auto replay = Start("replay_server", "replay",
                        {"--host=127.0.0.1", "--port=0", "--metrics_port=-1",
                         "--checkpoint_dir=" + dir_ + "/replay"});
    if (!replay.ok()) return replay.status();
    procs.push_back(std::move(*replay));
    const int replay_port = procs[0].port;
    auto learner = Start("learner", "learner",
                         {"--host=127.0.0.1", "--port=0", "--metrics_port=-1",
                          absl::StrCat("--replay=127.0.0.1:", replay_port),
                          "--checkpoint_dir=" + dir_ + "/learner"});
    if (!learner.ok()) return learner.status();
    procs.push_back(std::move(*learner));
    const int learner_port = procs[1].port;
    for (int i = 0; i < actors; ++i) {
      const std::string name = absl::StrCat("actor", i);
      auto actor = Start("actor", name,
                         {absl::StrCat("--learner=127.0.0.1:", learner_port),
                          absl::StrCat("--replay=127.0.0.1:", replay_port), "--name=" + name,
                          "--metrics_port=-1"});
      if (!actor.ok()) return actor.status();
      procs.push_back(std::move(*actor));
    }
    auto eval = Start("evaluator", "evaluator",
                      {absl::StrCat("--learner=127.0.0.1:", learner_port),
                       "--out_dir=" + dir_ + "/out", "--metrics_port=-1"});
    if (!eval.ok()) return eval.status();
    procs.push_back(std::move(*eval));
    auto preference = Start("preference_server", "preference",
                            {"--host=127.0.0.1", "--port=0", "--metrics_port=-1"});
    if (!preference.ok()) return preference.status();
    procs.push_back(std::move(*preference));
    return absl::OkStatus();
  }

  Proc& replay() { return procs[0]; }
  Proc& learner() { return procs[1]; }
  const std::string& dir() const { return dir_; }

  std::vector<Proc> procs;  // replay, learner, actors..., evaluator, preference

 private:
  std::string dir_;
};

// A CartPole job that runs until cancelled (no stop target, no evaluation).
inline JobSpec EndlessCartPoleJob(const std::string& name, int actors) {
  JobSpec spec;
  spec.set_name(name);
  spec.set_algorithm("stream_ac");
  spec.set_env("CartPole-v1");
  spec.set_num_actors(actors);
  spec.set_seed(5);
  spec.set_publish_every(10);
  spec.mutable_stop()->set_max_env_steps(100000000);
  spec.set_table_max_size(256);
  spec.set_max_policy_lag(32);
  return spec;
}

inline absl::StatusOr<JobStatus> SubmitJob(int learner_port, const JobSpec& spec) {
  auto stub = JobService::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", learner_port)));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  SubmitJobRequest r;
  *r.mutable_spec() = spec;
  JobStatus s;
  grpc::Status st = stub->Submit(&ctx, r, &s);
  if (!st.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
  }
  return s;
}

inline absl::StatusOr<JobStatus> GetJob(int learner_port, const std::string& name) {
  auto stub = JobService::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", learner_port)));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  GetJobRequest r;
  r.set_name(name);
  JobStatus s;
  grpc::Status st = stub->Get(&ctx, r, &s);
  if (!st.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
  }
  return s;
}

// Metric names in a Prometheus text exposition (series names, so histograms
// appear as NAME_bucket / NAME_sum / NAME_count).
inline std::set<std::string> ExposedNames(const std::string& text) {
  std::set<std::string> names;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (line[0] == '#') continue;
    size_t end = 0;
    while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) ||
                                 line[end] == '_' || line[end] == ':')) {
      ++end;
    }
    if (end > 0) names.emplace(line.substr(0, end));
  }
  return names;
}

// rl_* identifiers in a PromQL expression (or any text).
inline std::set<std::string> RlMetricNames(absl::string_view text) {
  std::set<std::string> names;
  for (size_t i = 0; i + 3 <= text.size(); ++i) {
    const bool boundary = i == 0 || !(std::isalnum(static_cast<unsigned char>(text[i - 1])) ||
                                      text[i - 1] == '_');
    if (!boundary || text.substr(i, 3) != "rl_") continue;
    size_t end = i;
    while (end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
      ++end;
    }
    names.emplace(text.substr(i, end - i));
    i = end;
  }
  return names;
}

// True when `name` (as a query uses it) is exposed: directly, or as a
// histogram/summary whose NAME_count is exposed.
inline bool NameExposed(const std::string& name, const std::set<std::string>& exposed) {
  if (exposed.count(name)) return true;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const std::string base = name.substr(0, name.size() - s.size());
      if (exposed.count(base + "_count") || exposed.count(base + "_sum")) return true;
    }
  }
  return false;
}

// Parses a JSON document into a protobuf Struct (arbitrary JSON objects).
inline absl::StatusOr<google::protobuf::Struct> ParseJson(const std::string& json) {
  google::protobuf::Struct s;
  auto st = google::protobuf::util::JsonStringToMessage(json, &s);
  if (!st.ok()) return absl::InvalidArgumentError(std::string(st.message()));
  return s;
}

// One element of a Prometheus instant-vector result: labels and value.
struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

// GET /api/v1/query?query=... on a local Prometheus.
inline absl::StatusOr<std::vector<Sample>> PromQuery(int port, const std::string& query) {
  auto body = HttpGet("127.0.0.1", port, "/api/v1/query?query=" + UrlEncode(query));
  if (!body.ok()) return body.status();
  auto doc = ParseJson(*body);
  if (!doc.ok()) return doc.status();
  const auto& f = doc->fields();
  if (!f.count("status") || f.at("status").string_value() != "success") {
    return absl::InternalError("query failed: " + *body);
  }
  std::vector<Sample> out;
  const auto& result = f.at("data").struct_value().fields().at("result").list_value();
  for (const auto& v : result.values()) {
    const auto& e = v.struct_value().fields();
    Sample s;
    for (const auto& [k, lv] : e.at("metric").struct_value().fields()) s.labels[k] = lv.string_value();
    const auto& pair = e.at("value").list_value();
    if (pair.values_size() == 2) (void)absl::SimpleAtod(pair.values(1).string_value(), &s.value);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rlx::deploy

#endif  // RLX_TESTS_DEPLOY_DEPLOY_UTIL_H_
