// Multi-agent PPO on the platform's interfaces: the swarm worker makes one
// unroll item per agent (graph observations in the padded layout) that
// round-trips through a real replay table and feeds the unchanged PPO
// learner; the greedy policy acts for all agents in one batch; job files
// with multi-agent settings are checked field by field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "algorithms/job_spec.h"
#include "algorithms/ppo/unroll_codec.h"
#include "algorithms/registry.h"
#include "core/server.h"
#include "core/state_dict.h"
#include "envs/navigation.h"
#include "replay/client.h"
#include "replay/item_batch.h"
#include "replay/replay_service.h"

namespace rlx {
namespace {

JobSpec SwarmJob(const std::string& options = "agents=4,obstacles=1") {
  JobSpec spec;
  spec.set_name("swarm");
  spec.set_algorithm("appo");
  spec.set_env("Navigation-v0");
  spec.set_env_options(options);
  spec.set_num_actors(1);
  spec.set_envs_per_actor(2);
  spec.set_seed(3);
  spec.mutable_ppo()->set_network("gnn");
  spec.mutable_ppo()->set_num_steps(8);
  spec.mutable_ppo()->set_num_minibatches(2);
  spec.mutable_stop()->set_max_env_steps(100000);
  return spec;
}

TEST(SwarmRuntimeTest, EveryAgentIsAStreamAndItsGraphItemsRoundTripThroughReplayIntoTheLearner) {
  JobSpec spec = SwarmJob();
  ASSERT_TRUE(ValidateJobSpec(&spec).ok()) << ValidateJobSpec(&spec);
  // One unroll per agent of every env per update: 1 actor x 2 envs x 4 agents.
  EXPECT_EQ(spec.ppo().unrolls_per_update(), 8);
  EXPECT_EQ(spec.max_policy_lag(), 2 * 2 * 4);
  absl::StatusOr<const AlgorithmRuntime*> algorithm = FindAlgorithm("appo");
  ASSERT_TRUE(algorithm.ok());
  absl::StatusOr<std::unique_ptr<JobLearner>> learner =
      (*algorithm)->make_learner(spec, LearnerContext());
  ASSERT_TRUE(learner.ok()) << learner.status();
  absl::StatusOr<std::unique_ptr<ActorWorker>> worker =
      (*algorithm)->make_worker(spec, WorkerOptions{"swarm", {5, 9}});
  ASSERT_TRUE(worker.ok()) << worker.status();
  StateDict params;
  (*learner)->Parameters(&params);
  ASSERT_TRUE((*worker)->SetParameters(params, 0).ok());

  std::vector<Item> items;
  WorkerStep step;
  for (int t = 0; t < 8; ++t) {
    ASSERT_TRUE((*worker)->Step(0, &items, &step).ok());
    EXPECT_EQ(items.size(), t < 7 ? 0u : 8u);
  }
  EXPECT_EQ(step.env_steps, 8 * 8);
  // Env stream 5's four agents, then stream 9's, sequences agent by agent.
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(items[i].metadata().actor_id(), i < 4 ? 5 : 9);
    EXPECT_EQ(items[i].metadata().sequence(), i % 4);
  }

  // Through a real replay table in the columnar batch format.
  auto service = ReplayServiceImpl::Create(ReplayConfig(), ReplayServiceOptions(), nullptr);
  ASSERT_TRUE(service.ok());
  int port = 0;
  auto server = StartGrpcServer("127.0.0.1:0", {service->get()}, &port);
  ASSERT_TRUE(server.ok());
  ReplayClient client(MakeChannel(absl::StrCat("127.0.0.1:", port)));
  TableConfig table;
  table.set_name("swarm");
  table.set_max_size(100);
  table.mutable_sampler()->mutable_fifo();
  table.mutable_rate_limiter()->mutable_queue();
  ASSERT_TRUE(client.CreateTable(table).ok());
  auto builder = ItemBatchBuilder::ForItem(items[0]);
  ASSERT_TRUE(builder.ok()) << builder.status();
  for (const Item& item : items) ASSERT_TRUE(builder->AddItem(item).ok());
  ItemBatch batch;
  builder->TakeInto(&batch);
  ASSERT_TRUE(client.InsertBatches("swarm", {batch}).ok());
  auto sampled = client.SampleBatches("swarm", 8);
  ASSERT_TRUE(sampled.ok()) << sampled.status();
  const ProblemSpec problem = *JobProblem(spec);
  const GraphLayout& layout = problem.graph;
  EXPECT_EQ(layout.max_edges, 8 + 32);
  int rows = 0, valid_slots = 0;
  for (const SampledBatch& b : *sampled) {
    auto reader = ItemBatchReader::Create(b.items());
    ASSERT_TRUE(reader.ok());
    for (int row = 0; row < b.items().num_rows(); ++row, ++rows) {
      const SampledItem s = SampledItemFromBatch(b, *reader, row);
      auto sent = ppo::DecodeUnroll(items[rows], 8, layout.width(), 2);
      auto back = ppo::DecodeUnroll(s.item(), 8, layout.width(), 2);
      ASSERT_TRUE(sent.ok() && back.ok()) << back.status();
      EXPECT_EQ(sent->observations, back->observations);
      EXPECT_EQ(sent->actions, back->actions);
      EXPECT_EQ(sent->rewards, back->rewards);
      for (int64_t t = 0; t < 8; ++t) {
        const float* o = &back->observations[t * layout.width()];
        for (int64_t k = 0; k < layout.max_edges; ++k) {
          const float flag = o[layout.ego_dim + k * layout.slot_width()];
          ASSERT_TRUE(flag == 0.0f || flag == 1.0f);
          valid_slots += flag == 1.0f;
        }
      }
    }
  }
  EXPECT_EQ(rows, 8);
  EXPECT_GT(valid_slots, 0);  // obstacles and neighbours appear as graph edges
  // The actors' path (items format, which carries the sequence): the
  // learner takes every agent's unroll and updates once all 8 are in.
  ASSERT_TRUE(client.Insert("swarm", items).ok());
  auto back = client.Sample("swarm", 8);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 8u);
  for (size_t i = 0; i < back->size(); ++i) {
    const Item& item = (*back)[i].item();
    EXPECT_EQ(item.metadata().agent_id(), static_cast<int>(i % 4));
    ItemOutcome outcome;
    ASSERT_TRUE((*learner)->Consume(item, &outcome).ok());
    EXPECT_TRUE(outcome.used);
    EXPECT_EQ(outcome.learned, i == 7) << i;
  }
  EXPECT_EQ((*learner)->steps(), 64);
  (*service)->Close();
  StopGrpcServer(server->get(), absl::Seconds(1));
}

TEST(SwarmRuntimeTest, GreedyPolicyActsForAllAgentsInOneBatchAsRowByRow) {
  JobSpec spec = SwarmJob("agents=6");
  ASSERT_TRUE(ValidateJobSpec(&spec).ok());
  auto algorithm = *FindAlgorithm("appo");
  auto learner = algorithm->make_learner(spec, LearnerContext());
  ASSERT_TRUE(learner.ok());
  StateDict params;
  (*learner)->Parameters(&params);
  auto policy = algorithm->make_greedy_policy(spec);
  ASSERT_TRUE(policy.ok());
  ASSERT_TRUE((*policy)->SetParameters(params).ok());
  NavigationConfig c;
  c.num_agents = 6;
  auto env = *NavigationEnv::Create(c);
  std::vector<float> obs, batched, one;
  env->Reset(4, &obs);
  ASSERT_TRUE((*policy)->ActBatch(obs, 6, true, &batched).ok());
  ASSERT_EQ(batched.size(), 12u);
  const size_t width = obs.size() / 6;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE((*policy)->Act(absl::MakeConstSpan(&obs[i * width], width), true, &one).ok());
    EXPECT_FLOAT_EQ(one[0], batched[2 * i]);
    EXPECT_FLOAT_EQ(one[1], batched[2 * i + 1]);
  }
  EXPECT_FALSE((*policy)->ActBatch(obs, 5, true, &batched).ok());
}

TEST(SwarmJobSpecTest, MultiAgentSettingsAreCheckedFieldByField) {
  auto errors = [](JobSpec spec) { return std::string(ValidateJobSpec(&spec).message()); };
  JobSpec bad_option = SwarmJob("agents=4,speed=2");
  EXPECT_THAT(errors(bad_option), testing::HasSubstr("env_options: unknown navigation setting \"speed\""));
  JobSpec options_on_cartpole;
  options_on_cartpole.set_name("c");
  options_on_cartpole.set_algorithm("ppo");
  options_on_cartpole.set_env("CartPole-v1");
  options_on_cartpole.set_env_options("agents=4");
  options_on_cartpole.mutable_eval()->add_agents(8);
  options_on_cartpole.mutable_stop()->set_max_env_steps(1000);
  EXPECT_THAT(errors(options_on_cartpole), testing::HasSubstr("env_options: only multi-agent envs"));
  EXPECT_THAT(errors(options_on_cartpole), testing::HasSubstr("eval.agents: only for multi-agent"));
  JobSpec stream = SwarmJob();
  stream.set_algorithm("stream_ac");
  stream.clear_ppo();
  EXPECT_THAT(errors(stream), testing::HasSubstr("multi-agent env: it trains with ppo or appo"));
  JobSpec big = SwarmJob();
  big.mutable_eval()->add_agents(8);
  big.mutable_eval()->add_agents(4096);
  EXPECT_THAT(errors(big), testing::HasSubstr("eval.agents[1]: must be in [1, 1024], got 4096"));
  JobSpec normalized = SwarmJob();
  normalized.mutable_ppo()->set_normalize_observations(true);
  EXPECT_THAT(errors(normalized), testing::HasSubstr("ppo.normalize_observations"));
  JobSpec gnn_on_cartpole = options_on_cartpole;
  gnn_on_cartpole.clear_env_options();
  gnn_on_cartpole.mutable_eval()->clear_agents();
  gnn_on_cartpole.mutable_ppo()->set_network("gnn");
  EXPECT_THAT(errors(gnn_on_cartpole), testing::HasSubstr("needs an env with graph observations"));
  JobSpec typo = SwarmJob();
  typo.mutable_ppo()->set_network("transformer");
  EXPECT_THAT(errors(typo),
              testing::HasSubstr("network: must be \"mlp\", \"gnn\", \"gnn_max\" or \"gnn_typed\""));
  JobSpec heads = SwarmJob();
  heads.mutable_ppo()->set_gnn_heads(3);  // the message width is 64
  EXPECT_THAT(errors(heads), testing::HasSubstr("ppo.gnn_heads: must be >= 1 and divide"));
  heads.mutable_ppo()->set_gnn_heads(4);
  EXPECT_EQ(errors(heads), "");
  JobSpec typed = SwarmJob();  // heads by node type: half over agents, half over LiDAR hits
  typed.mutable_ppo()->set_network("gnn_typed");
  typed.mutable_ppo()->set_gnn_heads(1);
  EXPECT_THAT(errors(typed), testing::HasSubstr("\"gnn_typed\" needs an even number of heads"));
  typed.mutable_ppo()->set_gnn_heads(2);
  EXPECT_EQ(errors(typed), "");
}

}  // namespace
}  // namespace rlx
