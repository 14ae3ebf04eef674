#include "cli/monitor.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/file_util.h"

#ifndef RLX_CLI_SOURCE_DIR
#define RLX_CLI_SOURCE_DIR ""
#endif

namespace rlx::cli {
namespace {

bool IsExecutableFile(const std::string& path) {
  return !path.empty() && ::access(path.c_str(), X_OK) == 0 && FileExists(path);
}

// A YAML double-quoted scalar.
std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string Seconds(absl::Duration d) {
  const int64_t ms = absl::ToInt64Milliseconds(d);
  return ms % 1000 == 0 ? absl::StrCat(ms / 1000, "s") : absl::StrCat(ms, "ms");
}

}  // namespace

std::string PrometheusJob(const std::string& process) {
  if (absl::StartsWith(process, "actor-")) return "actor";
  return process;
}

std::string MonitorDir(const std::string& state_dir) { return state_dir + "/monitor"; }
std::string PrometheusConfigPath(const std::string& state_dir) {
  return MonitorDir(state_dir) + "/prometheus.yml";
}
std::string MonitorRulesPath(const std::string& state_dir) {
  return MonitorDir(state_dir) + "/alerts.yml";
}
std::string PrometheusDataDir(const std::string& state_dir) {
  return MonitorDir(state_dir) + "/data";
}

std::string PrometheusConfig(const std::vector<ScrapeTarget>& targets, absl::Duration interval,
                             const std::string& rules_file, const std::string& comment) {
  if (interval < absl::Seconds(1)) interval = absl::Seconds(1);
  const absl::Duration timeout = std::min(interval, absl::Seconds(10));
  std::string s;
  for (absl::string_view line : absl::StrSplit(comment, '\n', absl::SkipEmpty())) {
    absl::StrAppend(&s, "# ", line, "\n");
  }
  absl::StrAppend(&s, "global:\n  scrape_interval: ", Seconds(interval),
                  "\n  scrape_timeout: ", Seconds(timeout), "\n  evaluation_interval: ",
                  Seconds(interval), "\n  external_labels:\n    system: rlx\n\n");
  if (!rules_file.empty()) absl::StrAppend(&s, "rule_files:\n  - ", Quoted(rules_file), "\n\n");
  // Jobs in the order their first target comes.
  std::vector<std::string> jobs;
  for (const ScrapeTarget& t : targets) {
    const std::string job = PrometheusJob(t.process);
    if (std::find(jobs.begin(), jobs.end(), job) == jobs.end()) jobs.push_back(job);
  }
  absl::StrAppend(&s, "scrape_configs:\n");
  if (jobs.empty()) absl::StrAppend(&s, "  []\n");
  for (const std::string& job : jobs) {
    absl::StrAppend(&s, "  - job_name: ", Quoted(job), "\n    static_configs:\n");
    for (const ScrapeTarget& t : targets) {
      if (PrometheusJob(t.process) != job) continue;
      absl::StrAppend(&s, "      - targets: [", Quoted(absl::StrCat("127.0.0.1:", t.port)),
                      "]\n        labels:\n          process: ", Quoted(t.process), "\n");
    }
  }
  return s;
}

std::string DefaultPrometheusBinary() {
  const char* path = std::getenv("PATH");
  if (path != nullptr) {
    for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
      const std::string candidate = absl::StrCat(dir, "/prometheus");
      if (absl::StartsWith(candidate, "/") && IsExecutableFile(candidate)) return candidate;
    }
  }
  return "/usr/bin/prometheus";
}

absl::Status CheckPrometheusBinary(const std::string& path) {
  if (IsExecutableFile(path)) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat(
      "--monitor needs the Prometheus server: no executable at ", path,
      " (install Debian's package '", kPrometheusPackage, "': apt-get install ",
      kPrometheusPackage, "; or pass --prometheus_binary=PATH)"));
}

std::vector<std::string> AlertRulesCandidates(const std::string& rlctl_binary) {
  constexpr char kRelative[] = "/deploy/prometheus/alerts.yml";
  std::vector<std::string> out;
  std::string dir = rlctl_binary.substr(0, rlctl_binary.rfind('/'));
  while (!dir.empty()) {
    out.push_back(dir + kRelative);
    dir = dir.substr(0, dir.rfind('/'));
  }
  const std::string compiled = RLX_CLI_SOURCE_DIR;
  if (!compiled.empty()) {
    const std::string path = compiled + kRelative;
    if (std::find(out.begin(), out.end(), path) == out.end()) out.push_back(path);
  }
  return out;
}

absl::StatusOr<std::string> FindAlertRules(const std::string& flag,
                                           const std::string& rlctl_binary) {
  if (!flag.empty()) {
    if (FileExists(flag)) return flag;
    return absl::NotFoundError(absl::StrCat("--alert_rules: no file ", flag));
  }
  const std::vector<std::string> candidates = AlertRulesCandidates(rlctl_binary);
  for (const std::string& path : candidates) {
    if (FileExists(path)) return path;
  }
  return absl::NotFoundError(absl::StrCat(
      "--monitor: cannot find the alert rules (deploy/prometheus/alerts.yml of the rlx "
      "sources); looked at ",
      absl::StrJoin(candidates, ", "), "; pass --alert_rules=PATH"));
}

}  // namespace rlx::cli
