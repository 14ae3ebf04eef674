#include "models/backends.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "models/cpu_mlp.h"
#include "models/torch_module.h"

namespace rlx {
namespace {

// The LibTorch module, opened on first use (models/torch_module.h).
struct TorchModule {
  RlxTorchMake make = nullptr;
  RlxTorchSetThreads set_threads = nullptr;
  RlxTorchCudaAvailable cuda_available = nullptr;
  RlxTorchMakeBatchMlp make_batch_mlp = nullptr;
  std::string error;  // why it could not be opened
};

std::atomic<int> backend_threads{0};  // 0: never set
std::atomic<bool> torch_loaded{false};

// Where to look: $RLX_TORCH_BACKEND (a file), then beside the executable
// (the build tree's bin/), then ../lib/rlx/ from it (an installed layout).
std::vector<std::string> TorchModuleCandidates() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("RLX_TORCH_BACKEND"); env != nullptr && *env != '\0') {
    paths.push_back(env);
  }
  char exe[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    std::string dir(exe, n);
    dir.erase(dir.rfind('/') + 1);
    paths.push_back(dir + RLX_TORCH_MODULE_FILE);
    paths.push_back(dir + "../lib/rlx/" RLX_TORCH_MODULE_FILE);
  }
  return paths;
}

const TorchModule& Torch() {
  static absl::once_flag once;
  static TorchModule* module = new TorchModule;
  absl::call_once(once, [] {
    std::vector<std::string> tried;
    for (const std::string& path : TorchModuleCandidates()) {
      // Never closed: networks it made may live until exit.
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        tried.push_back(absl::StrCat(path, " (", dlerror(), ")"));
        continue;
      }
      module->make = reinterpret_cast<RlxTorchMake>(dlsym(handle, RLX_TORCH_MAKE_SYMBOL));
      module->set_threads =
          reinterpret_cast<RlxTorchSetThreads>(dlsym(handle, RLX_TORCH_SET_THREADS_SYMBOL));
      module->cuda_available =
          reinterpret_cast<RlxTorchCudaAvailable>(dlsym(handle, RLX_TORCH_CUDA_SYMBOL));
      module->make_batch_mlp =
          reinterpret_cast<RlxTorchMakeBatchMlp>(dlsym(handle, RLX_TORCH_MAKE_BATCH_MLP_SYMBOL));
      if (module->make == nullptr || module->set_threads == nullptr ||
          module->cuda_available == nullptr || module->make_batch_mlp == nullptr) {
        module->make = nullptr;
        tried.push_back(absl::StrCat(path, " (not an rlx LibTorch backend module)"));
        continue;
      }
      if (const int threads = backend_threads.load(); threads > 0) module->set_threads(threads);
      torch_loaded.store(true);
      return;
    }
    module->error = absl::StrCat("the LibTorch backend module could not be loaded; tried ",
                                 absl::StrJoin(tried, "; "),
                                 " (set RLX_TORCH_BACKEND to its path, or use network: cpu)");
  });
  return *module;
}

absl::StatusOr<std::unique_ptr<Network>> MakeTorchNetwork(const NetworkSpec& spec) {
  const TorchModule& torch = Torch();
  if (torch.make == nullptr) return absl::FailedPreconditionError(torch.error);
  std::string error;
  std::unique_ptr<Network> net(torch.make(&spec, &error));
  if (net == nullptr) return absl::InvalidArgumentError(error);
  return net;
}

using Factory = absl::StatusOr<std::unique_ptr<Network>> (*)(const NetworkSpec&);

struct Backend {
  const char* name;
  Factory make;
};

// One line per backend (and its name in backend_names.cc).
constexpr Backend kBackends[] = {
    {"cpu_mlp", MakeCpuMlp},
    {"torch_mlp", MakeTorchNetwork},
};

}  // namespace

absl::StatusOr<std::unique_ptr<Network>> MakeNetwork(const std::string& backend,
                                                     const NetworkSpec& spec) {
  ASSIGN_OR_RETURN(const std::string name, ResolveNetworkBackend(backend));
  for (const Backend& b : kBackends) {
    if (name == b.name) return b.make(spec);
  }
  // ResolveNetworkBackend returned a name of NetworkBackendNames() that has
  // no line in kBackends: the two lists disagree.
  return absl::InternalError(absl::StrCat("network backend '", name, "' is named but not built"));
}

absl::StatusOr<std::unique_ptr<BatchFunction>> MakeTorchBatchMlp(const DenseMlpSpec& spec,
                                                                 const std::string& device) {
  const TorchModule& torch = Torch();
  if (torch.make == nullptr) return absl::FailedPreconditionError(torch.error);
  std::string error;
  int code = static_cast<int>(absl::StatusCode::kInternal);
  std::unique_ptr<BatchFunction> f(torch.make_batch_mlp(&spec, &device, &code, &error));
  if (f == nullptr) return absl::Status(static_cast<absl::StatusCode>(code), error);
  return f;
}

void SetBackendThreads(int num_threads) {
  backend_threads.store(num_threads);
  if (TorchBackendLoaded()) Torch().set_threads(num_threads);
}

bool BackendCudaAvailable() {
  const TorchModule& torch = Torch();
  return torch.cuda_available != nullptr && torch.cuda_available();
}

bool TorchBackendLoaded() { return torch_loaded.load(); }

}  // namespace rlx
