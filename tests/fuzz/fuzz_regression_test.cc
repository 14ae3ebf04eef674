// Replays every input of tests/fuzz/corpus/<target>/ (the seed corpus) and
// tests/fuzz/regressions/<target>/ (every crash a fuzzer found, kept once
// fixed) through the fuzz target's own code, so the normal suite (and the
// sanitizer builds, scripts/sanitize.sh) keep checking them. A crash or a
// failed RLX_FUZZ_CHECK ends the process; CTest reports the test that ran.
//
// The seeds of corpus/ come from the targets themselves (RLX_FUZZ_SEEDS: real
// inputs made by the code, e.g. a server's checkpoint), written by a libFuzzer
// build: RLX_FUZZ_WRITE_SEEDS=tests/fuzz/corpus/<target> build-fuzz/bin/fuzz_<target>
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/fuzz_target.h"

namespace rlx::fuzz {
namespace {

// Names of dir's entries (except those starting with '.') that are
// directories (dirs) or regular files (!dirs), sorted.
std::vector<std::string> EntriesOf(const std::string& dir, bool dirs) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string path = dir + "/" + e->d_name;
      struct stat st;
      if (e->d_name[0] != '.' && stat(path.c_str(), &st) == 0 &&
          (dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode))) {
        names.push_back(e->d_name);
      }
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> files = EntriesOf(dir, /*dirs=*/false);
  for (std::string& f : files) f = dir + "/" + f;
  return files;
}

std::vector<std::string> SubdirsOf(const std::string& dir) { return EntriesOf(dir, /*dirs=*/true); }

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> TargetNames() {
  std::vector<std::string> names;
  for (const auto& [name, target] : FuzzTargets()) names.push_back(name);
  return names;
}

class FuzzRegressionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzRegressionTest, ReplaysCorpusAndRegressions) {
  const FuzzTarget& target = FuzzTargets().at(GetParam());
  ASSERT_NE(target.one_input, nullptr);
  int replayed = 0;
  for (const char* kind : {"corpus", "regressions"}) {
    for (const std::string& file : FilesIn(absl::StrCat(RLX_FUZZ_DIR, "/", kind, "/", GetParam()))) {
      SCOPED_TRACE(file);
      const std::string input = Contents(file);
      // Printed first: if the input crashes the process, the log names it.
      std::fprintf(stderr, "replaying %s (%zu bytes)\n", file.c_str(), input.size());
      EXPECT_EQ(target.one_input(reinterpret_cast<const uint8_t*>(input.data()), input.size()), 0);
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 0) << "no corpus for fuzz target " << GetParam();
}

// Every target's seeds are valid inputs of the target.
TEST_P(FuzzRegressionTest, SeedsRun) {
  const FuzzTarget& target = FuzzTargets().at(GetParam());
  ASSERT_NE(target.seeds, nullptr) << "fuzz target " << GetParam() << " has no RLX_FUZZ_SEEDS";
  const std::vector<std::string> seeds = target.seeds();
  EXPECT_FALSE(seeds.empty());
  for (const std::string& seed : seeds) {
    EXPECT_EQ(target.one_input(reinterpret_cast<const uint8_t*>(seed.data()), seed.size()), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzRegressionTest, ::testing::ValuesIn(TargetNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// Every folder of corpus/ and regressions/ names a target (a typo would
// silently replay nothing).
TEST(FuzzCorpusTest, EveryFolderNamesATarget) {
  for (const char* kind : {"corpus", "regressions"}) {
    for (const std::string& dir : SubdirsOf(absl::StrCat(RLX_FUZZ_DIR, "/", kind))) {
      EXPECT_EQ(FuzzTargets().count(dir), 1u) << kind << "/" << dir << " names no fuzz target";
    }
  }
}

}  // namespace
}  // namespace rlx::fuzz
