#include "core/state_dict.h"

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/file_util.h"
#include "core/status_macros.h"
#include "core/tensor_codec.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/delimited_message_util.h"

namespace rlx {
namespace {

NamedTensor* AddEntry(StateDict* dict, absl::string_view name) {
  dict->emplace_back();
  dict->back().set_name(std::string(name));
  return &dict->back();
}

absl::StatusOr<const TensorProto*> Lookup(const StateDict& dict, absl::string_view name,
                                          DType dtype) {
  const TensorProto* t = FindTensor(dict, name);
  if (t == nullptr) return absl::NotFoundError(absl::StrCat("state has no entry '", name, "'"));
  RETURN_IF_ERROR(ValidateTensor(*t, name));
  if (t->dtype() != dtype) {
    return absl::InvalidArgumentError(absl::StrCat("state entry '", name, "' has dtype ",
                                                   DTypeName(t->dtype()), ", expected ",
                                                   DTypeName(dtype)));
  }
  return t;
}

absl::Status CheckSize(absl::string_view name, size_t size, int64_t expected) {
  if (expected >= 0 && static_cast<int64_t>(size) != expected) {
    return absl::InvalidArgumentError(absl::StrCat("state entry '", name, "' has ", size,
                                                   " elements, expected ", expected));
  }
  return absl::OkStatus();
}

}  // namespace

void AddFloats(StateDict* dict, absl::string_view name, absl::Span<const float> values) {
  *AddEntry(dict, name)->mutable_tensor() = FloatTensor(values);
}

void AddDoubles(StateDict* dict, absl::string_view name, absl::Span<const double> values) {
  TensorProto* t = AddEntry(dict, name)->mutable_tensor();
  t->set_dtype(DTYPE_FLOAT64);
  t->add_shape(static_cast<int64_t>(values.size()));
  t->set_data(values.data(), values.size() * sizeof(double));
}

void AddInt64s(StateDict* dict, absl::string_view name, absl::Span<const int64_t> values) {
  *AddEntry(dict, name)->mutable_tensor() = Int64Tensor(values);
}

void AddBytes(StateDict* dict, absl::string_view name, absl::string_view bytes) {
  TensorProto* t = AddEntry(dict, name)->mutable_tensor();
  t->set_dtype(DTYPE_UINT8);
  t->add_shape(static_cast<int64_t>(bytes.size()));
  t->set_data(bytes.data(), bytes.size());
}

const TensorProto* FindTensor(const StateDict& dict, absl::string_view name) {
  for (const NamedTensor& entry : dict) {
    if (entry.name() == name) return &entry.tensor();
  }
  return nullptr;
}

absl::Status GetFloats(const StateDict& dict, absl::string_view name, int64_t expected_size,
                       std::vector<float>* out) {
  ASSIGN_OR_RETURN(const TensorProto* t, Lookup(dict, name, DTYPE_FLOAT32));
  RETURN_IF_ERROR(ToFloats(*t, name, out));
  return CheckSize(name, out->size(), expected_size);
}

absl::Status GetDoubles(const StateDict& dict, absl::string_view name, int64_t expected_size,
                        std::vector<double>* out) {
  ASSIGN_OR_RETURN(const TensorProto* t, Lookup(dict, name, DTYPE_FLOAT64));
  out->resize(t->data().size() / sizeof(double));
  if (!out->empty()) std::memcpy(out->data(), t->data().data(), out->size() * sizeof(double));
  return CheckSize(name, out->size(), expected_size);
}

absl::Status GetInt64s(const StateDict& dict, absl::string_view name, int64_t expected_size,
                       std::vector<int64_t>* out) {
  const TensorProto* t = FindTensor(dict, name);
  if (t == nullptr) return absl::NotFoundError(absl::StrCat("state has no entry '", name, "'"));
  RETURN_IF_ERROR(ToInt64s(*t, name, out));
  return CheckSize(name, out->size(), expected_size);
}

absl::Status GetBytes(const StateDict& dict, absl::string_view name, std::string* out) {
  ASSIGN_OR_RETURN(const TensorProto* t, Lookup(dict, name, DTYPE_UINT8));
  *out = t->data();
  return absl::OkStatus();
}

absl::Status WriteStateFile(const std::string& path, const StateDict& dict) {
  return WriteFileAtomically(path, [&dict](google::protobuf::io::ZeroCopyOutputStream* out) {
    for (const NamedTensor& entry : dict) {
      if (!google::protobuf::util::SerializeDelimitedToZeroCopyStream(entry, out)) {
        return absl::InternalError(absl::StrCat("writing state entry '", entry.name(), "'"));
      }
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<StateDict> ReadStateFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string contents, ReadFileToString(path));
  return ParseStateFile(contents, path);
}

absl::StatusOr<StateDict> ParseStateFile(absl::string_view contents, absl::string_view source) {
  if (contents.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return absl::DataLossError(absl::StrCat(source, ": state file of ", contents.size(),
                                            " bytes is larger than 2 GiB"));
  }
  google::protobuf::io::ArrayInputStream in(contents.data(), static_cast<int>(contents.size()));
  StateDict dict;
  while (true) {
    NamedTensor entry;
    bool clean_eof = false;
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&entry, &in, &clean_eof)) {
      if (clean_eof) break;
      return absl::DataLossError(absl::StrCat(source, ": corrupt state file"));
    }
    dict.push_back(std::move(entry));
  }
  return dict;
}

}  // namespace rlx
