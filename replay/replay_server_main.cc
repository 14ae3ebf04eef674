// replay_server: serves named replay tables over gRPC (proto/replay.proto).
//
//   replay_server --port=50051 --tables="queue:queue:1000,buffer:uniform:100000"
//   replay_server --config=tables.textproto --checkpoint_dir=/var/lib/rlx/replay
//
// Tables come from --config (a text-format ReplayConfig) and/or --tables, and
// are restored from <checkpoint_dir> (replay_tables.textproto: which tables
// exist, including those added by CreateTable and without those removed by
// DeleteTable; replay.ckpt: their items as of the last checkpoint). SIGTERM or
// SIGINT: stop accepting calls, end blocked ones, checkpoint, exit 0. Every
// limit and what happens when it is hit: docs/limits.md.
#include <malloc.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include <google/protobuf/text_format.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/security_flags.h"
#include "core/file_util.h"
#include "core/metrics.h"
#include "core/server.h"
#include "core/status_macros.h"
#include "replay/replay_service.h"
#include "core/process_setup.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Address to bind (0.0.0.0 in a cluster).");
ABSL_FLAG(int, port, 50051, "gRPC port (0 = pick a free port; see --port_file).");
ABSL_FLAG(std::string, port_file, "",
          "If set, write the bound gRPC port here once serving (for scripts and tests).");
ABSL_FLAG(int, metrics_port, 0, "Prometheus /metrics port (0 = off, -1 = pick a free port).");
ABSL_FLAG(std::string, config, "", "Text-format ReplayConfig file with the tables to create.");
ABSL_FLAG(std::string, tables, "",
          "Comma-separated NAME:KIND:MAX_SIZE tables; KIND is uniform, fifo, lifo, "
          "prioritized, return_weighted, queue (fifo sampler + queue limiter) or stack "
          "(lifo sampler and remover + queue limiter).");
ABSL_FLAG(std::string, checkpoint_dir, "", "Directory for replay.ckpt (empty = no checkpoints).");
ABSL_FLAG(int, checkpoint_interval_s, 60, "Seconds between periodic checkpoints (0 = only on "
          "request and at shutdown).");
ABSL_FLAG(int64_t, max_item_bytes, 64 << 20, "Largest accepted item, in bytes.");
ABSL_FLAG(int64_t, max_table_bytes, int64_t{1} << 30,
          "Byte budget of each table whose TableConfig.max_bytes is 0 (tables from --tables "
          "always), in item bytes (tensor payloads plus a small per-item allowance); 0 = none. "
          "A full table evicts (its remover) or, for queue/stack tables, makes inserts wait.");
ABSL_FLAG(int64_t, max_server_bytes, int64_t{4} << 30,
          "Byte budget of all tables together; 0 = none. An insert that does not fit evicts "
          "from its own table (not queue/stack tables) or fails with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, max_batch_rows, 1 << 20,
          "Most items in one insert request (items plus batch rows) and largest accepted "
          "SampleRequest.max_batch.");
ABSL_FLAG(uint64_t, seed, 0, "Seed for the samplers (0 = random).");

namespace rlx {
namespace {

absl::StatusOr<TableConfig> ParseTableFlag(const std::string& spec) {
  std::vector<std::string> parts = absl::StrSplit(spec, ':');
  int64_t max_size = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[2], &max_size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tables: '", spec, "' is not NAME:KIND:MAX_SIZE"));
  }
  TableConfig t;
  t.set_name(parts[0]);
  t.set_max_size(max_size);
  const std::string& kind = parts[1];
  if (kind == "uniform") {
    t.mutable_sampler()->mutable_uniform();
  } else if (kind == "fifo") {
    t.mutable_sampler()->mutable_fifo();
  } else if (kind == "lifo") {
    t.mutable_sampler()->mutable_lifo();
  } else if (kind == "prioritized") {
    t.mutable_sampler()->mutable_prioritized()->set_priority_exponent(0.6);
    t.mutable_sampler()->mutable_prioritized()->set_importance_exponent(0.4);
  } else if (kind == "return_weighted") {
    t.mutable_sampler()->mutable_return_weighted()->set_temperature(1.0);
  } else if (kind == "queue") {
    t.mutable_sampler()->mutable_fifo();
    t.mutable_rate_limiter()->mutable_queue();
  } else if (kind == "stack") {
    t.mutable_sampler()->mutable_lifo();
    t.mutable_remover()->mutable_lifo();
    t.mutable_rate_limiter()->mutable_queue();
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--tables: unknown kind '", kind, "' in '",
                                                   spec, "'"));
  }
  return t;
}

absl::Status Run() {
  ReplayConfig config;
  if (const std::string path = absl::GetFlag(FLAGS_config); !path.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
    if (!google::protobuf::TextFormat::ParseFromString(text, &config)) {
      return absl::InvalidArgumentError(absl::StrCat("--config: cannot parse ", path,
                                                     " as a text-format ReplayConfig"));
    }
  }
  if (const std::string tables = absl::GetFlag(FLAGS_tables); !tables.empty()) {
    for (absl::string_view spec : absl::StrSplit(tables, ',', absl::SkipEmpty())) {
      ASSIGN_OR_RETURN(TableConfig t, ParseTableFlag(std::string(spec)));
      *config.add_tables() = t;
    }
  }

  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<MetricsServer> metrics;
  if (int mport = absl::GetFlag(FLAGS_metrics_port); mport != 0) {
    ASSIGN_OR_RETURN(metrics, MetricsServer::Start(absl::GetFlag(FLAGS_host),
                                                   mport < 0 ? 0 : mport, registry));
  }

  ReplayServiceOptions options;
  options.max_item_bytes = absl::GetFlag(FLAGS_max_item_bytes);
  options.max_batch_rows = absl::GetFlag(FLAGS_max_batch_rows);
  if (options.max_batch_rows < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_batch_rows must be >= 1, got ", options.max_batch_rows));
  }
  options.max_table_bytes = absl::GetFlag(FLAGS_max_table_bytes);
  options.max_server_bytes = absl::GetFlag(FLAGS_max_server_bytes);
  options.checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  options.seed = absl::GetFlag(FLAGS_seed);
  ASSIGN_OR_RETURN(ServerSecurity security, ServerSecurityFromFlags());
  options.authorizer = security.authorizer;
  ASSIGN_OR_RETURN(options.grant_signer, GrantSignerFromFlags());
  ASSIGN_OR_RETURN(std::unique_ptr<ReplayServiceImpl> service,
                   ReplayServiceImpl::Create(config, options, registry.get()));

  int port = 0;
  GrpcServerOptions server_options;
  server_options.security = security;
  server_options.max_message_bytes =
      static_cast<int>(std::min<int64_t>(INT32_MAX, options.max_item_bytes * 2 + (16 << 20)));
  ASSIGN_OR_RETURN(std::unique_ptr<grpc::Server> server,
                   StartGrpcServer(absl::StrCat(absl::GetFlag(FLAGS_host), ":",
                                                absl::GetFlag(FLAGS_port)),
                                   {service.get()}, &port, server_options));
  int64_t items = 0;
  std::fprintf(stderr, "replay_server: serving on %s:%d (metrics port %d)\n",
               absl::GetFlag(FLAGS_host).c_str(), port, metrics ? metrics->port() : 0);
  if (const std::string pf = absl::GetFlag(FLAGS_port_file); !pf.empty()) {
    RETURN_IF_ERROR(WriteStringAtomically(
        pf, absl::StrCat(port, "\n", metrics ? metrics->port() : 0, "\n")));
  }

  // Periodic checkpoints.
  std::thread checkpointer;
  absl::Mutex stop_mu;
  bool stop = false;
  const int interval = absl::GetFlag(FLAGS_checkpoint_interval_s);
  if (!options.checkpoint_dir.empty() && interval > 0) {
    checkpointer = std::thread([&] {
      absl::MutexLock lock(&stop_mu);
      while (!stop_mu.AwaitWithTimeout(absl::Condition(&stop), absl::Seconds(interval))) {
        stop_mu.Unlock();
        auto r = service->CheckpointNow();
        if (!r.ok()) std::fprintf(stderr, "replay_server: checkpoint failed: %s\n",
                                  r.status().ToString().c_str());
        stop_mu.Lock();
      }
    });
  }

  const int sig = WaitForShutdownSignal();
  std::fprintf(stderr, "replay_server: signal %d, draining\n", sig);
  // Waiting operations end first so Shutdown does not wait on them.
  service->Close();
  StopGrpcServer(server.get(), absl::Seconds(5));
  if (checkpointer.joinable()) {
    {
      absl::MutexLock lock(&stop_mu);
      stop = true;
    }
    checkpointer.join();
  }
  if (!options.checkpoint_dir.empty()) {
    auto r = service->CheckpointNow();
    if (!r.ok()) return r.status();
    items = *r;
    std::fprintf(stderr, "replay_server: checkpointed %lld items\n",
                 static_cast<long long>(items));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  rlx::SetUpProcess();
  // Keep freed item buffers in the heap for reuse instead of returning them to
  // the kernel: large inserts were bound by zeroing fresh pages.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  rlx::BlockShutdownSignals();
  absl::SetProgramUsageMessage(
      "Serves replay tables over gRPC.\n"
      "  replay_server --port=50051 --tables=queue:queue:1000 --checkpoint_dir=DIR");
  absl::ParseCommandLine(argc, argv);
  absl::Status status = rlx::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "replay_server: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
