// TorchBatchMlp: the batched MLP of models/dense_mlp.h (Linear -> tanh per
// hidden layer, then a Linear output; the same flat parameter layout and
// orthogonal initialisation) computed with LibTorch on a device ("cpu" or
// "cuda"), so a batch learner (PPO) can run its network passes on a GPU.
//
// The parameters' master copy stays on the host, in DenseMlp's layout: the
// learner's optimiser writes it through parameter_blocks() as with DenseMlp,
// and each Forward uploads it to the device (on "cpu" the device tensors
// alias the host buffers, no copy). Forward returns the output on the host;
// Backward runs on the device and adds the gradient into the host buffer.
// Only the network passes run on the device: the policy head, the losses and
// Adam stay on the host (docs/algorithms.md, "PPO on a GPU").
//
// This header does not include LibTorch; only torch_batch_mlp.cc does. It
// is built into the LibTorch module (models/torch_module.h) and reached
// through MakeTorchBatchMlp in models/backends.h.
#ifndef RLX_MODELS_TORCH_BATCH_MLP_H_
#define RLX_MODELS_TORCH_BATCH_MLP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "models/batch_function.h"
#include "models/dense_mlp.h"

namespace rlx {

// A TorchBatchMlp for spec on device ("cpu", "cuda" or "cuda:N");
// INVALID_ARGUMENT for a bad spec or device name, FAILED_PRECONDITION for a
// CUDA device this LibTorch cannot use.
absl::StatusOr<std::unique_ptr<BatchFunction>> CreateTorchBatchMlp(const DenseMlpSpec& spec,
                                                                   const std::string& device);

}  // namespace rlx

#endif  // RLX_MODELS_TORCH_BATCH_MLP_H_
