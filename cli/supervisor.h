// `rlctl supervise`: the process that owns the local topology of `rlctl up`.
//
// StartLocalCluster (cli/local_cluster.h) starts it in its own session with
// --ready_fd; it can also run in the foreground (no --ready_fd). It
//  1. starts replay_server, waits until it serves (its port file), then the
//     learner, then the actors and the evaluator: each with --port=0 (actors
//     have no gRPC port), --metrics_port=-1 (0 with --metrics=false) and
//     --port_file=<state_dir>/run/<name>.port, output in
//     <state_dir>/logs/<name>.log. A process that exits, or does not serve
//     within start_timeout, fails the start: everything started is stopped,
//     "error CODE reason" goes to the ready fd and it exits 1. With
//     --monitor, Prometheus comes last (cli/monitor.h): on a free port chosen
//     here, with a scrape config of every metrics port now known; it serves
//     once GET /-/ready answers 200. Otherwise "ok" goes to the ready fd.
//  2. supervises. A child that exits with status 0 was told to stop (servers
//     drain and exit 0 on SIGTERM, e.g. a `kill PID`): it stays down ("exited")
//     until `rlctl restart NAME`. Any other end (non-zero status, a signal,
//     a restarted process that does not serve within start_timeout) is a
//     crash: the child is started again after a backoff (restart_backoff,
//     doubling up to max_restart_backoff; back to restart_backoff once a
//     process ran for stable_run) on the SAME ports it first bound
//     (--port=<port>, --metrics_port=<port>; Prometheus: its command line), so
//     the others reconnect to it.
//     Its log is appended to, after a line naming the restart.
//  3. on `rlctl down` (or SIGTERM / SIGINT) stops every child: Prometheus,
//     then actors and evaluator, then the learner, then the replay and
//     preference servers; each group gets
//     SIGTERM and, after the grace period, SIGKILL. Then it removes the
//     topology file, the port files and its socket and exits 0.
//
// Every change (pid, state, restart count, how the last process ended) is
// written to <state_dir>/topology.txt, and one line per event to its own
// output (<state_dir>/logs/supervisor.log under `up`): "started NAME pid P",
// "NAME (pid P) exited ...", "restarting NAME in 0.5s", "stopped NAME ...".
// Children get SIGTERM if the supervisor dies (PR_SET_PDEATHSIG), so no
// unsupervised process outlives it.
//
// Requests arrive on <state_dir>/run/supervisor.sock (owner only; peers of
// another uid are refused), one line per connection, answered by progress
// lines and a final "ok ..." or "error CODE reason":
//   ping                 -> ok
//   down GRACE_MS        -> "stopped NAME (pid P, restarts R)" per process, ok; then it exits
//   restart NAME GRACE_MS -> SIGTERM (SIGKILL after the grace), start again at
//                           once (no backoff), "ok restarted NAME: pid P, port Q,
//                           restarts R" once it serves
//
// Single-threaded: one poll() loop over a signalfd (SIGCHLD, SIGTERM, SIGINT),
// the control socket and an inotify watch on the port files; children are
// reaped with waitpid as SIGCHLD arrives.
#ifndef RLX_CLI_SUPERVISOR_H_
#define RLX_CLI_SUPERVISOR_H_

#include <algorithm>
#include <string>

#include "absl/time/time.h"
#include "cli/local_cluster.h"

namespace rlx::cli {

// The restart delays of one child.
class RestartBackoff {
 public:
  RestartBackoff(absl::Duration initial, absl::Duration max, absl::Duration stable_run)
      : initial_(initial), max_(max), stable_run_(stable_run), next_(initial) {}

  // The wait before restarting a child whose process crashed after running
  // for `ran`: initial for the first crash and after a run of at least
  // stable_run, otherwise twice the previous wait, at most max.
  absl::Duration Next(absl::Duration ran) {
    if (ran >= stable_run_) next_ = initial_;
    const absl::Duration delay = next_;
    next_ = std::min(max_, next_ * 2);
    return delay;
  }

 private:
  absl::Duration initial_, max_, stable_run_;
  absl::Duration next_;
};

struct SuperviseOptions {
  UpOptions up;                // paths made absolute by ResolveUpOptions
  int ready_fd = -1;           // -1: foreground, nobody waits
  absl::Duration stop_grace = absl::Seconds(10);  // on SIGTERM / SIGINT
};

// Runs the supervisor until the topology is stopped. Returns the process exit
// status: 0 after `down`, 1 when the start failed. Expects to own the
// process (blocks signals, reaps every child).
int RunSupervisor(const SuperviseOptions& options);

}  // namespace rlx::cli

#endif  // RLX_CLI_SUPERVISOR_H_
