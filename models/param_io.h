// Network parameters on the wire and on disk.
//
// ParamsToTensor / LoadParams move a network's flat parameter vector through
// the TensorProto form of core/tensor_codec.h (1-D DTYPE_FLOAT32), which is how
// parameters travel over gRPC. SaveParamsFile / LoadParamsFile write and read a
// checkpoint file holding that TensorProto (atomically, via
// core/file_util.h). Loading checks the element count against the network and
// returns INVALID_ARGUMENT on a mismatch, leaving the network unchanged.
// Thread-compatible: callers serialise access to the network.
#ifndef RLX_MODELS_PARAM_IO_H_
#define RLX_MODELS_PARAM_IO_H_

#include <string>

#include "absl/status/status.h"
#include "models/network.h"
#include "tensor.pb.h"

namespace rlx {

TensorProto ParamsToTensor(const Network& network);
absl::Status LoadParams(const TensorProto& tensor, Network* network);

absl::Status SaveParamsFile(const Network& network, const std::string& path);
absl::Status LoadParamsFile(const std::string& path, Network* network);

}  // namespace rlx

#endif  // RLX_MODELS_PARAM_IO_H_
