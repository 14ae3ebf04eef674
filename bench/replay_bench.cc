// replay_bench: replay server throughput through gRPC on loopback, client and
// server in separate processes, beside the same operations in-process, the
// machine's memcpy bandwidth, and a baseline gRPC service with the same message
// shapes (bench/baseline_replay_service.h; a baseline, not a ceiling: the full
// service pipelines inserts and can be faster).
//
//   replay_bench                      # full run (~2 minutes on 2 cores)
//   replay_bench --seconds=0.2 --shapes=64b --batches=256 --streams=1
//
// Cases: item shapes 64b (one float32[16]), cartpole (five tensors: obs[4],
// action, reward, next_obs[4], done), 4k and 100k (one uint8 tensor); 1, 16
// and 256 items per message; 1 and 4 streams (one thread each, one channel);
// two wire formats: "items" (one Item message per item) and "batch" (columnar
// ItemBatch per message, SampleRequest.batch_format on the sample side).
// Tables: "uniform" (uniform sampler, min-size limiter, FIFO remover at
// max_size) and "fifo" (FIFO sampler + queue limiter: each item sampled once).
// Metrics are on in the full server.
#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/baseline_replay_service.h"
#include "core/file_util.h"
#include "core/metrics.h"
#include "core/server.h"
#include "core/tensor_codec.h"
#include "replay/client.h"
#include "replay/item_batch.h"
#include "replay/replay_service.h"
#include "replay/wire.h"

ABSL_FLAG(std::string, mode, "driver", "driver | server (internal: the child process)");
ABSL_FLAG(std::string, server_kind, "full", "full | baseline (server mode)");
ABSL_FLAG(std::string, port_file, "", "server mode: where to write the port");
ABSL_FLAG(double, seconds, 0.5, "Measuring time per case.");
ABSL_FLAG(std::string, shapes, "64b,cartpole,4k,100k", "Item shapes to run.");
ABSL_FLAG(std::string, batches, "1,16,256", "Items per message.");
ABSL_FLAG(std::string, streams, "1,4", "Concurrent streams.");
ABSL_FLAG(std::string, parts, "inproc,baseline,full",
          "What to run: inproc (table calls in this process), baseline (the baseline gRPC "
          "service: same messages, a deque, one request at a time per insert stream; not a "
          "ceiling), full (the replay service).");
ABSL_FLAG(std::string, formats, "items,batch",
          "Wire formats: items (one Item message per item), batch (columnar ItemBatch).");

namespace rlx {
namespace {

using Clock = absl::Time;

Item MakeShapeItem(const std::string& shape) {
  Item item;
  auto add = [&](const std::string& name, DType dtype, std::vector<int64_t> dims, size_t bytes) {
    NamedTensor* t = item.add_tensors();
    t->set_name(name);
    t->mutable_tensor()->set_dtype(dtype);
    for (int64_t d : dims) t->mutable_tensor()->add_shape(d);
    t->mutable_tensor()->set_data(std::string(bytes, '\x01'));
  };
  if (shape == "64b") {
    add("x", DTYPE_FLOAT32, {16}, 64);
  } else if (shape == "cartpole") {
    add("obs", DTYPE_FLOAT32, {4}, 16);
    add("action", DTYPE_INT64, {}, 8);
    add("reward", DTYPE_FLOAT32, {}, 4);
    add("next_obs", DTYPE_FLOAT32, {4}, 16);
    add("done", DTYPE_UINT8, {}, 1);
  } else if (shape == "4k") {
    add("x", DTYPE_UINT8, {4096}, 4096);
  } else {
    add("x", DTYPE_UINT8, {102400}, 102400);
  }
  item.mutable_metadata()->set_job_id("bench");
  item.mutable_metadata()->set_actor_id(1);
  item.mutable_metadata()->set_step_index(1);
  item.mutable_metadata()->set_policy_version(1);
  item.set_priority(1.0);
  return item;
}

int64_t PayloadBytes(const Item& item) {
  int64_t b = 0;
  for (const auto& t : item.tensors()) b += static_cast<int64_t>(t.tensor().data().size());
  return b;
}

// Items kept in a table: bounded by memory (~64 MB) and 100k.
int64_t TableCapacity(const Item& item) {
  return std::max<int64_t>(256, std::min<int64_t>(100000, (64 << 20) / (PayloadBytes(item) + 64)));
}

TableConfig MakeTableConfig(const std::string& name, bool fifo, int64_t capacity) {
  TableConfig c;
  c.set_name(name);
  c.set_max_size(capacity);
  if (fifo) {
    c.mutable_sampler()->mutable_fifo();
    c.mutable_rate_limiter()->mutable_queue();
  } else {
    c.mutable_sampler()->mutable_uniform();
    c.mutable_rate_limiter()->mutable_min_size()->set_min_size(1);
  }
  return c;
}

double MemcpyGBps() {
  const size_t n = 64 << 20;
  std::vector<char> a(n, 1), b(n, 2);
  std::memcpy(b.data(), a.data(), n);  // warm
  const absl::Time start = absl::Now();
  int reps = 0;
  while (absl::Now() - start < absl::Milliseconds(500)) {
    std::memcpy(reps % 2 ? a.data() : b.data(), reps % 2 ? b.data() : a.data(), n);
    ++reps;
  }
  return static_cast<double>(n) * reps / absl::ToDoubleSeconds(absl::Now() - start) / 1e9;
}

// ---- server mode ----------------------------------------------------------

int RunServer() {
  BlockShutdownSignals();
  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<grpc::Service> service;
  ReplayServiceImpl* full = nullptr;
  if (absl::GetFlag(FLAGS_server_kind) == "baseline") {
    service = std::make_unique<BaselineReplayService>();
  } else {
    ReplayServiceOptions options;
    options.max_item_bytes = 1 << 20;
    options.seed = 1;
    auto s = ReplayServiceImpl::Create(ReplayConfig(), options, registry.get());
    if (!s.ok()) return 1;
    full = s->get();
    service = std::move(*s);
  }
  // Metrics are on: the exposer serves the registry the tables update.
  auto metrics = MetricsServer::Start("127.0.0.1", 0, registry);
  int port = 0;
  GrpcServerOptions options;
  options.max_message_bytes = 256 << 20;
  auto server = StartGrpcServer("127.0.0.1:0", {service.get()}, &port, options);
  if (!server.ok()) return 1;
  (void)WriteStringAtomically(absl::GetFlag(FLAGS_port_file), absl::StrCat(port, "\n"));
  WaitForShutdownSignal();
  if (full != nullptr) full->Close();
  StopGrpcServer(server->get(), absl::Seconds(1));
  return 0;
}

// ---- driver ---------------------------------------------------------------

struct Result {
  double items_per_s = 0;
  double mb_per_s = 0;
};

struct CaseKey {
  std::string shape;
  int batch;
  int streams;
  std::string format;  // items | batch
  std::string op;      // insert/sample x uniform/fifo
  bool operator<(const CaseKey& o) const {
    return std::tie(shape, batch, streams, format, op) <
           std::tie(o.shape, o.batch, o.streams, o.format, o.op);
  }
};

// One insert request of `batch` copies of item, in the given wire format.
InsertRequest MakeRequest(const std::string& table, const Item& item, int batch,
                          const std::string& format) {
  InsertRequest request;
  request.set_table(table);
  if (format == "batch") {
    std::vector<Item> items(static_cast<size_t>(batch), item);
    absl::Status s = AppendItemsAsBatches(items, &request);
    if (!s.ok()) std::fprintf(stderr, "replay_bench: %s\n", s.ToString().c_str());
  } else {
    for (int i = 0; i < batch; ++i) *request.add_items() = item;
  }
  return request;
}

class ServerProcess {
 public:
  explicit ServerProcess(const std::string& kind) {
    port_file_ = absl::StrCat("/tmp/rlx_replay_bench_", getpid(), "_", kind);
    unlink(port_file_.c_str());
    pid_ = fork();
    if (pid_ == 0) {
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      execl("/proc/self/exe", "replay_bench", "--mode=server",
            ("--server_kind=" + kind).c_str(), ("--port_file=" + port_file_).c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 600 && port_ == 0; ++i) {
      auto s = ReadFileToString(port_file_);
      if (s.ok() && !s->empty()) absl::SimpleAtoi(absl::StripAsciiWhitespace(*s), &port_);
      if (port_ == 0) absl::SleepFor(absl::Milliseconds(50));
    }
  }
  ~ServerProcess() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    unlink(port_file_.c_str());
  }
  int port() const { return port_; }

 private:
  std::string port_file_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Inserts batches on `streams` streams for `seconds`; returns items/s.
double GrpcInsert(ReplayClient& client, const std::string& table, const Item& item, int batch,
                  const std::string& format, int streams, double seconds,
                  int64_t max_items = INT64_MAX) {
  const InsertRequest request = MakeRequest(table, item, batch, format);
  std::atomic<int64_t> total{0};
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&] {
      auto stream = client.NewInsertStream(/*max_in_flight=*/8);
      int64_t sent = 0;
      const int64_t limit = max_items / streams;
      while (absl::Now() < end && sent + batch <= limit) {
        if (!stream->Send(request).ok()) break;
        sent += batch;
      }
      if (stream->Finish().ok()) total += sent;
    });
  }
  for (auto& t : threads) t.join();
  return total.load() / absl::ToDoubleSeconds(absl::Now() - start);
}

double GrpcSample(ReplayClient& client, const std::string& table, int batch,
                  const std::string& format, int streams, double seconds,
                  int64_t max_items = INT64_MAX) {
  std::atomic<int64_t> total{0};
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&] {
      const int64_t limit = max_items / streams;
      SampleStreamOptions options;
      options.credit = 4 * batch;
      options.max_batch = batch;
      options.timeout_ms = 2000;
      options.partial_batches = true;
      options.max_total = limit;
      options.batch_format = format == "batch";
      auto stream = client.NewSampleStream(table, options);
      int64_t got = 0;
      while (absl::Now() < end && got < limit) {
        auto response = stream->NextResponse();
        if (!response.ok()) break;
        got += SampledCount(**response);
      }
      std::vector<SampledItem> leftovers;
      (void)stream->Close(&leftovers);
      total += got + static_cast<int64_t>(leftovers.size());
    });
  }
  for (auto& t : threads) t.join();
  return total.load() / absl::ToDoubleSeconds(absl::Now() - start);
}

Result ToResult(double items_per_s, const Item& item) {
  return Result{items_per_s, items_per_s * static_cast<double>(item.ByteSizeLong()) / 1e6};
}

void RunInProcess(const std::string& shape, int batch, const std::string& format,
                  double seconds, std::map<CaseKey, Result>* out) {
  const Item item = MakeShapeItem(shape);
  const int64_t capacity = TableCapacity(item);
  const bool batch_format = format == "batch";
  const InsertRequest templ = MakeRequest("t", item, batch, format);
  for (bool fifo : {false, true}) {
    auto table = Table::Create(MakeTableConfig("t", fifo, capacity), 1).value();
    const std::string suffix = fifo ? " fifo" : " uniform";
    // Insert: copying the template request (onto an arena, as the service
    // parses it) stands in for parsing it off the wire.
    int64_t inserted = 0;
    double insert_s = 0, sample_s = 0;
    int64_t sampled = 0;
    const absl::Time end = absl::Now() + absl::Seconds(seconds);
    while (absl::Now() < end) {
      const int64_t room = fifo ? capacity - table->size() : capacity;
      if (room >= batch) {
        absl::Time t0 = absl::Now();
        if (batch_format) {
          auto arena = std::make_shared<google::protobuf::Arena>();
          auto* request = google::protobuf::Arena::CreateMessage<InsertRequest>(arena.get());
          *request = templ;
          (void)table->InsertChunks(ChunksOfRequest(arena, *request));
        } else {
          std::vector<ItemPtr> items;
          for (int i = 0; i < batch; ++i) items.push_back(std::make_shared<const Item>(item));
          (void)table->Insert(std::move(items));
        }
        insert_s += absl::ToDoubleSeconds(absl::Now() - t0);
        inserted += batch;
      }
      if (!fifo || table->size() >= std::min<int64_t>(capacity, batch)) {
        absl::Time t0 = absl::Now();
        auto r = table->Sample(batch, /*partial=*/true);
        // Building the response (as the service does) and serializing it is
        // part of a sample's work.
        google::protobuf::Arena arena;
        auto* response = google::protobuf::Arena::CreateMessage<SampleResponse>(&arena);
        FillSampleResponse(*r, batch_format, response);
        std::string wire;
        response->SerializeToString(&wire);
        sample_s += absl::ToDoubleSeconds(absl::Now() - t0);
        sampled += static_cast<int64_t>(r->size());
      }
    }
    (*out)[{shape, batch, 1, format, "insert" + suffix}] = ToResult(inserted / insert_s, item);
    (*out)[{shape, batch, 1, format, "sample" + suffix}] = ToResult(sampled / sample_s, item);
  }
}

std::vector<int> ParseInts(const std::string& s) {
  std::vector<int> out;
  for (absl::string_view p : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    int v;
    if (absl::SimpleAtoi(p, &v)) out.push_back(v);
  }
  return out;
}

int RunDriver() {
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const std::vector<std::string> shapes = absl::StrSplit(absl::GetFlag(FLAGS_shapes), ',');
  const std::vector<int> batches = ParseInts(absl::GetFlag(FLAGS_batches));
  const std::vector<int> streams_list = ParseInts(absl::GetFlag(FLAGS_streams));
  const std::vector<std::string> formats = absl::StrSplit(absl::GetFlag(FLAGS_formats), ',');

  const double memcpy_gbps = MemcpyGBps();
  std::printf("memcpy bandwidth: %.2f GB/s\n", memcpy_gbps);
  std::fflush(stdout);

  const std::string parts = absl::GetFlag(FLAGS_parts);
  auto run_part = [&parts](absl::string_view part) {
    for (absl::string_view p : absl::StrSplit(parts, ',')) {
      if (p == part) return true;
    }
    return false;
  };
  std::map<CaseKey, Result> inproc, full, baseline;
  for (const auto& shape : run_part("inproc") ? shapes : std::vector<std::string>()) {
    for (int batch : batches) {
      for (const auto& format : formats) RunInProcess(shape, batch, format, seconds / 2, &inproc);
    }
  }
  std::printf("in-process cases done\n");
  std::fflush(stdout);

  for (const std::string kind : {"baseline", "full"}) {
    if (!run_part(kind)) continue;
    ServerProcess server(kind);
    if (server.port() == 0) {
      std::fprintf(stderr, "replay_bench: %s server did not start\n", kind.c_str());
      return 1;
    }
    ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", server.port())));
    auto& results = kind == "baseline" ? baseline : full;
    for (const auto& shape : shapes) {
      const Item item = MakeShapeItem(shape);
      const int64_t capacity = TableCapacity(item);
      for (int batch : batches) {
        for (int streams : streams_list) {
          for (const std::string& fmt : formats) {
            if (kind == "baseline") {
              // The deque only grows: bound the insert case, then sample what it
              // holds, then empty it.
              results[{shape, batch, streams, fmt, "insert uniform"}] =
                  ToResult(GrpcInsert(client, "baseline", item, batch, fmt, streams, seconds,
                                      20 * capacity),
                           item);
              results[{shape, batch, streams, fmt, "sample uniform"}] =
                  ToResult(GrpcSample(client, "baseline", batch, fmt, streams, seconds), item);
              (void)client.Reset("baseline");
              continue;
            }
            const std::string u = absl::StrCat("u_", shape, "_", batch, "_", streams, "_", fmt);
            const std::string f = absl::StrCat("f_", shape, "_", batch, "_", streams, "_", fmt);
            (void)client.CreateTable(MakeTableConfig(u, false, capacity));
            // The FIFO case fills the queue each round: at least two messages per stream.
            const int64_t fifo_capacity = std::max<int64_t>(capacity, 2 * batch * streams);
            (void)client.CreateTable(MakeTableConfig(f, true, fifo_capacity));
            results[{shape, batch, streams, fmt, "insert uniform"}] =
                ToResult(GrpcInsert(client, u, item, batch, fmt, streams, seconds), item);
            results[{shape, batch, streams, fmt, "sample uniform"}] =
                ToResult(GrpcSample(client, u, batch, fmt, streams, seconds), item);
            // FIFO queue: fill to capacity, then drain; repeat while time remains.
            double ins_items = 0, ins_s = 0, smp_items = 0, smp_s = 0;
            const absl::Time end = absl::Now() + absl::Seconds(seconds);
            const int64_t round = fifo_capacity / batch / streams * batch * streams;
            while (absl::Now() < end && round > 0) {
              absl::Time t0 = absl::Now();
              double r = GrpcInsert(client, f, item, batch, fmt, streams, 60.0, round);
              double dt = absl::ToDoubleSeconds(absl::Now() - t0);
              ins_items += r * dt;
              ins_s += dt;
              t0 = absl::Now();
              r = GrpcSample(client, f, batch, fmt, streams, 60.0, round);
              dt = absl::ToDoubleSeconds(absl::Now() - t0);
              smp_items += r * dt;
              smp_s += dt;
            }
            results[{shape, batch, streams, fmt, "insert fifo"}] =
                ToResult(ins_items / ins_s, item);
            results[{shape, batch, streams, fmt, "sample fifo"}] =
                ToResult(smp_items / smp_s, item);
            (void)client.Reset(u);
            (void)client.Reset(f);
          }
        }
      }
    }
    std::printf("%s server cases done\n", kind.c_str());
    std::fflush(stdout);
  }

  std::printf("\n%-9s %5s %7s %-6s %-15s %12s %9s %9s %8s %8s\n", "shape", "batch",
              "streams", "fmt", "op", "items/s", "MB/s", "/inproc", "/baseline", "/memcpy");
  for (const auto& [key, r] : full) {
    const CaseKey in_key{key.shape, key.batch, 1, key.format, key.op};
    const std::string baseline_op = key.op.substr(0, key.op.find(' ')) + " uniform";
    const CaseKey baseline_key{key.shape, key.batch, key.streams, key.format, baseline_op};
    const double in = inproc.count(in_key) ? inproc[in_key].items_per_s : 0;
    const double b = baseline.count(baseline_key) ? baseline[baseline_key].items_per_s : 0;
    std::printf("%-9s %5d %7d %-6s %-15s %12.0f %9.1f %8.2fx %8.2fx %7.1f%%\n",
                key.shape.c_str(), key.batch, key.streams, key.format.c_str(), key.op.c_str(),
                r.items_per_s, r.mb_per_s, in > 0 ? r.items_per_s / in : 0,
                b > 0 ? r.items_per_s / b : 0, 100.0 * r.mb_per_s / 1e3 / memcpy_gbps);
  }
  std::printf(
      "\nbaseline (deque behind one mutex, same messages, one insert request at a time per "
      "stream; not a ceiling):\n");
  for (const auto& [key, r] : baseline) {
    std::printf("%-9s %5d %7d %-6s %-15s %12.0f %9.1f %7.1f%%\n", key.shape.c_str(), key.batch,
                key.streams, key.format.c_str(), key.op.substr(0, key.op.find(' ')).c_str(),
                r.items_per_s, r.mb_per_s, 100.0 * r.mb_per_s / 1e3 / memcpy_gbps);
  }
  std::printf("\nin-process (one thread, table calls directly):\n");
  for (const auto& [key, r] : inproc) {
    std::printf("%-9s %5d %-6s %-15s %12.0f %9.1f\n", key.shape.c_str(), key.batch,
                key.format.c_str(), key.op.c_str(), r.items_per_s, r.mb_per_s);
  }
  return 0;
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  // As replay_server does: reuse freed buffers instead of fresh zeroed pages.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  absl::SetProgramUsageMessage("Replay server throughput benchmark (see the header comment).");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_mode) == "server") return rlx::RunServer();
  return rlx::RunDriver();
}
