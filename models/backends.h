// Network backends by name (models/network.h). Jobs choose one
// (StreamXConfig.network, default "torch_mlp"); algorithms build their
// networks with MakeNetwork.
//
// Adding a backend: a class behind models/network.h in models/, its name in
// NetworkBackendNames (models/backend_names.cc: torch-free, so job
// validation in rlctl knows it) and its factory in models/backends.cc (the
// library rlx::network_backends, which links each backend's dependencies,
// e.g. LibTorch for "torch_mlp"; nothing else does).
#ifndef RLX_MODELS_BACKENDS_H_
#define RLX_MODELS_BACKENDS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/network.h"

namespace rlx {

inline constexpr char kDefaultNetworkBackend[] = "torch_mlp";

// Every backend's name (torch-free: library rlx::models).
const std::vector<std::string>& NetworkBackendNames();

// A fresh network of `backend`; NOT_FOUND naming the known backends for an
// unknown name, INVALID_ARGUMENT for a spec the backend cannot build.
absl::StatusOr<std::unique_ptr<Network>> MakeNetwork(const std::string& backend,
                                                     const NetworkSpec& spec);

// Intra-op threads of the backends' libraries (LibTorch); processes use 1.
void SetBackendThreads(int num_threads);
// Whether a backend library can use a CUDA device now (false on Debian's
// CPU-only LibTorch).
bool BackendCudaAvailable();

}  // namespace rlx

#endif  // RLX_MODELS_BACKENDS_H_
