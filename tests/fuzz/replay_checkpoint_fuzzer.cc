// Fuzz target "replay_checkpoint": the replay server's checkpoint reader. The
// input is a replay.ckpt file ("RLXREPLAY1", the table count, then per table
// a TableCheckpointHeader and its CheckpointedItems; Table::Checkpoint). It is
// read the way a server starts: ReplayServiceImpl::Create with the file in
// its checkpoint_dir (ReadCheckpoint, Table::Restore, RestoreTables). When the
// server accepts the file, every restored table must serve samples its own
// client accepts, and the server must restart from its own next checkpoint
// with the same items.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/text_format.h>

#include "absl/strings/str_cat.h"
#include "core/file_util.h"
#include "replay.pb.h"
#include "replay/replay_service.h"
#include "replay/table.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/replay_fuzz_util.h"

namespace rlx::fuzz {
namespace {

// A checkpoint_dir of this process (tmpfs when there is one: the server
// writes its table registry at every start).
const std::string& CheckpointDir() {
  static const std::string* dir = [] {
    const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string path = absl::StrCat(base, "/rlx_fuzz_replay_ckpt_", getpid());
    if (!MakeDirs(path).ok()) std::abort();
    return new std::string(path);
  }();
  return *dir;
}

ReplayServiceOptions Options() {
  ReplayServiceOptions options;
  options.checkpoint_dir = CheckpointDir();
  options.max_table_bytes = 1 << 20;
  options.max_server_bytes = 4 << 20;
  options.seed = 1;
  return options;
}

// The tables a started server has, by name, and their sizes.
std::map<std::string, int64_t> TableSizes(const ReplayServiceImpl& service) {
  std::map<std::string, int64_t> sizes;
  absl::StatusOr<std::string> text = ReadFileToString(CheckpointDir() + "/replay_tables.textproto");
  RLX_FUZZ_CHECK(text.ok(), text.status().ToString());
  TableRegistry registry;
  RLX_FUZZ_CHECK(google::protobuf::TextFormat::ParseFromString(*text, &registry),
                 "the server wrote a registry it cannot read");
  for (const RegisteredTable& t : registry.tables()) {
    std::shared_ptr<Table> table = service.FindTable(t.config().name());
    RLX_FUZZ_CHECK(table != nullptr, absl::StrCat("registered table ", t.config().name(), " missing"));
    sizes[t.config().name()] = table->size();
  }
  return sizes;
}

// A server started on `checkpoint` (nothing else in the directory).
absl::StatusOr<std::unique_ptr<ReplayServiceImpl>> StartOn(const std::string& checkpoint) {
  const std::string dir = CheckpointDir();
  std::remove((dir + "/replay_tables.textproto").c_str());
  {
    std::ofstream out(dir + "/replay.ckpt", std::ios::binary | std::ios::trunc);
    out.write(checkpoint.data(), static_cast<std::streamsize>(checkpoint.size()));
    if (!out) std::abort();
  }
  return ReplayServiceImpl::Create(ReplayConfig(), Options(), nullptr);
}

}  // namespace
}  // namespace rlx::fuzz

RLX_FUZZ_TARGET(replay_checkpoint) {
  using namespace rlx;
  using namespace rlx::fuzz;
  absl::StatusOr<std::unique_ptr<ReplayServiceImpl>> service =
      StartOn(std::string(reinterpret_cast<const char*>(data), size));
  if (!service.ok()) return 0;  // refused with an error: fine
  const std::map<std::string, int64_t> sizes = TableSizes(**service);
  for (const auto& [name, size] : sizes) {
    std::shared_ptr<Table> table = (*service)->FindTable(name);
    (void)table->Info();
    RLX_FUZZ_CHECK(size <= table->config().max_size(),
                   absl::StrCat("table ", name, " restored ", size, " items, max_size ",
                                table->config().max_size()));
    absl::StatusOr<std::vector<SampledEntry>> sampled = SampleNow(*table, 16);
    if (sampled.ok()) CheckSampleResponses(*sampled);
    CheckCheckpointRoundTrip(*table);
  }
  // The server's own checkpoint of what it restored (and sampled) restarts it.
  std::map<std::string, int64_t> before;
  for (const auto& [name, size] : sizes) before[name] = (*service)->FindTable(name)->size();
  absl::StatusOr<int64_t> written = (*service)->CheckpointNow();
  RLX_FUZZ_CHECK(written.ok(), written.status().ToString());
  (*service)->Close();
  service->reset();
  absl::StatusOr<std::string> own = ReadFileToString(CheckpointDir() + "/replay.ckpt");
  RLX_FUZZ_CHECK(own.ok(), own.status().ToString());
  absl::StatusOr<std::unique_ptr<ReplayServiceImpl>> again = StartOn(*own);
  RLX_FUZZ_CHECK(again.ok(), absl::StrCat("the server does not restart from its own checkpoint: ",
                                          again.status().ToString()));
  RLX_FUZZ_CHECK(TableSizes(**again) == before, "restart changed the tables or their sizes");
  (*again)->Close();
  return 0;
}

RLX_FUZZ_SEEDS(replay_checkpoint) {
  using namespace rlx;
  std::vector<std::string> seeds;
  auto item = [](float x, std::optional<double> ret, double priority, int n) {
    Item it;
    std::vector<float> obs(n, x);
    AddNamedTensor(it.mutable_tensors(), "observation", FloatTensor(obs));
    AddNamedTensor(it.mutable_tensors(), "action", Int64Tensor({static_cast<int64_t>(x) % 3}));
    it.mutable_metadata()->set_actor_id(7);
    it.mutable_metadata()->set_episode_id(static_cast<int64_t>(x) / 2);
    if (ret.has_value()) it.mutable_metadata()->set_episode_return(*ret);
    it.set_priority(priority);
    return it;
  };
  // Tables of several kinds, filled through items and batches, one file per
  // table set (a server's CheckpointNow, read back).
  struct Case {
    std::vector<TableConfig> tables;
  };
  auto config = [](const std::string& name, int64_t max_size) {
    TableConfig t;
    t.set_name(name);
    t.set_max_size(max_size);
    t.mutable_rate_limiter()->mutable_min_size()->set_min_size(1);
    t.mutable_sampler()->mutable_uniform();
    return t;
  };
  TableConfig uniform = config("uniform", 16);
  TableConfig prioritized = config("prioritized", 8);
  prioritized.mutable_sampler()->mutable_prioritized()->set_priority_exponent(0.6);
  prioritized.mutable_remover()->mutable_lowest_priority();
  TableConfig returns = config("returns", 8);
  returns.mutable_sampler()->mutable_return_weighted()->set_temperature(2.0);
  TableConfig queue = config("queue", 4);
  queue.mutable_sampler()->mutable_fifo();
  queue.mutable_rate_limiter()->mutable_queue();
  TableConfig empty = config("empty", 4);
  const std::vector<std::vector<TableConfig>> cases = {
      {uniform}, {prioritized}, {returns}, {queue}, {uniform, returns, empty}, {empty}};
  for (const std::vector<TableConfig>& tables : cases) {
    ReplayConfig replay_config;
    for (const TableConfig& t : tables) *replay_config.add_tables() = t;
    const std::string dir = rlx::fuzz::CheckpointDir();
    std::remove((dir + "/replay_tables.textproto").c_str());
    std::remove((dir + "/replay.ckpt").c_str());
    absl::StatusOr<std::unique_ptr<ReplayServiceImpl>> service =
        ReplayServiceImpl::Create(replay_config, rlx::fuzz::Options(), nullptr);
    if (!service.ok()) continue;
    for (const TableConfig& t : tables) {
      if (t.name() == "empty") continue;
      std::shared_ptr<Table> table = (*service)->FindTable(t.name());
      std::vector<ItemPtr> items;
      for (int i = 0; i < 3; ++i) {
        items.push_back(std::make_shared<Item>(item(static_cast<float>(i), 1.0 + i, 0.5 * i, 3)));
      }
      (void)table->Insert(items);
      // Two more as one batch (a batch chunk), then a sample.
      auto request = std::make_shared<InsertRequest>();
      (void)AppendItemsAsBatches({item(5, 2.0, 1.0, 3), item(6, -1.0, 2.0, 3)}, request.get());
      (void)rlx::fuzz::InsertNow(*table, ChunksOfRequest(request, *request));
      (void)rlx::fuzz::SampleNow(*table, 1);
    }
    if ((*service)->CheckpointNow().ok()) {
      absl::StatusOr<std::string> bytes = ReadFileToString(dir + "/replay.ckpt");
      if (bytes.ok()) seeds.push_back(*bytes);
    }
    (*service)->Close();
  }
  return seeds;
}
