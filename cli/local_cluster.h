// The embedded topology of `rlctl up` / `rlctl down`: replay_server, learner,
// N actors and the evaluator as background processes on 127.0.0.1.
//
// StartLocalCluster starts each process in its own session (setsid, so it
// outlives rlctl and a terminal's Ctrl-C), with --port=0 and --port_file in
// <state_dir>/run, stdout and stderr in <state_dir>/logs/<name>.log, and
// waits for its port file; a process that exits or does not serve in time
// fails the start with a one-line error naming it and its log, and every
// process started so far is stopped again. The topology is written to
// <state_dir>/topology.txt (key=value lines, see Topology).
//
// StopLocalCluster sends SIGTERM (actors and evaluator first, then the
// learner, then the replay server, so each drains before what it feeds on
// goes away), waits up to `grace` per group, SIGKILLs what is left and
// removes the topology file. It only signals a pid whose command line still
// names the recorded binary (a reused pid is left alone).
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

namespace rlx::cli {

struct ProcessRecord {
  std::string name;    // "replay", "learner", "actor-0", ..., "evaluator"
  pid_t pid = -1;
  int port = 0;        // gRPC port (health only for actors / evaluator)
  int metrics_port = 0;
  std::string binary;  // absolute path as exec'd
  std::string log;
};

struct Topology {
  std::string learner_address;  // HOST:PORT
  std::string replay_address;
  std::string out_dir;
  std::string checkpoint_dir;
  std::vector<ProcessRecord> processes;  // in start order
};

struct UpOptions {
  int actors = 2;
  std::string state_dir = ".rlx";
  std::string bin_dir;         // empty: the directory of the running binary
  std::string checkpoint_dir;  // empty: <state_dir>/checkpoints
  std::string out_dir;         // empty: <state_dir>/out
  bool metrics = false;
  absl::Duration start_timeout = absl::Seconds(60);
};

std::string TopologyPath(const std::string& state_dir);
absl::Status WriteTopology(const std::string& path, const Topology& topology);
// NOT_FOUND when there is no topology file.
absl::StatusOr<Topology> ReadTopology(const std::string& path);

// Whether pid runs (our zombie children are reaped and count as gone).
bool ProcessAlive(pid_t pid);

absl::StatusOr<Topology> StartLocalCluster(const UpOptions& options);
// progress (may be null) gets one line per process stopped.
absl::Status StopLocalCluster(const std::string& state_dir, absl::Duration grace,
                              std::ostream* progress);

}  // namespace rlx::cli

#endif  // RLX_CLI_LOCAL_CLUSTER_H_
