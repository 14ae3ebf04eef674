// A learner's or actor's state as named tensors (the wire form of
// core/tensor_codec.h), and a checkpoint file holding them.
//
// A StateDict is an ordered list of NamedTensor; Get* look a name up, check
// dtype and (when expected_size >= 0) the element count, and return
// INVALID_ARGUMENT / NOT_FOUND naming the entry. The checkpoint file is a
// sequence of length-delimited NamedTensor messages written atomically
// (core/file_util.h). Stateless; thread-safe.
#ifndef RLX_CORE_STATE_DICT_H_
#define RLX_CORE_STATE_DICT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tensor.pb.h"

namespace rlx {

using StateDict = std::vector<NamedTensor>;

void AddFloats(StateDict* dict, absl::string_view name, absl::Span<const float> values);
void AddDoubles(StateDict* dict, absl::string_view name, absl::Span<const double> values);
void AddInt64s(StateDict* dict, absl::string_view name, absl::Span<const int64_t> values);
void AddBytes(StateDict* dict, absl::string_view name, absl::string_view bytes);

const TensorProto* FindTensor(const StateDict& dict, absl::string_view name);
absl::Status GetFloats(const StateDict& dict, absl::string_view name, int64_t expected_size,
                       std::vector<float>* out);
absl::Status GetDoubles(const StateDict& dict, absl::string_view name, int64_t expected_size,
                        std::vector<double>* out);
absl::Status GetInt64s(const StateDict& dict, absl::string_view name, int64_t expected_size,
                       std::vector<int64_t>* out);
absl::Status GetBytes(const StateDict& dict, absl::string_view name, std::string* out);

absl::Status WriteStateFile(const std::string& path, const StateDict& dict);
absl::StatusOr<StateDict> ReadStateFile(const std::string& path);
// The entries of a state file's contents (what ReadStateFile reads);
// DATA_LOSS naming `source` when they are not a sequence of length-delimited
// NamedTensor messages.
absl::StatusOr<StateDict> ParseStateFile(absl::string_view contents, absl::string_view source);

}  // namespace rlx

#endif  // RLX_CORE_STATE_DICT_H_
