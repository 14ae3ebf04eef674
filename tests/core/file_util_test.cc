#include "core/file_util.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace rlx {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/rlx_file_util_XXXXXX";
  return std::string(mkdtemp(tmpl));
}

TEST(FileUtilTest, WritesAtomicallyAndReadsBack) {
  const std::string path = TempDir() + "/a/b/file.bin";
  ASSERT_TRUE(MakeDirs(path.substr(0, path.rfind('/'))).ok());
  ASSERT_TRUE(WriteStringAtomically(path, "first").ok());
  ASSERT_TRUE(WriteStringAtomically(path, std::string(3 << 20, 'x')).ok());
  auto read = ReadFileToString(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->size(), size_t{3} << 20);
  EXPECT_FALSE(FileExists(path + ".tmp"));
}

TEST(FileUtilTest, FailedWriteKeepsOldFile) {
  const std::string path = TempDir() + "/file.bin";
  ASSERT_TRUE(WriteStringAtomically(path, "old").ok());
  absl::Status s = WriteFileAtomically(path, [](google::protobuf::io::ZeroCopyOutputStream*) {
    return absl::InternalError("disk on fire");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(*ReadFileToString(path), "old");
  EXPECT_FALSE(FileExists(path + ".tmp"));
}

TEST(FileUtilTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadFileToString("/nonexistent/x").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace rlx
