#include "cli/job_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/match.h"
#include "tests/test_util.h"

namespace rlx::cli {
namespace {

constexpr char kGood[] = R"(
  name: "ok" algorithm: "stream_ac" env: "CartPole-v1"
  stop { max_env_steps: 1000 }
)";

TEST(JobFileTest, AcceptsTextAndJson) {
  auto text = ParseJobText(kGood);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_TRUE(CheckJobSpec(*text).ok());
  auto json = ParseJobText(R"({"name": "ok", "algorithm": "stream_q", "env": "CartPole-v1",
                               "stop": {"maxEnvSteps": "1000"}})");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_TRUE(CheckJobSpec(*json).ok());
}

TEST(JobFileTest, MalformedTextNamesTheLine) {
  auto spec = ParseJobText("name: \"x\"\nnum_actors: two\n");
  ASSERT_FALSE(spec.ok());
  EXPECT_TRUE(absl::StrContains(spec.status().message(), "line 2")) << spec.status();
}

TEST(JobFileTest, ListsEveryBadField) {
  auto spec = ParseJobText(R"(
    name: "bad name!" algorithm: "dqn" env: "Foo-v0" num_actors: -2 envs_per_actor: -1
  )");
  ASSERT_TRUE(spec.ok());
  const absl::Status s = CheckJobSpec(*spec);
  ASSERT_FALSE(s.ok());
  const std::string m(s.message());
  EXPECT_TRUE(absl::StartsWith(m, "invalid job: ")) << m;
  for (const char* want : {"name:", "algorithm: unknown algorithm 'dqn' (stream_ac, stream_q, stream_td, ppo, appo, spo)", "env:", "Foo-v0",
                           "num_actors: must be in [1, 1024], got -2", "envs_per_actor", "stop:"}) {
    EXPECT_TRUE(absl::StrContains(m, want)) << want << " missing in " << m;
  }
}

TEST(JobFileTest, MissingFileIsNotFound) {
  const absl::Status s = ReadJobFile("/nonexistent/job.textproto").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "cannot read job file /nonexistent/job.textproto: "))
      << s;
}

TEST(JobFileTest, DirectoryIsAnErrorNamingThePathNotAnEmptyJob) {
  const std::string dir = MakeTempDir("job_dir");
  const absl::Status s = ReadJobFile(dir).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), "job file " + dir + " is a directory")) << s;
}

TEST(JobFileTest, UnreadableFileIsAnErrorNamingThePathAndTheReason) {
  // A file the kernel refuses to read (as root, permissions do not stop a read).
  const absl::Status io = ReadJobFile("/proc/self/mem").status();
  ASSERT_FALSE(io.ok());
  EXPECT_TRUE(absl::StartsWith(io.message(), "cannot read job file /proc/self/mem: ")) << io;
  if (::geteuid() != 0) {
    const std::string path = MakeTempDir("job_perm") + "/job.textproto";
    std::ofstream(path) << kGood;
    ::chmod(path.c_str(), 0);
    const absl::Status denied = ReadJobFile(path).status();
    EXPECT_TRUE(absl::IsPermissionDenied(denied)) << denied;
    EXPECT_TRUE(absl::StrContains(denied.message(), path + ": Permission denied")) << denied;
  }
}

TEST(JobFileTest, EmptyFileIsAnErrorNamingThePath) {
  const std::string path = MakeTempDir("job_empty") + "/job.textproto";
  std::ofstream(path) << "\n  \n";
  const absl::Status s = ReadJobFile(path).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message(), "job file " + path + " is empty");
}

}  // namespace
}  // namespace rlx::cli
