#include "tests/fuzz/fuzz_target.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <google/protobuf/stubs/logging.h>

namespace rlx::fuzz {

std::map<std::string, FuzzTarget>& FuzzTargets() {
  static auto* targets = new std::map<std::string, FuzzTarget>();
  return *targets;
}

bool RegisterOneInput(const char* name, OneInputFunction f) {
  FuzzTargets()[name].one_input = f;
  return true;
}

bool RegisterSeeds(const char* name, SeedFunction f) {
  FuzzTargets()[name].seeds = f;
  return true;
}

void CheckFailed(const char* file, int line, const char* condition, const std::string& detail) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n  %s\n", file, line, condition,
               detail.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace rlx::fuzz

#ifdef RLX_LIBFUZZER
// libFuzzer calls this once before the first input. A fuzzer run with
// RLX_FUZZ_WRITE_SEEDS=DIR writes its target's seeds
// (RLX_FUZZ_SEEDS) to DIR/seed_<n> and exits: how tests/fuzz/corpus/ is made.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // Protobuf's parse warnings (invalid UTF-8 in a string field ...) would
  // flood the log at thousands of inputs a second; the parse result is what
  // the targets look at.
  google::protobuf::SetLogHandler(nullptr);
  const char* dir = std::getenv("RLX_FUZZ_WRITE_SEEDS");
  if (dir == nullptr) return 0;
  for (const auto& [name, target] : rlx::fuzz::FuzzTargets()) {
    if (target.seeds == nullptr) continue;
    const std::vector<std::string> seeds = target.seeds();
    for (size_t i = 0; i < seeds.size(); ++i) {
      const std::string path = std::string(dir) + "/seed_" + std::to_string(i);
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << seeds[i];
      if (!out.good()) {
        std::fprintf(stderr, "cannot write %s\n", path.c_str());
        std::exit(1);
      }
    }
    std::printf("%s: %zu seeds written to %s\n", name.c_str(), seeds.size(), dir);
  }
  std::exit(0);
}
#endif
