#include "core/process_identity.h"

#include <unistd.h>

#include <set>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace rlx {
namespace {

TEST(ProcessIdentityTest, NamesOfOneProcessDifferAndCarryThePid) {
  // Two containers on one host network: same hostname, same pid. Only the
  // random part tells them apart, so repeated calls here must differ too.
  std::set<std::string> names;
  for (int i = 0; i < 100; ++i) {
    const std::string name = UniqueProcessName("actor");
    EXPECT_TRUE(absl::StrContains(name, absl::StrCat("-", getpid(), "-"))) << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 100u);
}

}  // namespace
}  // namespace rlx
