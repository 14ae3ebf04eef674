#include "cli/args.h"

#include <gtest/gtest.h>

namespace rlx::cli {
namespace {

TEST(ArgsTest, ParsesCommandPositionalsAndFlagsInEitherForm) {
  auto cl = ParseCommandLine({"up", "--actors=3", "--state_dir", "/tmp/x", "--metrics"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, "up");
  EXPECT_EQ(cl->GetInt("actors", 2), 3);
  EXPECT_EQ(cl->GetString("state_dir", ".rlx"), "/tmp/x");
  EXPECT_TRUE(cl->GetBool("metrics"));
  auto submit = ParseCommandLine({"submit", "job.textproto", "--address=h:1"});
  ASSERT_TRUE(submit.ok());
  ASSERT_EQ(submit->positional.size(), 1u);
  EXPECT_EQ(submit->positional[0], "job.textproto");
}

TEST(ArgsTest, RejectsUnknownCommandsFlagsAndBadValuesWithOneLine) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"frobnicate"},
                                             {"up", "--actor=3"},
                                             {"up", "--actors=many"},
                                             {"up", "--metrics=maybe"},
                                             {"submit"},
                                             {"status", "a", "b"},
                                             {"watch", "--address"},
                                             {},
                                             {"--actors=2", "up"}}) {
    auto cl = ParseCommandLine(args);
    ASSERT_FALSE(cl.ok()) << (args.empty() ? "" : args[0]);
    EXPECT_EQ(std::string(cl.status().message()).find('\n'), std::string::npos);
  }
  EXPECT_NE(ParseCommandLine({"up", "--actor=3"}).status().message().find("unknown flag --actor"),
            absl::string_view::npos);
}

TEST(ArgsTest, HelpIsAvailableForEveryCommand) {
  auto top = ParseCommandLine({"--help"});
  ASSERT_TRUE(top.ok());
  EXPECT_TRUE(top->help);
  for (const CommandSpec& c : Commands()) {
    auto cl = ParseCommandLine({c.name, "--help"});
    ASSERT_TRUE(cl.ok()) << c.name;
    EXPECT_TRUE(cl->help);
    EXPECT_NE(CommandHelp(c).find("usage: rlctl " + c.name), std::string::npos);
    EXPECT_NE(TopLevelHelp().find(c.name), std::string::npos);
  }
}

TEST(ArgsTest, HelpNamesTheClusterLearnerPort) {
  EXPECT_NE(TopLevelHelp().find("HOST:50052"), std::string::npos);
  EXPECT_NE(CommandHelp(*FindCommand("submit")).find("HOST:50052"), std::string::npos);
}

}  // namespace
}  // namespace rlx::cli
