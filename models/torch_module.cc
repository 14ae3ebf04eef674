// librlx_torch_backend.so: the LibTorch backend behind models/torch_module.h.
#include <memory>
#include <string>

#include "models/torch_batch_mlp.h"
#include "models/torch_mlp.h"
#include "models/torch_module.h"

extern "C" {

__attribute__((visibility("default"))) rlx::Network* rlx_torch_backend_make(
    const rlx::NetworkSpec* spec, std::string* error) {
  absl::StatusOr<std::unique_ptr<rlx::Network>> net = rlx::MakeTorchMlp(*spec);
  if (!net.ok()) {
    *error = net.status().ToString();
    return nullptr;
  }
  return net->release();
}

__attribute__((visibility("default"))) void rlx_torch_backend_set_threads(int num_threads) {
  rlx::SetTorchThreads(num_threads);
}

__attribute__((visibility("default"))) bool rlx_torch_backend_cuda_available() {
  return rlx::TorchCudaAvailable();
}

__attribute__((visibility("default"))) rlx::BatchFunction* rlx_torch_backend_make_batch_mlp(
    const rlx::DenseMlpSpec* spec, const std::string* device, int* code, std::string* error) {
  absl::StatusOr<std::unique_ptr<rlx::BatchFunction>> f = rlx::CreateTorchBatchMlp(*spec, *device);
  if (!f.ok()) {
    *code = static_cast<int>(f.status().code());
    *error = std::string(f.status().message());
    return nullptr;
  }
  return f->release();
}

}  // extern "C"
