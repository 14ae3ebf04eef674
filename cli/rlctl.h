// rlctl's commands as a library (the binary is cli/rlctl_main.cc), so tests
// can run them in-process against a fake JobService.
//
// RunRlctl(args) runs one command line (args excludes argv[0]); normal output
// goes to `out`, and any failure is ONE line "rlctl: CMD: reason" on `err`.
// Returns the process exit status: 0 success, 1 failure (watch / run: the job
// did not succeed), 2 usage error. Job commands talk to --address, or to the
// learner recorded in <state_dir>/topology.txt by `rlctl up` (there is no
// default address). `up`, `down`, `restart` and `status` work through the
// supervisor of the local topology (cli/local_cluster.h); `supervise` runs
// that supervisor in the calling process (cli/supervisor.h) and does not
// return until the topology is stopped. `plot` (and the end of `run`) writes
// a job's learning curve as an SVG (cli/learning_curve.h); `status` and
// `list` take --output=json.
//
// Blocking. `run` installs the SIGINT/SIGTERM handling of core/server.h
// (BlockShutdownSignals) so that Ctrl-C still stops the local topology.
#ifndef RLX_CLI_RLCTL_H_
#define RLX_CLI_RLCTL_H_

#include <ostream>
#include <string>
#include <vector>

namespace rlx::cli {

struct RlctlIo {
  std::ostream* out;
  std::ostream* err;
  bool tty = false;  // progress lines rewritten in place with '\r'
};

int RunRlctl(const std::vector<std::string>& args, const RlctlIo& io);

}  // namespace rlx::cli

#endif  // RLX_CLI_RLCTL_H_
