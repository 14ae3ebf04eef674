// The monitoring of `rlctl up --monitor`: Debian's Prometheus server
// (package `prometheus`, /usr/bin/prometheus) scraping every process of the
// local topology, with the project's alert rules (deploy/prometheus/alerts.yml).
//
// The supervisor (cli/supervisor.h) starts Prometheus last, once every other
// process serves and its metrics port is known, on 127.0.0.1 and a free
// port, with <state_dir>/monitor/prometheus.yml (PrometheusConfig: one static
// target per process, labelled as deploy/prometheus/prometheus.yml labels the
// compose cluster's, so the alert rules apply unchanged), a copy of the
// alert rules next to it (<state_dir>/monitor/alerts.yml) and its storage in
// <state_dir>/monitor/data. It is supervised like the other processes.
//
// Stateless helpers; no LibTorch.
#ifndef RLX_CLI_MONITOR_H_
#define RLX_CLI_MONITOR_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rlx::cli {

// The name of the Prometheus child in the topology (and `rlctl restart`).
inline constexpr char kPrometheusProcess[] = "prometheus";
// The Debian package that has /usr/bin/prometheus (and promtool).
inline constexpr char kPrometheusPackage[] = "prometheus";

// One scrape target: a process of the topology and its /metrics port.
struct ScrapeTarget {
  std::string process;  // "replay", "actor-0", ..., "prometheus"
  int port = 0;
};

// The `job` label of a process, as the alert rules expect it (the compose
// cluster's service names): "actor-3" -> "actor"; the others are their own
// name ("replay", "preference", "learner", "evaluator", "prometheus").
std::string PrometheusJob(const std::string& process);

// <state_dir>/monitor and the files in it.
std::string MonitorDir(const std::string& state_dir);
std::string PrometheusConfigPath(const std::string& state_dir);
std::string MonitorRulesPath(const std::string& state_dir);  // the copy of alerts.yml
std::string PrometheusDataDir(const std::string& state_dir);

// prometheus.yml for targets on 127.0.0.1: global scrape and evaluation
// interval `interval` (scrape timeout the smaller of it and 10 s), the
// external label system="rlx" (as deploy/prometheus/prometheus.yml),
// rule_files [rules_file] (relative to the config file, or absolute; none
// when empty), and one job per PrometheusJob in the order the targets come,
// each target a static_config of its own with the label process=NAME (the
// instance label stays Prometheus's default, 127.0.0.1:PORT).
std::string PrometheusConfig(const std::vector<ScrapeTarget>& targets, absl::Duration interval,
                             const std::string& rules_file, const std::string& comment);

// The Prometheus binary `--monitor` runs by default: `prometheus` in $PATH,
// else /usr/bin/prometheus (Debian's; it need not exist).
std::string DefaultPrometheusBinary();
// OK when path is an executable file; otherwise NOT_FOUND naming the path and
// the Debian package.
absl::Status CheckPrometheusBinary(const std::string& path);

// Where the alert rules are looked for when --alert_rules is not given, in
// order: deploy/prometheus/alerts.yml in each directory above the rlctl
// binary (build/bin/rlctl of a build tree inside the source tree), then in
// the source tree rlctl was compiled from (a compile-time path).
std::vector<std::string> AlertRulesCandidates(const std::string& rlctl_binary);
// flag when non-empty (it must exist), else the first candidate that exists.
// NOT_FOUND naming what was tried and --alert_rules.
absl::StatusOr<std::string> FindAlertRules(const std::string& flag,
                                           const std::string& rlctl_binary);

}  // namespace rlx::cli

#endif  // RLX_CLI_MONITOR_H_
