// The interface between rlx::network_backends and the LibTorch backend,
// which is built as a loadable module (librlx_torch_backend.so) and opened
// only when a job asks for "torch_mlp" (or CUDA): processes on the plain C++
// backend never load LibTorch (about 0.4 s and 160 MB of a process's start).
//
// The module exports these C symbols; both sides are built from this tree by
// the same compiler, so C++ types cross the boundary unchanged.
#ifndef RLX_MODELS_TORCH_MODULE_H_
#define RLX_MODELS_TORCH_MODULE_H_

#include <string>

#include "models/batch_function.h"
#include "models/dense_mlp.h"
#include "models/network.h"

// The file name searched for (models/backends.cc: $RLX_TORCH_BACKEND, then
// beside the executable, then ../lib/rlx/ from it).
#define RLX_TORCH_MODULE_FILE "librlx_torch_backend.so"

extern "C" {
// A "torch_mlp" network for spec, or nullptr with *error set.
typedef rlx::Network* (*RlxTorchMake)(const rlx::NetworkSpec* spec, std::string* error);
typedef void (*RlxTorchSetThreads)(int num_threads);
typedef bool (*RlxTorchCudaAvailable)();
// PPO's batched MLP on LibTorch on *device (models/torch_batch_mlp.h), or
// nullptr with *code (an absl::StatusCode) and *error set.
typedef rlx::BatchFunction* (*RlxTorchMakeBatchMlp)(const rlx::DenseMlpSpec* spec,
                                                     const std::string* device, int* code,
                                                     std::string* error);
}

#define RLX_TORCH_MAKE_SYMBOL "rlx_torch_backend_make"
#define RLX_TORCH_SET_THREADS_SYMBOL "rlx_torch_backend_set_threads"
#define RLX_TORCH_CUDA_SYMBOL "rlx_torch_backend_cuda_available"
#define RLX_TORCH_MAKE_BATCH_MLP_SYMBOL "rlx_torch_backend_make_batch_mlp"

#endif  // RLX_MODELS_TORCH_MODULE_H_
