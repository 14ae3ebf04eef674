// rlctl: the command-line front door (see cli/rlctl.h and `rlctl --help`).
// Deliberately free of LibTorch so that it starts instantly.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/rlctl.h"
#include "core/process_setup.h"

int main(int argc, char** argv) {
  rlx::SetUpProcess();
  std::vector<std::string> args(argv + 1, argv + argc);
  const rlx::cli::RlctlIo io{&std::cout, &std::cerr, ::isatty(STDOUT_FILENO) == 1};
  return rlx::cli::RunRlctl(args, io);
}
