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

}  // namespace
}  // namespace rlx
