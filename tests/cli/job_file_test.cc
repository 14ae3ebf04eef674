#include "cli/job_file.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

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
    name: "bad name!" algorithm: "ppo" env: "Foo-v0" num_actors: -2 envs_per_actor: -1
  )");
  ASSERT_TRUE(spec.ok());
  const absl::Status s = CheckJobSpec(*spec);
  ASSERT_FALSE(s.ok());
  const std::string m(s.message());
  EXPECT_TRUE(absl::StartsWith(m, "invalid job: ")) << m;
  for (const char* want : {"name:", "algorithm: unknown algorithm 'ppo'", "env:", "Foo-v0",
                           "num_actors: must be in [1, 1024], got -2", "envs_per_actor", "stop:"}) {
    EXPECT_TRUE(absl::StrContains(m, want)) << want << " missing in " << m;
  }
}

TEST(JobFileTest, MissingFileIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(ReadJobFile("/nonexistent/job.textproto").status()));
}

}  // namespace
}  // namespace rlx::cli
