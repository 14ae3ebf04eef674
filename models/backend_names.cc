#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/backends.h"

namespace rlx {

const std::vector<std::string>& NetworkBackendNames() {
  static const std::vector<std::string> names = {"cpu_mlp", "torch_mlp"};
  return names;
}

absl::StatusOr<std::string> ResolveNetworkBackend(const std::string& name) {
  // Every network spec the algorithms ask for today is an MLP, which
  // "cpu_mlp" supports at any size.
  if (name.empty() || name == kAutoNetworkBackend || name == "cpu") return std::string("cpu_mlp");
  if (name == "libtorch") return std::string("torch_mlp");
  for (const std::string& known : NetworkBackendNames()) {
    if (name == known) return name;
  }
  return absl::NotFoundError(absl::StrCat("unknown network backend '", name.substr(0, 64),
                                          "' (auto, cpu, libtorch, ",
                                          absl::StrJoin(NetworkBackendNames(), ", "), ")"));
}

}  // namespace rlx
