#include "core/tensor_codec.h"

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rlx {

int64_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DTYPE_FLOAT32: return 4;
    case DTYPE_FLOAT64: return 8;
    case DTYPE_INT32: return 4;
    case DTYPE_INT64: return 8;
    case DTYPE_UINT8: return 1;
    case DTYPE_INT8: return 1;
    case DTYPE_BOOL: return 1;
    case DTYPE_FLOAT16: return 2;
    case DTYPE_BFLOAT16: return 2;
    default: return 0;
  }
}

absl::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DTYPE_FLOAT32: return "float32";
    case DTYPE_FLOAT64: return "float64";
    case DTYPE_INT32: return "int32";
    case DTYPE_INT64: return "int64";
    case DTYPE_UINT8: return "uint8";
    case DTYPE_INT8: return "int8";
    case DTYPE_BOOL: return "bool";
    case DTYPE_FLOAT16: return "float16";
    case DTYPE_BFLOAT16: return "bfloat16";
    default: return "invalid";
  }
}

int64_t NumElements(const TensorProto& tensor) {
  int64_t n = 1;
  for (int64_t d : tensor.shape()) {
    if (d < 0) return -1;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return -1;
    n *= d;
  }
  return n;
}

absl::Status ValidateTensor(const TensorProto& tensor, absl::string_view field,
                            int64_t max_bytes) {
  const int64_t elem = DTypeSize(tensor.dtype());
  if (elem == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".dtype: unknown dtype ", static_cast<int>(tensor.dtype())));
  }
  const int64_t n = NumElements(tensor);
  if (n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".shape: invalid shape [", absl::StrJoin(tensor.shape(), ","),
                     "] (negative dimension or overflow)"));
  }
  const int64_t bytes = static_cast<int64_t>(tensor.data().size());
  const bool overflows = n > std::numeric_limits<int64_t>::max() / elem;
  if (overflows || n * elem != bytes) {
    // n * elem only where it cannot overflow (signed overflow is undefined).
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".data: shape [", absl::StrJoin(tensor.shape(), ","), "] of ",
        DTypeName(tensor.dtype()), " needs ",
        overflows ? std::string("more than 2^63-1") : absl::StrCat(n * elem), " bytes, got ",
        bytes));
  }
  if (bytes > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".data: ", bytes,
                                                   " bytes exceeds the limit of ",
                                                   max_bytes));
  }
  return absl::OkStatus();
}

void AddNamedTensor(google::protobuf::RepeatedPtrField<NamedTensor>* tensors,
                    absl::string_view name, TensorProto tensor) {
  NamedTensor* t = tensors->Add();
  t->set_name(std::string(name));
  *t->mutable_tensor() = std::move(tensor);
}

const TensorProto* FindNamedTensor(const google::protobuf::RepeatedPtrField<NamedTensor>& tensors,
                                   absl::string_view name) {
  for (const NamedTensor& t : tensors) {
    if (t.name() == name) return &t.tensor();
  }
  return nullptr;
}

TensorProto FloatTensor(absl::Span<const float> values, absl::Span<const int64_t> shape) {
  TensorProto t;
  t.set_dtype(DTYPE_FLOAT32);
  for (int64_t d : shape) t.add_shape(d);
  t.set_data(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return t;
}

TensorProto FloatTensor(absl::Span<const float> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return FloatTensor(values, absl::MakeConstSpan(&n, 1));
}

TensorProto Int64Tensor(absl::Span<const int64_t> values) {
  TensorProto t;
  t.set_dtype(DTYPE_INT64);
  t.add_shape(static_cast<int64_t>(values.size()));
  t.set_data(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t));
  return t;
}

absl::Status ToFloats(const TensorProto& tensor, absl::string_view field,
                      std::vector<float>* out) {
  if (absl::Status s = ValidateTensor(tensor, field); !s.ok()) return s;
  if (tensor.dtype() != DTYPE_FLOAT32) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".dtype: expected float32, got ",
                                                   DTypeName(tensor.dtype())));
  }
  out->resize(tensor.data().size() / sizeof(float));
  // No memcpy for an empty tensor: out->data() may be null (memcpy's
  // arguments must not be, even for 0 bytes).
  if (!out->empty()) std::memcpy(out->data(), tensor.data().data(), tensor.data().size());
  return absl::OkStatus();
}

absl::Status ToInt64s(const TensorProto& tensor, absl::string_view field,
                      std::vector<int64_t>* out) {
  if (absl::Status s = ValidateTensor(tensor, field); !s.ok()) return s;
  const int64_t n = NumElements(tensor);
  out->resize(n);
  if (tensor.dtype() == DTYPE_INT64) {
    if (n > 0) std::memcpy(out->data(), tensor.data().data(), tensor.data().size());
  } else if (tensor.dtype() == DTYPE_INT32) {
    const auto* p = reinterpret_cast<const int32_t*>(tensor.data().data());
    for (int64_t i = 0; i < n; ++i) (*out)[i] = p[i];
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".dtype: expected int64 or int32, got ", DTypeName(tensor.dtype())));
  }
  return absl::OkStatus();
}

}  // namespace rlx
