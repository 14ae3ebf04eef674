#include "models/backends.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/torch_mlp.h"

namespace rlx {
namespace {

using Factory = absl::StatusOr<std::unique_ptr<Network>> (*)(const NetworkSpec&);

struct Backend {
  const char* name;
  Factory make;
};

// One line per backend (and its name in backend_names.cc).
constexpr Backend kBackends[] = {
    {"torch_mlp", MakeTorchMlp},
};

}  // namespace

absl::StatusOr<std::unique_ptr<Network>> MakeNetwork(const std::string& backend,
                                                     const NetworkSpec& spec) {
  for (const Backend& b : kBackends) {
    if (backend == b.name) return b.make(spec);
  }
  return absl::NotFoundError(absl::StrCat("unknown network backend '", backend, "' (",
                                          absl::StrJoin(NetworkBackendNames(), ", "), ")"));
}

void SetBackendThreads(int num_threads) { SetTorchThreads(num_threads); }

bool BackendCudaAvailable() { return TorchCudaAvailable(); }

}  // namespace rlx
