// startup_bench: what a process pays to start with each network backend.
// Runs `stream_train --steps=N --network=B` (build the env and the
// networks, act and learn N steps, exit) several times per backend and
// prints the median wall time and peak RSS (wait4's ru_maxrss). With
// "cpu" no LibTorch is loaded; with "libtorch" the process opens the
// LibTorch module (models/torch_module.h), as an actor or evaluator of a
// job with network: libtorch does.
//
//   startup_bench [--binary=<dir of this binary>/stream_train] [--steps=100] [--repeats=5]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, binary, "", "stream_train to run (default: beside this binary).");
ABSL_FLAG(int, steps, 100, "Env steps each run takes before it exits.");
ABSL_FLAG(int, repeats, 5, "Runs per backend (the median is printed).");

namespace {

struct Run {
  double seconds = 0;
  double max_rss_mb = 0;
};

bool RunOnce(const std::string& binary, const std::vector<std::string>& args, Run* run) {
  const auto start = std::chrono::steady_clock::now();
  std::fflush(stdout);  // or the child repeats what is buffered
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    std::vector<char*> argv = {const_cast<char*>(binary.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (wait4(pid, &status, 0, &usage) != pid) return false;
  run->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run->max_rss_mb = usage.ru_maxrss / 1024.0;  // KiB
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::string binary = absl::GetFlag(FLAGS_binary);
  if (binary.empty()) {
    char self[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    std::string dir = n > 0 ? std::string(self, n) : std::string("./");
    binary = dir.substr(0, dir.rfind('/') + 1) + "stream_train";
  }
  std::printf("%-10s %12s %14s   (%s --steps=%d, median of %d)\n", "backend", "wall (s)",
              "peak RSS (MB)", binary.c_str(), absl::GetFlag(FLAGS_steps),
              absl::GetFlag(FLAGS_repeats));
  for (const char* backend : {"cpu", "libtorch"}) {
    std::vector<double> seconds, rss;
    for (int r = 0; r < absl::GetFlag(FLAGS_repeats); ++r) {
      Run run;
      if (!RunOnce(binary,
                   {"--env=CartPole-v1", "--algorithm=stream_ac",
                    absl::StrCat("--steps=", absl::GetFlag(FLAGS_steps)),
                    absl::StrCat("--network=", backend)},
                   &run)) {
        std::fprintf(stderr, "%s --network=%s failed\n", binary.c_str(), backend);
        return 1;
      }
      seconds.push_back(run.seconds);
      rss.push_back(run.max_rss_mb);
    }
    std::printf("%-10s %12.3f %14.1f\n", backend, Median(seconds), Median(rss));
  }
  return 0;
}
