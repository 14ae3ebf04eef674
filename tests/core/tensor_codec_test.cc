#include "core/tensor_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rlx {
namespace {

using ::testing::HasSubstr;

TEST(TensorCodecTest, AcceptsWellFormedTensor) {
  TensorProto t = FloatTensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  EXPECT_TRUE(ValidateTensor(t, "obs").ok());
  std::vector<float> out;
  ASSERT_TRUE(ToFloats(t, "obs", &out).ok());
  EXPECT_THAT(out, ::testing::ElementsAre(1, 2, 3, 4, 5, 6));
}

TEST(TensorCodecTest, ScalarHasOneElement) {
  TensorProto t;
  t.set_dtype(DTYPE_INT64);
  int64_t v = 7;
  t.set_data(&v, sizeof(v));
  EXPECT_TRUE(ValidateTensor(t, "x").ok());
  EXPECT_EQ(NumElements(t), 1);
}

TEST(TensorCodecTest, RejectsUnknownDtypeNamingTheField) {
  TensorProto t = FloatTensor({1.f});
  t.set_dtype(static_cast<DType>(42));
  absl::Status s = ValidateTensor(t, "items[2].tensors[0]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("items[2].tensors[0].dtype"));
}

TEST(TensorCodecTest, RejectsShapeBytesMismatch) {
  TensorProto t = FloatTensor({1.f, 2.f, 3.f});
  t.set_shape(0, 4);
  absl::Status s = ValidateTensor(t, "obs");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("obs.data"));
  EXPECT_THAT(s.message(), HasSubstr("needs 16 bytes, got 12"));
}

TEST(TensorCodecTest, RejectsNegativeDimension) {
  TensorProto t = FloatTensor({});
  t.set_shape(0, -1);
  EXPECT_THAT(ValidateTensor(t, "a").message(), HasSubstr("a.shape"));
}

TEST(TensorCodecTest, RejectsOverflowingShape) {
  TensorProto t;
  t.set_dtype(DTYPE_FLOAT32);
  t.add_shape(int64_t{1} << 40);
  t.add_shape(int64_t{1} << 40);
  EXPECT_EQ(ValidateTensor(t, "a").code(), absl::StatusCode::kInvalidArgument);
}

TEST(TensorCodecTest, RejectsTensorOverSizeLimit) {
  TensorProto t = FloatTensor(std::vector<float>(100, 0.f));
  absl::Status s = ValidateTensor(t, "big", /*max_bytes=*/100);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("exceeds the limit of 100"));
}

TEST(TensorCodecTest, ToFloatsRejectsWrongDtype) {
  TensorProto t = Int64Tensor({1, 2});
  std::vector<float> out;
  EXPECT_THAT(ToFloats(t, "obs", &out).message(), HasSubstr("expected float32"));
  std::vector<int64_t> ints;
  ASSERT_TRUE(ToInt64s(t, "a", &ints).ok());
  EXPECT_THAT(ints, ::testing::ElementsAre(1, 2));
}

}  // namespace
}  // namespace rlx
