// Validation and conversion of TensorProto, the wire form of every tensor.
//
// ValidateTensor is what every service calls on untrusted input: it checks the
// dtype is known, every dimension is >= 0, prod(shape) * element size equals the
// byte length, and the byte length is within the caller's limit. Errors are
// INVALID_ARGUMENT and name the offending field (the caller passes the field
// path, e.g. "items[3].tensors[1]").
//
// The float helpers copy between flat float buffers and DTYPE_FLOAT32 tensors;
// they are used for parameters and observations. Thread-safe (stateless).
#ifndef RLX_CORE_TENSOR_CODEC_H_
#define RLX_CORE_TENSOR_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tensor.pb.h"

namespace rlx {

// Size in bytes of one element, or 0 for DTYPE_INVALID / unknown values.
int64_t DTypeSize(DType dtype);
absl::string_view DTypeName(DType dtype);

// Number of elements (1 for a scalar); -1 if a dimension is negative or the
// product overflows.
int64_t NumElements(const TensorProto& tensor);

absl::Status ValidateTensor(const TensorProto& tensor, absl::string_view field,
                            int64_t max_bytes = INT64_MAX);

// Records of named tensors (an Item's or a state dict's): append one, and
// find one by name (nullptr when absent).
void AddNamedTensor(google::protobuf::RepeatedPtrField<NamedTensor>* tensors,
                    absl::string_view name, TensorProto tensor);
const TensorProto* FindNamedTensor(const google::protobuf::RepeatedPtrField<NamedTensor>& tensors,
                                   absl::string_view name);

TensorProto FloatTensor(absl::Span<const float> values, absl::Span<const int64_t> shape);
TensorProto FloatTensor(absl::Span<const float> values);  // 1-D
TensorProto Int64Tensor(absl::Span<const int64_t> values);

// Copies the elements of a valid DTYPE_FLOAT32 tensor into out (resized).
absl::Status ToFloats(const TensorProto& tensor, absl::string_view field,
                      std::vector<float>* out);
// Reads a valid DTYPE_INT64 or DTYPE_INT32 tensor as int64 values.
absl::Status ToInt64s(const TensorProto& tensor, absl::string_view field,
                      std::vector<int64_t>* out);

}  // namespace rlx

#endif  // RLX_CORE_TENSOR_CODEC_H_
