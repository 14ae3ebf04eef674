// Network backends by name (models/network.h). Jobs choose one
// (StreamXConfig.network): "auto" (the default: the plain C++ "cpu_mlp" for
// every network it supports, which today is every MLP), "cpu" = "cpu_mlp",
// "libtorch" = "torch_mlp", or a backend's name. Algorithms build their
// networks with MakeNetwork. Both MLP backends share one parameter layout
// (models/mlp.h), so weights and checkpoints load into either.
//
// Adding a backend: a class behind models/network.h in models/, its name in
// NetworkBackendNames (models/backend_names.cc: torch-free, so job
// validation in rlctl knows it) and its factory in models/backends.cc (the
// library rlx::network_backends). "torch_mlp" lives in a module,
// librlx_torch_backend.so (models/torch_module.h), that MakeNetwork opens on
// first use: no process links LibTorch, and one that never asks for it
// never loads it.
#ifndef RLX_MODELS_BACKENDS_H_
#define RLX_MODELS_BACKENDS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/batch_function.h"
#include "models/network.h"

namespace rlx {

struct DenseMlpSpec;  // models/dense_mlp.h

inline constexpr char kAutoNetworkBackend[] = "auto";
inline constexpr char kDefaultNetworkBackend[] = "auto";

// Every backend's name (torch-free: library rlx::models).
const std::vector<std::string>& NetworkBackendNames();

// The backend a job's choice means ("auto", an alias or a name); NOT_FOUND
// naming the accepted values otherwise. Torch-free (rlx::models).
absl::StatusOr<std::string> ResolveNetworkBackend(const std::string& name);

// A fresh network of `backend` (resolved as above); NOT_FOUND naming the known backends for an
// unknown name, INVALID_ARGUMENT for a spec the backend cannot build.
absl::StatusOr<std::unique_ptr<Network>> MakeNetwork(const std::string& backend,
                                                     const NetworkSpec& spec);

// PPO's batched MLP (models/dense_mlp.h: same network, layout and
// initialisation) computed by LibTorch on `device` ("cpu", "cuda",
// "cuda:N"), from the LibTorch module (models/torch_batch_mlp.h).
// FAILED_PRECONDITION when the module cannot be opened or the device is a
// GPU this LibTorch cannot use; INVALID_ARGUMENT for a bad spec or device.
absl::StatusOr<std::unique_ptr<BatchFunction>> MakeTorchBatchMlp(const DenseMlpSpec& spec,
                                                                 const std::string& device);

// Intra-op threads of the backends' libraries (LibTorch); processes use 1.
// Remembered for a LibTorch module opened later.
void SetBackendThreads(int num_threads);
// Whether a backend library can use a CUDA device now (false on Debian's
// CPU-only LibTorch). Opens the LibTorch module.
bool BackendCudaAvailable();
// Whether this process has opened the LibTorch module.
bool TorchBackendLoaded();

}  // namespace rlx

#endif  // RLX_MODELS_BACKENDS_H_
