// The embedded topology of `rlctl up` / `down` / `restart` / `status`:
// replay_server, learner, N actors and the evaluator (and with --monitor a
// Prometheus server, cli/monitor.h) as background processes on 127.0.0.1,
// owned by a supervisor process (`rlctl supervise`, cli/supervisor.h).
//
// StartLocalCluster checks the options (actors >= 0, every binary present,
// no topology already running in the state dir), then starts the supervisor
// in its own session (so it outlives rlctl and a terminal's Ctrl-C; output in
// <state_dir>/logs/supervisor.log) and blocks until it reports on a pipe:
// either every process serves (each started with --port=0 and --port_file in
// <state_dir>/run, never the cluster's fixed ports, so topologies can run side
// by side) and the topology is returned, or one exited or did not serve in
// time, and the error is one line naming it and its log, with every process
// stopped again (the supervisor exits).
//
// The supervisor writes <state_dir>/topology.txt (see WriteTopology) on every
// change: each process's current pid, ports, restart count and state.
//
// StopLocalCluster asks the supervisor to stop everything (actors and
// evaluator first, then the learner, then the replay server, so each drains
// before what it feeds on goes away; SIGTERM, SIGKILL after `grace` per
// group, restarted processes included) and waits until it has exited. A
// topology without a live supervisor (it was killed, or an older rlctl wrote
// the file) is stopped directly in the same order; then only a pid whose
// command line still names the recorded binary is signalled.
//
// RestartProcess asks the supervisor to restart one process (SIGTERM, SIGKILL
// after `grace`) on the same ports and waits until the new one serves.
//
// Blocking; call from one thread.
#ifndef RLX_CLI_LOCAL_CLUSTER_H_
#define RLX_CLI_LOCAL_CLUSTER_H_

#include <sys/types.h>

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/process.h"

namespace rlx::cli {

// The fixed ports of a cluster (deploy/docker-compose.yml, docs/deploy.md).
// `rlctl up` never uses them: its processes bind free ports.
inline constexpr int kClusterReplayPort = 50051;
inline constexpr int kClusterLearnerPort = 50052;
inline constexpr int kClusterEvaluatorPort = 50053;

struct ProcessRecord {
  std::string name;    // "replay", "learner", "actor-0", ..., "evaluator"
  pid_t pid = -1;      // the running process; -1 while none runs (backoff, exited)
  int port = 0;        // gRPC port (health only for the evaluator; 0 for actors)
  int metrics_port = 0;
  std::string binary;  // absolute path as exec'd
  std::string log;
  int restarts = 0;    // times started again after the first start
  // "starting" (no port file yet), "running", "backoff" (crashed; restarts
  // after a delay), "exited" (exit status 0: told to stop; stays down),
  // "stopping", "stopped".
  std::string state = "running";
  // How the previous process ended: "-" (none), "exit:N", "signal:N".
  std::string last_exit = "-";
};

struct Topology {
  pid_t supervisor_pid = -1;    // -1: none recorded (an older rlctl)
  std::string control_socket;   // the supervisor's requests (AF_UNIX)
  std::string learner_address;  // HOST:PORT
  std::string replay_address;
  std::string out_dir;
  std::string checkpoint_dir;
  // http://127.0.0.1:PORT of the Prometheus server of `up --monitor`; empty
  // without --monitor.
  std::string monitor_url;
  std::vector<ProcessRecord> processes;  // in start order
};

struct UpOptions {
  int actors = 2;
  std::string state_dir = ".rlx";
  std::string bin_dir;         // empty: the directory of the running binary
  std::string checkpoint_dir;  // empty: <state_dir>/checkpoints
  std::string out_dir;         // empty: <state_dir>/out
  bool metrics = true;          // every process serves /metrics (free ports)
  // Also run Prometheus (cli/monitor.h); needs metrics.
  bool monitor = false;
  std::string prometheus_binary;  // empty: DefaultPrometheusBinary()
  std::string alert_rules;        // empty: FindAlertRules's search
  absl::Duration scrape_interval = absl::Seconds(5);
  absl::Duration start_timeout = absl::Seconds(60);
  // Restart policy of the supervisor (see cli/supervisor.h).
  absl::Duration restart_backoff = absl::Milliseconds(500);
  absl::Duration max_restart_backoff = absl::Seconds(30);
  absl::Duration stable_run = absl::Seconds(60);
  // The rlctl binary that runs `rlctl supervise`; empty: the running binary.
  // (Tests that call StartLocalCluster in-process name the built rlctl.)
  std::string rlctl_binary;
};

// Fills the defaults of options and makes its paths absolute (with
// --monitor: the Prometheus binary, and the alert rules when they are found).
UpOptions ResolveUpOptions(const UpOptions& options);
// INVALID_ARGUMENT for a negative actor count or --monitor without metrics,
// NOT_FOUND naming a missing binary (for --monitor: the Prometheus binary,
// naming the Debian package, or the alert rules), ALREADY_EXISTS when a
// topology still runs in the state dir. Expects resolved options.
absl::Status CheckUpOptions(const UpOptions& resolved, const std::string& state_dir_as_given);

std::string TopologyPath(const std::string& state_dir);
std::string LogDir(const std::string& state_dir);
std::string RunDir(const std::string& state_dir);  // port files, control socket
std::string ControlSocketPath(const std::string& state_dir);

// key=value lines:
//   supervisor=PID
//   control_socket=PATH
//   learner_address=HOST:PORT, replay_address=..., out_dir=..., checkpoint_dir=...
//   monitor_url=http://127.0.0.1:PORT (only with --monitor)
//   process=NAME PID PORT METRICS_PORT BINARY LOG RESTARTS STATE LAST_EXIT
// (process lines of six fields, from an older rlctl, read with RESTARTS 0.)
absl::Status WriteTopology(const std::string& path, const Topology& topology);
// NOT_FOUND when there is no topology file; DATA_LOSS for a bad line.
absl::StatusOr<Topology> ReadTopology(const std::string& path);

// "killed by signal 9" / "exited with status 3" for a LAST_EXIT token; "" for "-".
std::string DescribeLastExit(const std::string& last_exit);

absl::StatusOr<Topology> StartLocalCluster(const UpOptions& options);
// progress (may be null) gets one line per process stopped, with its pid and
// restart count. NOT_FOUND when there is no topology.
absl::Status StopLocalCluster(const std::string& state_dir, absl::Duration grace,
                              std::ostream* progress);
// NOT_FOUND for an unknown name or no topology, FAILED_PRECONDITION without a
// live supervisor, or the supervisor's reason (e.g. the new process exited
// before serving; it then restarts with backoff). progress gets the
// supervisor's lines.
absl::Status RestartProcess(const std::string& state_dir, const std::string& name,
                            absl::Duration grace, absl::Duration timeout,
                            std::ostream* progress);

// Whether the topology's supervisor runs and answers on its control socket.
bool SupervisorAlive(const Topology& topology);

}  // namespace rlx::cli

#endif  // RLX_CLI_LOCAL_CLUSTER_H_
