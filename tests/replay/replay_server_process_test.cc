// Runs the real replay_server binary on 127.0.0.1 and checks durability across
// a clean restart (SIGTERM) and a crash (kill -9) after a checkpoint.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/file_util.h"
#include "replay/client.h"
#include "tests/replay/replay_test_util.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

struct RunningServer {
  Subprocess process;
  int port = 0;
  int metrics_port = 0;
};

absl::StatusOr<RunningServer> StartServer(const std::string& dir, const std::string& tag) {
  const std::string port_file = absl::StrCat(dir, "/port_", tag);
  auto p = Subprocess::Start({BinaryPath("replay_server"), "--host=127.0.0.1", "--port=0",
                              "--metrics_port=-1", "--port_file=" + port_file,
                              "--tables=queue:queue:100000,buffer:prioritized:100000",
                              "--checkpoint_dir=" + dir + "/ckpt", "--checkpoint_interval_s=0"},
                             absl::StrCat(dir, "/server_", tag, ".log"));
  if (!p.ok()) return p.status();
  auto contents = WaitForFileContents(port_file, absl::Seconds(30));
  if (!contents.ok()) return contents.status();
  std::vector<std::string> lines = absl::StrSplit(*contents, '\n', absl::SkipEmpty());
  RunningServer server{std::move(*p)};
  if (lines.size() < 2 || !absl::SimpleAtoi(lines[0], &server.port) ||
      !absl::SimpleAtoi(lines[1], &server.metrics_port)) {
    return absl::InternalError("bad port file");
  }
  return server;
}

void InsertN(ReplayClient& client, const std::string& table, int n) {
  auto stream = client.NewInsertStream(8);
  for (int i = 0; i < n; i += 50) {
    InsertRequest r;
    r.set_table(table);
    for (int j = i; j < std::min(n, i + 50); ++j) {
      *r.add_items() = MakeItem(static_cast<float>(j), 4, 0, j, /*priority=*/1.0 + j);
    }
    ASSERT_TRUE(stream->Send(r).ok());
  }
  ASSERT_TRUE(stream->Finish().ok());
}

TEST(ReplayServerProcessTest, CleanRestartKeepsEveryAcknowledgedItem) {
  const std::string dir = MakeTempDir("replay_proc");
  auto server = StartServer(dir, "a");
  ASSERT_TRUE(server.ok()) << server.status();
  {
    ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", server->port)));
    InsertN(client, "queue", 1000);
    InsertN(client, "buffer", 500);
    ASSERT_TRUE(client.Sample("buffer", 10).ok());
    // /metrics answers.
    auto body = HttpGet("127.0.0.1", server->metrics_port, "/metrics");
    ASSERT_TRUE(body.ok()) << body.status();
    EXPECT_NE(body->find("rl_replay_inserts_total"), std::string::npos);
  }
  server->process.Signal(SIGTERM);
  auto code = server->process.Wait(absl::Seconds(30));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);

  auto restarted = StartServer(dir, "b");
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", restarted->port)));
  auto info = client.Info("queue");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->tables(0).size(), 1000);
  auto binfo = client.Info("buffer");
  ASSERT_TRUE(binfo.ok());
  EXPECT_EQ(binfo->tables(0).size(), 500);
  EXPECT_EQ(binfo->tables(0).total_samples(), 10);
  // Queue order survives the restart.
  auto items = client.Sample("queue", 1000);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ((*items)[i].item().metadata().step_index(), i);
  }
  restarted->process.Signal(SIGTERM);
  EXPECT_EQ(restarted->process.Wait(absl::Seconds(30)).value_or(-1), 0);
}

TEST(ReplayServerProcessTest, KillNineKeepsEverythingUpToTheLastCheckpoint) {
  const std::string dir = MakeTempDir("replay_kill");
  auto server = StartServer(dir, "a");
  ASSERT_TRUE(server.ok()) << server.status();
  {
    ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", server->port)));
    InsertN(client, "queue", 700);
    auto ck = client.Checkpoint();
    ASSERT_TRUE(ck.ok()) << ck.status();
    EXPECT_EQ(ck->items(), 700);
    InsertN(client, "queue", 100);  // after the checkpoint: may be lost
  }
  server->process.Signal(SIGKILL);
  ASSERT_TRUE(server->process.Wait(absl::Seconds(10)).has_value());

  auto restarted = StartServer(dir, "b");
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", restarted->port)));
  auto info = client.Info("queue");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->tables(0).size(), 700);
}

// A table created with CreateTable and one deleted with DeleteTable, then
// kill -9 before any checkpoint: the restarted server (same flags) has the
// created table (empty: items are only as durable as checkpoints) and not
// the deleted one, although --tables lists it.
TEST(ReplayServerProcessTest, TableCreationAndDeletionSurviveKillNineBeforeAnyCheckpoint) {
  const std::string dir = MakeTempDir("replay_tables_kill");
  const std::vector<std::string> flags = {
      "--host=127.0.0.1", "--port=0", "--tables=configured:queue:100,other:uniform:100",
      "--checkpoint_dir=" + dir + "/ckpt",
      // Far beyond the test: no periodic checkpoint happens.
      "--checkpoint_interval_s=3600"};
  auto server = StartWithPortFile(dir, "replay_server", "a", flags);
  ASSERT_TRUE(server.ok()) << server.status();
  {
    ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", server->port)));
    TableConfig created = QueueTable("created", 50);
    created.mutable_sampler()->mutable_lifo();
    created.mutable_remover()->mutable_lifo();
    ASSERT_TRUE(client.CreateTable(created).ok());
    ASSERT_TRUE(client.Insert("created", {MakeItem(1.f)}).ok());
    ASSERT_TRUE(client.DeleteTable("configured").ok());
    EXPECT_EQ(client.Info("configured").status().code(), absl::StatusCode::kNotFound);
  }
  server->process.Signal(SIGKILL);
  ASSERT_TRUE(server->process.Wait(absl::Seconds(10)).has_value());
  EXPECT_FALSE(FileExists(dir + "/ckpt/replay.ckpt"));

  auto restarted = StartWithPortFile(dir, "replay_server", "b", flags);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", restarted->port)));
  auto info = client.Info("created");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->tables(0).size(), 0);
  EXPECT_EQ(info->tables(0).config().max_size(), 50);
  EXPECT_TRUE(info->tables(0).config().sampler().has_lifo());
  EXPECT_EQ(client.Info("configured").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(client.Info("other").ok());
  // The created table works (a stack: newest first).
  ASSERT_TRUE(client.Insert("created", {MakeItem(2.f), MakeItem(3.f)}).ok());
  auto items = client.Sample("created", 2);
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_EQ(FirstValue((*items)[0].item()), 3.f);
  EXPECT_EQ(client.DeleteTable("nope").code(), absl::StatusCode::kNotFound);
  restarted->process.Signal(SIGTERM);
  EXPECT_EQ(restarted->process.Wait(absl::Seconds(30)).value_or(-1), 0);
}

// A table deleted after the last checkpoint does not come back from it.
TEST(ReplayServerProcessTest, ATableDeletedAfterTheLastCheckpointStaysDeleted) {
  const std::string dir = MakeTempDir("replay_delete_kill");
  auto server = StartServer(dir, "a");
  ASSERT_TRUE(server.ok()) << server.status();
  {
    ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", server->port)));
    InsertN(client, "buffer", 50);
    InsertN(client, "queue", 20);
    ASSERT_TRUE(client.Checkpoint().ok());
    ASSERT_TRUE(client.DeleteTable("buffer").ok());
  }
  server->process.Signal(SIGKILL);
  ASSERT_TRUE(server->process.Wait(absl::Seconds(10)).has_value());
  auto restarted = StartServer(dir, "b");
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", restarted->port)));
  EXPECT_EQ(client.Info("buffer").status().code(), absl::StatusCode::kNotFound);
  auto queue = client.Info("queue");
  ASSERT_TRUE(queue.ok()) << queue.status();
  EXPECT_EQ(queue->tables(0).size(), 20);
  restarted->process.Signal(SIGTERM);
  EXPECT_EQ(restarted->process.Wait(absl::Seconds(30)).value_or(-1), 0);
}

TEST(ReplayServerProcessTest, BadFlagsExitNonZeroWithReason) {
  const std::string dir = MakeTempDir("replay_bad");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--tables=x:bogus:10", "--tables: unknown kind 'bogus'"},
      {"--max_batch_rows=0", "--max_batch_rows must be >= 1, got 0"},
      {"--max_table_bytes=-1", "--max_table_bytes must be >= 0 (0 = none), got -1"},
      {"--max_server_bytes=-5", "--max_server_bytes must be >= 0 (0 = none), got -5"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string log = absl::StrCat(dir, "/log", i);
    auto p = Subprocess::Start({BinaryPath("replay_server"), "--port=0", cases[i].first}, log);
    ASSERT_TRUE(p.ok());
    auto code = p->Wait(absl::Seconds(20));
    ASSERT_TRUE(code.has_value()) << cases[i].first;
    EXPECT_NE(*code, 0) << cases[i].first;
    auto text = ReadFileToString(log);
    ASSERT_TRUE(text.ok());
    EXPECT_THAT(*text, ::testing::HasSubstr(cases[i].second)) << cases[i].first;
  }
}

}  // namespace
}  // namespace rlx
