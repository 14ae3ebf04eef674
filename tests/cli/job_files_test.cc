// Every job file shipped in jobs/ passes rlctl's checks and the learner's
// full validation.
#include <dirent.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cli/job_file.h"
#include "algorithms/job_spec.h"

namespace rlx {
namespace {

TEST(JobFilesTest, ShippedJobsAreValid) {
  const std::string dir = std::string(RLX_SOURCE_DIR) + "/jobs";
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (absl::EndsWith(e->d_name, ".textproto")) files.push_back(dir + "/" + e->d_name);
    }
    closedir(d);
  }
  ASSERT_GE(files.size(), 4u);
  for (const std::string& f : files) {
    auto spec = cli::ReadJobFile(f);
    ASSERT_TRUE(spec.ok()) << f << ": " << spec.status();
    EXPECT_TRUE(cli::CheckJobSpec(*spec).ok()) << f;
    JobSpec full = *spec;
    EXPECT_TRUE(ValidateJobSpec(&full).ok()) << f << ": " << ValidateJobSpec(&full);
    EXPECT_TRUE(absl::StrContains(f, full.name())) << f << " holds job " << full.name();
  }
}

// PPO and APPO jobs scale rewards by default; SPO (win rates) and the
// navigation jobs keep raw rewards, the settings their figures were
// measured with (docs/benchmarks.md, "Reward scaling").
TEST(JobFilesTest, ShippedJobsScaleRewardsWhereTheirFamilyDoes) {
  const std::string dir = std::string(RLX_SOURCE_DIR) + "/jobs/";
  int checked = 0;
  for (const char* name : {"cartpole_ppo", "acrobot_ppo", "cartpole_appo", "pendulum_ppo",
                           "cartpole_spo", "pendulum_spo", "navigation_gnn",
                           "navigation_gnn_obstacles", "navigation_knn_mlp"}) {
    auto spec = cli::ReadJobFile(dir + name + ".textproto");
    ASSERT_TRUE(spec.ok()) << name << ": " << spec.status();
    JobSpec full = *spec;
    ASSERT_TRUE(ValidateJobSpec(&full).ok()) << name;
    if (full.has_spo()) {
      EXPECT_FALSE(full.spo().ppo().normalize_rewards()) << name;
    } else {
      ASSERT_TRUE(full.has_ppo()) << name;
      EXPECT_EQ(full.ppo().normalize_rewards(), !absl::StartsWith(full.env(), "Navigation"))
          << name;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 9);
}

}  // namespace
}  // namespace rlx
