#include "replay/item_batch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"

#include "tests/replay/replay_test_util.h"

namespace rlx {
namespace {

using ::testing::HasSubstr;

// An item with a float32[3] "obs" and an int64 scalar "action", and every
// metadata field set from i.
Item RichItem(int i, bool with_return = true) {
  Item item;
  NamedTensor* obs = item.add_tensors();
  obs->set_name("obs");
  *obs->mutable_tensor() = FloatTensor({1.f * i, 2.f * i, 3.f * i});
  NamedTensor* action = item.add_tensors();
  action->set_name("action");
  action->mutable_tensor()->set_dtype(DTYPE_INT64);
  const int64_t a = 100 + i;
  action->mutable_tensor()->set_data(std::string(reinterpret_cast<const char*>(&a), 8));
  ItemMetadata* m = item.mutable_metadata();
  m->set_job_id("job");
  m->set_actor_id(i % 3);
  m->set_episode_id(10 + i);
  m->set_step_index(20 + i);
  m->set_policy_version(30 + i);
  if (with_return) m->set_episode_return(0.5 * i);
  m->set_num_steps(1 + i);
  m->set_context_id(i % 2 ? "ctx" : "");
  m->set_group_size(4);
  m->set_agent_id(i % 2);
  item.set_priority(0.25 * i);
  return item;
}

TEST(ItemBatchTest, BuilderAndReaderRoundTripEveryField) {
  std::vector<Item> items;
  for (int i = 0; i < 5; ++i) items.push_back(RichItem(i, /*with_return=*/i != 2));
  auto builder = ItemBatchBuilder::ForItem(items[0]);
  ASSERT_TRUE(builder.ok()) << builder.status();
  for (const Item& item : items) ASSERT_TRUE(builder->AddItem(item).ok());
  const ItemBatch batch = builder->Take();
  EXPECT_EQ(builder->num_rows(), 0);  // the builder starts over, same signature
  EXPECT_EQ(builder->batch().columns_size(), 2);
  ASSERT_TRUE(ValidateItemBatch(batch, "batch").ok());
  EXPECT_EQ(batch.num_rows(), 5);
  EXPECT_EQ(batch.columns(0).data().size(), 5u * 12);
  EXPECT_EQ(batch.has_episode_returns_size(), 5);  // row 2 has none
  auto reader = ItemBatchReader::Create(batch);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(reader->ColumnIndex("action"), 1);
  EXPECT_EQ(reader->ColumnIndex("nope"), -1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(reader->ToItem(i).SerializeAsString(), items[i].SerializeAsString()) << "row " << i;
  }
  EXPECT_FALSE(reader->has_episode_return(2));
  EXPECT_TRUE(reader->has_episode_return(3));
  EXPECT_EQ(reader->context_id(1), "ctx");
}

TEST(ItemBatchTest, DefaultMetadataCostsNothingOnTheWire) {
  auto builder = ItemBatchBuilder::Create({{"x", DTYPE_FLOAT32, {2}}});
  ASSERT_TRUE(builder.ok());
  const float v[2] = {1, 2};
  const absl::string_view t(reinterpret_cast<const char*>(v), sizeof(v));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(builder->AddRow({t}, ItemMetadata(), 0.0).ok());
  const ItemBatch& b = builder->batch();
  EXPECT_EQ(b.num_rows(), 3);
  EXPECT_EQ(b.actor_ids_size() + b.episode_ids_size() + b.step_indices_size() +
                b.policy_versions_size() + b.num_steps_size() + b.agent_ids_size() +
                b.context_ids_size() + b.group_sizes_size() + b.priorities_size() +
                b.episode_returns_size() + b.has_episode_returns_size(),
            0);
  // A first non-default value back-fills the earlier rows.
  ItemMetadata m;
  m.set_actor_id(7);
  m.set_episode_return(1.5);
  ASSERT_TRUE(builder->AddRow({t}, m, 2.0).ok());
  EXPECT_THAT(builder->batch().actor_ids(), ::testing::ElementsAre(0, 0, 0, 7));
  EXPECT_THAT(builder->batch().priorities(), ::testing::ElementsAre(0, 0, 0, 2));
  EXPECT_THAT(builder->batch().has_episode_returns(),
              ::testing::ElementsAre(false, false, false, true));
  ASSERT_TRUE(ValidateItemBatch(builder->batch(), "b").ok());
}

TEST(ItemBatchTest, AllRowsWithReturnsNeedNoMask) {
  auto builder = ItemBatchBuilder::Create({});
  ASSERT_TRUE(builder.ok());
  ItemMetadata m;
  m.set_episode_return(1.0);
  ASSERT_TRUE(builder->AddRow({}, m, 1.0).ok());
  ASSERT_TRUE(builder->AddRow({}, m, 1.0).ok());
  EXPECT_EQ(builder->batch().episode_returns_size(), 2);
  EXPECT_EQ(builder->batch().has_episode_returns_size(), 0);
  ASSERT_TRUE(builder->AddRow({}, ItemMetadata(), 1.0).ok());  // the mask appears
  EXPECT_THAT(builder->batch().has_episode_returns(), ::testing::ElementsAre(true, true, false));
}

TEST(ItemBatchTest, BuilderRejectsRowsThatDoNotFit) {
  auto builder = ItemBatchBuilder::ForItem(RichItem(1));
  ASSERT_TRUE(builder.ok());
  Item other_shape = RichItem(1);
  *other_shape.mutable_tensors(0)->mutable_tensor() = FloatTensor({1.f, 2.f});
  absl::Status s = builder->AddItem(other_shape);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("tensors[0] (obs)"));
  Item other_job = RichItem(1);
  other_job.mutable_metadata()->set_job_id("else");
  EXPECT_THAT(std::string(builder->AddItem(other_job).message()), HasSubstr("job_id"));
  EXPECT_EQ(builder->AddRow({"abc"}, ItemMetadata(), 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(builder->num_rows(), 0);
  EXPECT_EQ(ItemBatchBuilder::Create({{"x", static_cast<DType>(99), {}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ItemBatchTest, AppendItemsAsBatchesSplitsRunsBySignature) {
  std::vector<Item> items = {RichItem(0), RichItem(1), MakeItem(1.f), MakeItem(2.f), RichItem(2)};
  InsertRequest request;
  ASSERT_TRUE(AppendItemsAsBatches(items, &request).ok());
  ASSERT_EQ(request.batches_size(), 3);
  EXPECT_EQ(request.batches(0).num_rows(), 2);
  EXPECT_EQ(request.batches(1).num_rows(), 2);
  EXPECT_EQ(request.batches(2).num_rows(), 1);
  Item bad = MakeItem(1.f);
  bad.mutable_tensors(0)->mutable_tensor()->set_dtype(static_cast<DType>(99));
  absl::Status s = AppendItemsAsBatches({MakeItem(1.f), bad}, &request);
  EXPECT_THAT(std::string(s.message()), HasSubstr("items[1].tensors[0].dtype"));
}

TEST(ItemBatchTest, ValidationNamesTheField) {
  auto builder = ItemBatchBuilder::ForItem(MakeItem(1.f));
  ASSERT_TRUE(builder.ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(builder->AddItem(MakeItem(1.f * i, 4, i)).ok());
  const ItemBatch good = builder->Take();
  ASSERT_TRUE(ValidateItemBatch(good, "batches[0]").ok());
  struct Case {
    std::function<void(ItemBatch*)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](ItemBatch* b) { b->set_num_rows(-1); }, "batches[0].num_rows"},
      {[](ItemBatch* b) { b->mutable_columns(0)->set_dtype(static_cast<DType>(42)); },
       "batches[0].columns[0].dtype"},
      {[](ItemBatch* b) { b->mutable_columns(0)->set_shape(0, -4); },
       "batches[0].columns[0].shape"},
      {[](ItemBatch* b) { b->mutable_columns(0)->mutable_data()->pop_back(); },
       "batches[0].columns[0].data"},
      {[](ItemBatch* b) { b->set_num_rows(5); }, "batches[0].columns[0].data"},
      {[](ItemBatch* b) { b->add_actor_ids(9); }, "batches[0].actor_ids: 5 values"},
      {[](ItemBatch* b) { b->add_context_ids("c"); }, "batches[0].context_ids: 1 values"},
      {[](ItemBatch* b) { b->set_priorities(3, std::nan("")); },
       "batches[0].priorities[3] must be finite"},
      {[](ItemBatch* b) { b->set_priorities(1, -1.0); }, "batches[0].priorities[1]"},
      {[](ItemBatch* b) {
         for (int i = 0; i < 4; ++i) b->add_episode_returns(i == 2 ? INFINITY : 0.0);
       },
       "batches[0].episode_returns[2] must be finite"},
      {[](ItemBatch* b) {
         for (int i = 0; i < 4; ++i) b->add_has_episode_returns(true);
       },
       "batches[0].episode_returns: empty"},
  };
  for (const Case& c : cases) {
    ItemBatch bad = good;
    c.mutate(&bad);
    absl::Status s = ValidateItemBatch(bad, "batches[0]");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.field));
  }
  absl::Status s = ValidateItemBatch(good, "batches[0]", /*max_row_bytes=*/15);
  EXPECT_THAT(std::string(s.message()), HasSubstr("exceeds --max_item_bytes=15"));
}

TEST(ItemBatchTest, RowBytesThatOverflowTogetherAreRejected) {
  // Two columns of 2^62 bytes per row each: their sum overflows int64. With no
  // rows their data is (correctly) empty, so only the per-row total catches it.
  ItemBatch batch;
  batch.set_num_rows(0);
  for (int c = 0; c < 2; ++c) {
    TensorColumn* col = batch.add_columns();
    col->set_name(absl::StrCat("c", c));
    col->set_dtype(DTYPE_FLOAT64);
    col->add_shape(int64_t{1} << 59);
  }
  absl::Status s = ValidateItemBatch(batch, "batches[0]");  // no max_row_bytes limit
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("batches[0]: more than 2^63-1 bytes per row"));
  s = ValidateItemBatch(batch, "batches[0]", /*max_row_bytes=*/int64_t{5} << 60);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("columns[0..1]"));
}

// A sampled batch of n rows with every per-row array filled.
SampledBatch SampledOf(int n) {
  std::vector<Item> items;
  for (int i = 0; i < n; ++i) items.push_back(RichItem(i));
  InsertRequest request;
  EXPECT_TRUE(AppendItemsAsBatches(items, &request).ok());
  SampledBatch batch;
  *batch.mutable_items() = request.batches(0);
  for (int i = 0; i < n; ++i) {
    batch.add_keys(100 + i);
    batch.add_probabilities(0.5);
    batch.add_weights(1.0);
    batch.add_times_sampled(i);
    batch.add_table_sizes(n);
  }
  return batch;
}

TEST(ItemBatchTest, AppendSampledItemsChecksEverySampledArrayLength) {
  SampleResponse response;
  *response.add_batches() = SampledOf(3);
  std::vector<SampledItem> out;
  ASSERT_TRUE(AppendSampledItems(response, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].key(), 102u);
  EXPECT_EQ(out[2].times_sampled(), 2);
  EXPECT_EQ(out[1].item().SerializeAsString(), RichItem(1).SerializeAsString());

  // Empty arrays mean defaults.
  SampleResponse defaults;
  *defaults.add_batches() = SampledOf(3);
  defaults.mutable_batches(0)->clear_weights();
  out.clear();
  ASSERT_TRUE(AppendSampledItems(defaults, &out).ok());
  EXPECT_EQ(out[1].weight(), 0.0);

  const std::vector<std::pair<std::string, std::function<void(SampledBatch*)>>> cases = {
      {"keys", [](SampledBatch* b) { b->mutable_keys()->RemoveLast(); }},
      {"probabilities", [](SampledBatch* b) { b->add_probabilities(1.0); }},
      {"weights", [](SampledBatch* b) { b->mutable_weights()->RemoveLast(); }},
      {"times_sampled", [](SampledBatch* b) { b->mutable_times_sampled()->RemoveLast(); }},
      {"table_sizes", [](SampledBatch* b) { b->mutable_table_sizes()->RemoveLast(); }},
      {"items.columns[0].data", [](SampledBatch* b) { b->mutable_items()->set_num_rows(4); }},
  };
  for (const auto& [field, mutate] : cases) {
    SampleResponse bad;
    *bad.add_batches() = SampledOf(2);
    *bad.add_batches() = SampledOf(3);
    mutate(bad.mutable_batches(1));
    out.clear();
    absl::Status s = AppendSampledItems(bad, &out);
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << field << ": " << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat("batches[1].", field)));
  }
}

}  // namespace
}  // namespace rlx
