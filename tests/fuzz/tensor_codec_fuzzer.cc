// Fuzz target "tensor_codec": a TensorProto from the wire (core/tensor_codec.h),
// as every service gets one: parse, ValidateTensor (with and without a byte
// limit), then the conversions a valid tensor allows, and their invariants.
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/tensor_codec.h"
#include "tensor.pb.h"
#include "tests/fuzz/fuzz_target.h"

namespace rlx::fuzz {
namespace {

std::string Serialized(const TensorProto& t) {
  std::string out;
  t.SerializeToString(&out);
  return out;
}

}  // namespace
}  // namespace rlx::fuzz

RLX_FUZZ_TARGET(tensor_codec) {
  using namespace rlx;
  TensorProto tensor;
  if (!tensor.ParseFromArray(data, static_cast<int>(size))) return 0;
  (void)DTypeName(tensor.dtype());
  const int64_t elem = DTypeSize(tensor.dtype());
  const int64_t n = NumElements(tensor);
  const absl::Status valid = ValidateTensor(tensor, "t");
  // A small limit: the same verdict, or "exceeds the limit" for a valid tensor.
  const absl::Status limited = ValidateTensor(tensor, "t", 64);
  RLX_FUZZ_CHECK(valid.ok() || !limited.ok(), limited.ToString());
  if (!valid.ok()) {
    RLX_FUZZ_CHECK(valid.code() == absl::StatusCode::kInvalidArgument, valid.ToString());
    RLX_FUZZ_CHECK(absl::StrContains(valid.message(), "t."), valid.ToString());
    return 0;
  }
  RLX_FUZZ_CHECK(elem > 0 && n >= 0, absl::StrCat("valid tensor: elem ", elem, ", n ", n));
  RLX_FUZZ_CHECK(n * elem == static_cast<int64_t>(tensor.data().size()),
                 absl::StrCat(n, " x ", elem, " != ", tensor.data().size()));
  RLX_FUZZ_CHECK(limited.ok() == (tensor.data().size() <= 64), limited.ToString());

  std::vector<float> floats;
  const absl::Status f = ToFloats(tensor, "t", &floats);
  RLX_FUZZ_CHECK(f.ok() == (tensor.dtype() == DTYPE_FLOAT32), f.ToString());
  if (f.ok()) {
    RLX_FUZZ_CHECK(static_cast<int64_t>(floats.size()) == n, "ToFloats: element count");
    // Round trip through FloatTensor: the same bytes and shape.
    std::vector<int64_t> shape(tensor.shape().begin(), tensor.shape().end());
    const TensorProto again = FloatTensor(floats, shape);
    RLX_FUZZ_CHECK(again.data() == tensor.data() && again.shape_size() == tensor.shape_size(),
                   "FloatTensor(ToFloats(t)) != t");
    RLX_FUZZ_CHECK(ValidateTensor(again, "again").ok(), "FloatTensor made an invalid tensor");
  }
  std::vector<int64_t> ints;
  const absl::Status i = ToInt64s(tensor, "t", &ints);
  RLX_FUZZ_CHECK(i.ok() == (tensor.dtype() == DTYPE_INT64 || tensor.dtype() == DTYPE_INT32),
                 i.ToString());
  if (i.ok()) {
    RLX_FUZZ_CHECK(static_cast<int64_t>(ints.size()) == n, "ToInt64s: element count");
    if (tensor.dtype() == DTYPE_INT64 && n > 0) {
      RLX_FUZZ_CHECK(std::memcmp(ints.data(), tensor.data().data(), tensor.data().size()) == 0,
                     "ToInt64s changed int64 values");
      const TensorProto again = Int64Tensor(ints);
      RLX_FUZZ_CHECK(again.data() == tensor.data(), "Int64Tensor(ToInt64s(t)) changed the bytes");
    }
  }
  // As a named entry of a record (an Item's or a state dict's tensors).
  google::protobuf::RepeatedPtrField<NamedTensor> record;
  AddNamedTensor(&record, "x", tensor);
  const TensorProto* found = FindNamedTensor(record, "x");
  RLX_FUZZ_CHECK(found != nullptr && rlx::fuzz::Serialized(*found) == rlx::fuzz::Serialized(tensor),
                 "FindNamedTensor after AddNamedTensor");
  RLX_FUZZ_CHECK(FindNamedTensor(record, "y") == nullptr, "FindNamedTensor found a missing name");
  return 0;
}

RLX_FUZZ_SEEDS(tensor_codec) {
  using namespace rlx;
  std::vector<std::string> seeds;
  auto add = [&seeds](const TensorProto& t) { seeds.push_back(rlx::fuzz::Serialized(t)); };
  add(FloatTensor({1.f, -2.5f, 3.f, 0.f, 5.f, 6.f}, {2, 3}));
  add(FloatTensor({0.25f}));
  add(FloatTensor({}, {0, 4}));
  add(Int64Tensor({1, -2, 1LL << 40}));
  // Raw tensors of the other dtypes: dtype, shape, payload bytes.
  auto raw = [&add](DType dtype, std::vector<int64_t> shape, std::string data) {
    TensorProto t;
    t.set_dtype(dtype);
    for (int64_t d : shape) t.add_shape(d);
    t.set_data(std::move(data));
    add(t);
  };
  const int64_t seven = 7;
  raw(DTYPE_INT64, {}, std::string(reinterpret_cast<const char*>(&seven), sizeof(seven)));
  const int32_t v[2] = {-1, 2};
  raw(DTYPE_INT32, {2}, std::string(reinterpret_cast<const char*>(v), sizeof(v)));
  raw(DTYPE_UINT8, {2, 2}, "abcd");
  const double d = 3.5;
  raw(DTYPE_FLOAT64, {1}, std::string(reinterpret_cast<const char*>(&d), sizeof(d)));
  raw(DTYPE_BFLOAT16, {3}, std::string(6, '\x01'));
  return seeds;
}
