// Test helpers: a table's checkpoint as bytes, and a table restored from
// such bytes (Table::Checkpoint / Table::Restore with seed 7, no metrics).
#ifndef RLX_TESTS_REPLAY_TABLE_CHECKPOINT_UTIL_H_
#define RLX_TESTS_REPLAY_TABLE_CHECKPOINT_UTIL_H_

#include <memory>
#include <string>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/status/statusor.h"
#include "replay/table.h"

namespace rlx {

// Empty when Checkpoint fails (callers then see Restore fail).
inline std::string CheckpointBytes(const Table& table) {
  std::string buffer;
  {
    google::protobuf::io::StringOutputStream raw(&buffer);
    google::protobuf::io::CodedOutputStream out(&raw);
    if (!table.Checkpoint(&out).ok()) return "";
  }
  return buffer;
}

inline absl::StatusOr<std::unique_ptr<Table>> RestoreTable(const std::string& bytes,
                                                           TableOptions options = {}) {
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream in(&raw);
  return Table::Restore(&in, 7, nullptr, std::move(options));
}

}  // namespace rlx

#endif  // RLX_TESTS_REPLAY_TABLE_CHECKPOINT_UTIL_H_
