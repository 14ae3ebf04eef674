#include "models/param_io.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/file_util.h"
#include "core/status_macros.h"
#include "core/tensor_codec.h"

namespace rlx {

TensorProto ParamsToTensor(const Network& network) { return FloatTensor(network.params()); }

absl::Status LoadParams(const TensorProto& tensor, Network* network) {
  std::vector<float> values;
  RETURN_IF_ERROR(ToFloats(tensor, "params", &values));
  absl::Span<float> params = network->params();
  if (values.size() != params.size()) {
    return absl::InvalidArgumentError(absl::StrCat("params: ", values.size(),
                                                   " values, the network has ", params.size()));
  }
  std::copy(values.begin(), values.end(), params.begin());
  return absl::OkStatus();
}

absl::Status SaveParamsFile(const Network& network, const std::string& path) {
  const TensorProto tensor = ParamsToTensor(network);
  return WriteFileAtomically(path, [&tensor](google::protobuf::io::ZeroCopyOutputStream* out) {
    return tensor.SerializeToZeroCopyStream(out)
               ? absl::OkStatus()
               : absl::InternalError("serialising parameters failed");
  });
}

absl::Status LoadParamsFile(const std::string& path, Network* network) {
  ASSIGN_OR_RETURN(std::string contents, ReadFileToString(path));
  TensorProto tensor;
  if (!tensor.ParseFromString(contents)) {
    return absl::DataLossError(absl::StrCat(path, ": not a TensorProto"));
  }
  return LoadParams(tensor, network);
}

}  // namespace rlx
