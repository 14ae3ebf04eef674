// The fuzz targets of tests/fuzz (docs/testing.md). Each <name>_fuzzer.cc
// defines one target with RLX_FUZZ_TARGET(name) and its seed inputs with
// RLX_FUZZ_SEEDS(name):
//   - in a libFuzzer build (RLX_FUZZ=ON, RLX_LIBFUZZER defined) the target
//     is also the binary's LLVMFuzzerTestOneInput (one target per binary);
//   - in every build, the target registers itself by name, so that
//     fuzz_regression_test replays tests/fuzz/corpus/<name>/ and
//     tests/fuzz/regressions/<name>/ through the same code.
// A target returns 0 for every input: inputs the code under test rejects are
// fine, crashes, sanitizer reports and failed RLX_FUZZ_CHECKs are findings.
#ifndef RLX_TESTS_FUZZ_FUZZ_TARGET_H_
#define RLX_TESTS_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rlx::fuzz {

using OneInputFunction = int (*)(const uint8_t* data, size_t size);
using SeedFunction = std::vector<std::string> (*)();

struct FuzzTarget {
  OneInputFunction one_input = nullptr;
  // Valid inputs made by the code itself (fuzz_regression_test's
  // DISABLED_WriteSeedCorpus writes them to tests/fuzz/corpus/<name>/).
  SeedFunction seeds = nullptr;
};

// Every target linked into this binary, by name.
std::map<std::string, FuzzTarget>& FuzzTargets();
bool RegisterOneInput(const char* name, OneInputFunction f);
bool RegisterSeeds(const char* name, SeedFunction f);

// Prints what failed and aborts (a finding for libFuzzer; the regression
// test's process dies, so CTest reports it).
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const std::string& detail);

}  // namespace rlx::fuzz

// An invariant of the code under test: a violation is a bug, even without a
// crash (e.g. the server sends a batch its own client rejects).
#define RLX_FUZZ_CHECK(condition, detail)                                       \
  do {                                                                          \
    if (!(condition)) ::rlx::fuzz::CheckFailed(__FILE__, __LINE__, #condition, (detail)); \
  } while (0)

#ifdef RLX_LIBFUZZER
#define RLX_FUZZ_ENTRY_POINT(name)                                              \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {    \
    return RlxFuzzOneInput_##name(data, size);                                  \
  }
#else
#define RLX_FUZZ_ENTRY_POINT(name)
#endif

#define RLX_FUZZ_TARGET(name)                                                   \
  static int RlxFuzzOneInput_##name(const uint8_t* data, size_t size);          \
  [[maybe_unused]] static const bool rlx_fuzz_registered_##name =               \
      ::rlx::fuzz::RegisterOneInput(#name, RlxFuzzOneInput_##name);             \
  RLX_FUZZ_ENTRY_POINT(name)                                                    \
  static int RlxFuzzOneInput_##name(const uint8_t* data, size_t size)

#define RLX_FUZZ_SEEDS(name)                                                    \
  static std::vector<std::string> RlxFuzzSeeds_##name();                        \
  [[maybe_unused]] static const bool rlx_fuzz_seeds_registered_##name =         \
      ::rlx::fuzz::RegisterSeeds(#name, RlxFuzzSeeds_##name);                   \
  static std::vector<std::string> RlxFuzzSeeds_##name()

#endif  // RLX_TESTS_FUZZ_FUZZ_TARGET_H_
