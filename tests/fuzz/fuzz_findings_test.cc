// One test per bug the fuzz targets found (docs/testing.md, "Findings"),
// stating the fixed behaviour directly; the crashing inputs themselves are
// replayed from tests/fuzz/regressions/ by fuzz_regression_test.cc.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "core/state_dict.h"
#include "core/tensor_codec.h"
#include "replay.pb.h"
#include "replay/table.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

// tensor_codec: the error message of a tensor whose byte count overflows
// int64 multiplied the overflowing values (signed overflow, undefined).
TEST(FuzzFindingsTest, ShapeWhoseByteCountOverflowsIsRejectedWithoutOverflow) {
  TensorProto t;
  t.set_dtype(DTYPE_FLOAT64);
  t.add_shape(int64_t{1} << 61);  // 2^61 elements of 8 bytes: 2^64 bytes
  const absl::Status s = ValidateTensor(t, "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("x.data: shape [2305843009213693952] of float64 needs more "
                                     "than 2^63-1 bytes, got 0"));
}

// tensor_codec, learner_checkpoint: empty tensors were copied with
// memcpy(nullptr, ..., 0) (undefined; UBSan stops there).
TEST(FuzzFindingsTest, EmptyTensorsConvert) {
  std::vector<float> floats = {1.f};
  ASSERT_TRUE(ToFloats(FloatTensor({}), "f", &floats).ok());
  EXPECT_TRUE(floats.empty());
  std::vector<int64_t> ints = {1};
  ASSERT_TRUE(ToInt64s(Int64Tensor({}), "i", &ints).ok());
  EXPECT_TRUE(ints.empty());
  StateDict dict;
  AddDoubles(&dict, "d", {});
  std::vector<double> doubles = {1.0};
  ASSERT_TRUE(GetDoubles(dict, "d", 0, &doubles).ok());
  EXPECT_TRUE(doubles.empty());
}

TableConfig Uniform(const std::string& name, int64_t max_size) {
  TableConfig c;
  c.set_name(name);
  c.set_max_size(max_size);
  c.mutable_sampler()->mutable_uniform();
  c.mutable_rate_limiter()->mutable_min_size()->set_min_size(1);
  return c;
}

Item FloatItem(std::vector<float> values) {
  Item item;
  AddNamedTensor(item.mutable_tensors(), "x", FloatTensor(values));
  return item;
}

// item_batch: an Item with a NaN or infinite episode return was accepted by
// tables without the return-weighted sampler; sampled in batch format, the
// row made a batch the server's own client refuses.
TEST(FuzzFindingsTest, EveryTableRefusesNonFiniteEpisodeReturns) {
  absl::StatusOr<std::unique_ptr<Table>> table = Table::Create(Uniform("t", 4), 1);
  ASSERT_TRUE(table.ok());
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    Item item = FloatItem({1.f});
    item.mutable_metadata()->set_episode_return(bad);
    const absl::Status s = (*table)->ValidateItem(item, "items[0]");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("items[0].metadata.episode_return must be finite"));
  }
  Item fine = FloatItem({1.f});
  fine.mutable_metadata()->set_episode_return(-3.5);
  EXPECT_TRUE((*table)->ValidateItem(fine, "items[0]").ok());
}

// replay_checkpoint: a TableConfig field this build does not know was kept
// and written to the table registry, whose text format cannot hold it: the
// server refused its own registry at the next start.
TEST(FuzzFindingsTest, UnknownTableConfigFieldsAreDropped) {
  TableConfig config = Uniform("t", 4);
  config.GetReflection()->MutableUnknownFields(&config)->AddVarint(14, 1);
  absl::StatusOr<std::unique_ptr<Table>> table = Table::Create(config, 1);
  ASSERT_TRUE(table.ok());
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString((*table)->config(), &text));
  TableConfig parsed;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &parsed)) << text;
}

// A checkpoint with the given header and items (Table::Checkpoint's format).
std::string Checkpoint(const TableCheckpointHeader& header,
                       const std::vector<CheckpointedItem>& items) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.WriteVarint32(static_cast<uint32_t>(header.ByteSizeLong()));
    header.SerializeToCodedStream(&coded);
    for (const CheckpointedItem& item : items) {
      coded.WriteVarint32(static_cast<uint32_t>(item.ByteSizeLong()));
      item.SerializeToCodedStream(&coded);
    }
  }
  return out;
}

absl::Status Restore(const std::string& bytes) {
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream in(&raw);
  return Table::Restore(&in, 1, nullptr).status();
}

CheckpointedItem Stored(uint64_t key, Item item, double priority = 1.0) {
  CheckpointedItem c;
  c.set_key(key);
  *c.mutable_item() = std::move(item);
  c.set_priority(priority);
  return c;
}

// replay_checkpoint: restored items were not checked like inserted ones; a
// tensor shorter than its shape was then copied by its shape (a heap
// over-read) when sampled in batch format.
TEST(FuzzFindingsTest, RestoreChecksItemsLikeInsert) {
  TableCheckpointHeader header;
  *header.mutable_config() = Uniform("t", 4);
  header.set_num_items(2);
  Item ok = FloatItem({1.f, 2.f});
  EXPECT_TRUE(Restore(Checkpoint(header, {Stored(1, ok), Stored(2, ok)})).ok());

  Item short_data = FloatItem({1.f, 2.f});
  short_data.mutable_tensors(0)->mutable_tensor()->set_shape(0, 47);
  absl::Status s = Restore(Checkpoint(header, {Stored(1, ok), Stored(2, short_data)}));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("checkpoint item 1 of table t: tensors[0].data: shape [47]"));

  s = Restore(Checkpoint(header, {Stored(1, ok), Stored(2, ok, std::nan(""))}));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("item.priority must be finite"));

  Item infinite_return = ok;
  infinite_return.mutable_metadata()->set_episode_return(-std::numeric_limits<double>::infinity());
  s = Restore(Checkpoint(header, {Stored(1, infinite_return), Stored(2, ok)}));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("episode_return must be finite"));
}

// replay_checkpoint: a checkpoint holding more items than its table's
// max_size restored them all, leaving the table over its size for good.
TEST(FuzzFindingsTest, RestoreRefusesMoreItemsThanMaxSize) {
  TableCheckpointHeader header;
  *header.mutable_config() = Uniform("t", 1);
  header.set_num_items(2);
  const Item ok = FloatItem({1.f});
  const absl::Status s = Restore(Checkpoint(header, {Stored(1, ok), Stored(2, ok)}));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("checkpoint of table t holds 2 items, more than its max_size 1"));
}

}  // namespace
}  // namespace rlx
