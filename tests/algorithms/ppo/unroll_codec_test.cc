#include "algorithms/ppo/unroll_codec.h"

#include <random>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "core/server.h"
#include "replay/client.h"
#include "replay/item_batch.h"
#include "replay/replay_service.h"

namespace rlx::ppo {
namespace {

Unroll RandomUnroll(int64_t t, int64_t dim, int64_t width, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Unroll u;
  u.Resize(t, dim, width);
  for (auto* v : {&u.observations, &u.actions, &u.log_probs, &u.values, &u.rewards,
                  &u.next_observation, &u.obs_stats}) {
    for (float& x : *v) x = normal(rng);
  }
  u.terminated[2] = 1;
  u.truncated[4] = 1;
  u.episode_returns[2] = 17.5f;
  u.episode_returns[4] = -3.25f;
  for (int64_t i = 0; i < dim; ++i) u.final_observations[4 * dim + i] = normal(rng);
  return u;
}

void ExpectEqual(const Unroll& a, const Unroll& b) {
  EXPECT_EQ(a.observations, b.observations);
  EXPECT_EQ(a.actions, b.actions);
  EXPECT_EQ(a.log_probs, b.log_probs);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.rewards, b.rewards);
  EXPECT_EQ(a.episode_returns, b.episode_returns);
  EXPECT_EQ(a.terminated, b.terminated);
  EXPECT_EQ(a.truncated, b.truncated);
  EXPECT_EQ(a.final_observations, b.final_observations);
  EXPECT_EQ(a.next_observation, b.next_observation);
  EXPECT_EQ(a.obs_stats, b.obs_stats);
}

TEST(UnrollCodecTest, RoundTripsEveryField) {
  const Unroll u = RandomUnroll(6, 4, 2, 1);
  ItemMetadata md;
  md.set_actor_id(7);
  md.set_policy_version(12);
  const Item item = EncodeUnroll(u, md);
  EXPECT_EQ(item.metadata().num_steps(), 6);
  auto back = DecodeUnroll(item, 6, 4, 2);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectEqual(u, *back);
}

TEST(UnrollCodecTest, RejectsMalformedItemsNamingTheTensor) {
  const Item item = EncodeUnroll(RandomUnroll(6, 4, 1, 2), ItemMetadata());
  // The learner expects other sizes than the actor sent.
  auto wrong = DecodeUnroll(item, 5, 4, 1);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(std::string(wrong.status().message()).find("'observations'"), std::string::npos);
  // A missing tensor, and a NaN reward.
  Item missing = item;
  missing.mutable_tensors()->RemoveLast();
  EXPECT_NE(std::string(DecodeUnroll(missing, 6, 4, 1).status().message()).find("obs_stats"),
            std::string::npos);
  Unroll bad = RandomUnroll(6, 4, 1, 3);
  bad.rewards[3] = NAN;
  auto nan = DecodeUnroll(EncodeUnroll(bad, ItemMetadata()), 6, 4, 1);
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(std::string(nan.status().message()).find("'rewards'[3]"), std::string::npos);
}

// Unrolls travel as columnar batches through a real replay server (a queue
// table) and come back unchanged, in order, with their metadata.
TEST(UnrollCodecTest, UnrollsRoundTripThroughReplayInBatchFormat) {
  auto service = ReplayServiceImpl::Create(ReplayConfig(), ReplayServiceOptions(), nullptr);
  ASSERT_TRUE(service.ok());
  int port = 0;
  auto server = StartGrpcServer("127.0.0.1:0", {service->get()}, &port);
  ASSERT_TRUE(server.ok());
  ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", port)));
  TableConfig table;
  table.set_name("unrolls");
  table.set_max_size(100);
  table.mutable_sampler()->mutable_fifo();
  table.mutable_rate_limiter()->mutable_queue();
  ASSERT_TRUE(client.CreateTable(table).ok());

  std::vector<Unroll> sent;
  std::vector<Item> items;
  for (int i = 0; i < 8; ++i) {
    sent.push_back(RandomUnroll(16, 4, 1, 10 + i));
    ItemMetadata md;
    md.set_job_id("job");
    md.set_actor_id(i % 3);
    md.set_policy_version(100 + i);
    md.set_episode_id(i);
    items.push_back(EncodeUnroll(sent.back(), md));
  }
  auto builder = ItemBatchBuilder::ForItem(items[0]);
  ASSERT_TRUE(builder.ok()) << builder.status();
  for (const Item& item : items) ASSERT_TRUE(builder->AddItem(item).ok());
  ItemBatch batch;
  builder->TakeInto(&batch);
  ASSERT_TRUE(client.InsertBatches("unrolls", {batch}).ok());

  auto sampled = client.SampleBatches("unrolls", 8);
  ASSERT_TRUE(sampled.ok()) << sampled.status();
  int row_index = 0;
  Rollout rollout;
  rollout.Resize(8, 16, 4, 1);
  for (const SampledBatch& b : *sampled) {
    auto reader = ItemBatchReader::Create(b.items());
    ASSERT_TRUE(reader.ok());
    for (int row = 0; row < b.items().num_rows(); ++row, ++row_index) {
      const SampledItem s = SampledItemFromBatch(b, *reader, row);
      EXPECT_EQ(s.item().metadata().policy_version(), 100 + row_index);
      EXPECT_EQ(s.item().metadata().actor_id(), row_index % 3);
      EXPECT_EQ(s.item().metadata().num_steps(), 16);
      auto u = DecodeUnroll(s.item(), 16, 4, 1);
      ASSERT_TRUE(u.ok()) << u.status();
      ExpectEqual(sent[row_index], *u);
      CopyUnrollInto(*u, row_index, &rollout);
    }
  }
  EXPECT_EQ(row_index, 8);
  EXPECT_TRUE(rollout.Validate(4, 1).ok());
  EXPECT_EQ(rollout.rewards[3 * 16 + 5], sent[3].rewards[5]);
  EXPECT_EQ(rollout.next_observations[7 * 4 + 2], sent[7].next_observation[2]);
  (*service)->Close();
  StopGrpcServer(server->get(), absl::Seconds(1));
}

// Acting for N envs in one batched forward pass gives what acting for each
// env alone gives (same parameters; greedy, so no random draw differs).
TEST(PpoModelTest, BatchedActingEqualsPerEnvActing) {
  for (bool discrete : {true, false}) {
    ProblemSpec p;
    p.observation_dim = 3;
    p.discrete = discrete;
    p.num_actions = 4;
    p.action_dim = 2;
    p.action_low = {-1, -1};
    p.action_high = {1, 1};
    PpoConfig c;
    PpoModel model(p, c, 5);
    std::mt19937 rng(4);
    std::normal_distribution<float> normal;
    std::vector<float> obs(6 * 3);
    for (float& x : obs) x = normal(rng);
    std::mt19937_64 act_rng(1);
    ActScratch scratch;
    ActOutput all, one;
    model.Act(obs.data(), 6, /*greedy=*/true, &act_rng, &scratch, &all);
    for (int e = 0; e < 6; ++e) {
      model.Act(&obs[e * 3], 1, true, &act_rng, &scratch, &one);
      for (int64_t k = 0; k < model.action_width(); ++k) {
        EXPECT_FLOAT_EQ(one.actions[k], all.actions[e * model.action_width() + k]);
      }
      EXPECT_NEAR(one.log_probs[0], all.log_probs[e], 1e-5);
      EXPECT_NEAR(one.values[0], all.values[e], 1e-5);
    }
  }
}

}  // namespace
}  // namespace rlx::ppo
