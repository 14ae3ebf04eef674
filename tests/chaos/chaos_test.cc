// Chaos: a job runs on an `rlctl up` topology (replay server, learner, two
// actors, evaluator, preference server; the supervisor restarts what dies)
// while this test kill -9s the replay server, the learner, each actor and
// the evaluator at seeded random moments, RLX_CHAOS_KILLS times each. Then:
//   - the job ends SUCCEEDED with an evaluation at its target return;
//   - the learner's step counter never goes backwards except when the
//     learner itself is killed, and then it resumes from its newest
//     checkpoint (it falls back by less than checkpoint_every_steps);
//   - every item the replay server acknowledged before its last completed
//     checkpoint is there after each replay kill (an audit queue table the
//     test fills, checkpoints and drains around every replay kill);
//   - it prints each fault injected and survived.
// Environment: RLX_CHAOS_SEED (default 1), RLX_CHAOS_KILLS (per process,
// default 1: the short form CI runs), RLX_CHAOS_TIMEOUT_S (default 300).
// scripts/chaos.sh runs the long form over several seeds.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/local_cluster.h"
#include "core/file_util.h"
#include "core/security.h"
#include "job.grpc.pb.h"
#include "replay/client.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  int64_t out = 0;
  return v != nullptr && absl::SimpleAtoi(v, &out) ? out : fallback;
}

constexpr char kAuditTable[] = "chaos_audit";
constexpr int64_t kCheckpointEvery = 1000;

class Chaos {
 public:
  explicit Chaos(std::string state) : state_(std::move(state)) {}

  absl::StatusOr<cli::Topology> Topology() const {
    return cli::ReadTopology(cli::TopologyPath(state_));
  }
  // The record of a process, or NOT_FOUND.
  absl::StatusOr<cli::ProcessRecord> Record(const std::string& name) const {
    absl::StatusOr<cli::Topology> t = Topology();
    if (!t.ok()) return t.status();
    for (const cli::ProcessRecord& p : t->processes) {
      if (p.name == name) return p;
    }
    return absl::NotFoundError(name);
  }
  // Waits until name runs (after restarts > min_restarts when given).
  absl::StatusOr<cli::ProcessRecord> WaitRunning(const std::string& name, int min_restarts,
                                                 absl::Duration timeout) const {
    absl::StatusOr<cli::ProcessRecord> r = absl::DeadlineExceededError(name);
    WaitFor(
        [&] {
          r = Record(name);
          return r.ok() && r->state == "running" && r->pid > 0 && r->restarts >= min_restarts;
        },
        timeout);
    if (r.ok() && (r->state != "running" || r->restarts < min_restarts)) {
      return absl::DeadlineExceededError(
          absl::StrCat(name, " is ", r->state, " after ", r->restarts, " restarts"));
    }
    return r;
  }

 private:
  std::string state_;
};

Item AuditItem(int64_t id) {
  Item item;
  item.mutable_metadata()->set_actor_id(id);
  NamedTensor* t = item.add_tensors();
  t->set_name("id");
  t->mutable_tensor()->set_dtype(DTYPE_INT64);
  t->mutable_tensor()->add_shape(1);
  t->mutable_tensor()->set_data(std::string(reinterpret_cast<const char*>(&id), sizeof(id)));
  return item;
}

TEST(ChaosTest, JobReachesItsTargetThroughKill9OfEveryProcess) {
  const uint64_t seed = static_cast<uint64_t>(EnvInt("RLX_CHAOS_SEED", 1));
  const int kills = static_cast<int>(EnvInt("RLX_CHAOS_KILLS", 1));
  const absl::Duration timeout = absl::Seconds(EnvInt("RLX_CHAOS_TIMEOUT_S", 300));
  const absl::Time deadline = absl::Now() + timeout;
  std::mt19937_64 rng(seed);
  std::printf("chaos: seed %llu, %d kill(s) per process\n", static_cast<unsigned long long>(seed),
              kills);

  const std::string dir = MakeTempDir("chaos");
  const std::string state = dir + "/state";
  const std::string rlctl = BinaryPath("rlctl");
  auto up = Subprocess::Start({rlctl, "up", "--state_dir=" + state, "--actors=2",
                               "--metrics=false"},
                              dir + "/up.log");
  ASSERT_TRUE(up.ok());
  ASSERT_EQ(up->Wait(absl::Seconds(120)).value_or(-1), 0)
      << ReadFileToString(dir + "/up.log").value_or("");
  struct Down {
    std::string rlctl, state, dir;
    ~Down() {
      auto down = Subprocess::Start({rlctl, "down", "--state_dir=" + state, "--timeout_s=5"},
                                    dir + "/down.log");
      if (down.ok()) down->Wait(absl::Seconds(60));
    }
  } down{rlctl, state, dir};

  Chaos chaos(state);
  auto topology = chaos.Topology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto jobs = JobService::NewStub(MakeChannel(topology->learner_address));
  ReplayClient replay(MakeChannel(topology->replay_address));

  // The audit table: a queue nobody but this test reads.
  TableConfig audit;
  audit.set_name(kAuditTable);
  audit.set_max_size(1 << 20);
  audit.mutable_sampler()->mutable_fifo();
  audit.mutable_rate_limiter()->mutable_queue();
  ASSERT_TRUE(replay.CreateTable(audit).ok());

  JobSpec spec;
  spec.set_name("chaos");
  spec.set_algorithm("stream_ac");
  // Acrobot: a greedy untrained policy scores about -500 (CartPole's can
  // balance by chance), so reaching the target takes real learning.
  spec.set_env("Acrobot-v1");
  spec.set_num_actors(2);
  spec.set_seed(seed);
  spec.set_publish_every(10);
  spec.set_table_max_size(256);
  spec.set_max_policy_lag(32);
  spec.set_checkpoint_every_steps(kCheckpointEvery);
  // Faults come at env-step milestones (so all of them fall inside the job
  // whatever the machine's speed); the job runs to max_env_steps and must
  // have reached the target return on the way.
  std::vector<std::string> victims;
  for (int k = 0; k < kills; ++k) {
    for (const char* name : {"replay", "learner", "actor-0", "actor-1", "evaluator"}) {
      victims.push_back(name);
    }
  }
  std::shuffle(victims.begin(), victims.end(), rng);
  constexpr int64_t kStepsPerFault = 20000;
  constexpr double kTarget = -100;  // Acrobot-v1's "solved"
  spec.mutable_stop()->set_max_env_steps(kStepsPerFault * (static_cast<int64_t>(victims.size()) + 1));
  spec.mutable_eval()->set_every_learner_steps(5000);
  spec.mutable_eval()->set_episodes(5);
  const absl::Time submitted = absl::Now();
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    SubmitJobRequest request;
    *request.mutable_spec() = spec;
    JobStatus status;
    const grpc::Status s = jobs->Submit(&ctx, request, &status);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  auto get = [&]() -> absl::StatusOr<JobStatus> {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    GetJobRequest request;
    request.set_name("chaos");
    JobStatus status;
    const grpc::Status s = jobs->Get(&ctx, request, &status);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    return status;
  };

  // The counter, watched between faults: it may fall back only across a
  // learner kill, and then by less than checkpoint_every_steps.
  int64_t last_steps = 0;
  int64_t worst_fallback = 0;
  bool ended = false;
  JobStatus final_status;
  auto watch_for = [&](absl::Duration d, bool learner_killed) {
    const absl::Time until = absl::Now() + d;
    bool may_fall_back = learner_killed;
    while (absl::Now() < until && !ended) {
      absl::StatusOr<JobStatus> s = get();
      if (s.ok()) {
        const int64_t steps = s->env_steps();
        if (steps < last_steps) {
          const int64_t fallback = last_steps - steps;
          EXPECT_TRUE(may_fall_back) << "the step counter went back from " << last_steps
                                     << " to " << steps << " without a learner restart";
          EXPECT_LT(fallback, kCheckpointEvery)
              << "the restarted learner did not resume from its newest checkpoint: "
              << last_steps << " -> " << steps;
          worst_fallback = std::max(worst_fallback, fallback);
          may_fall_back = false;
        }
        last_steps = steps;
        if (s->state() != JOB_QUEUED && s->state() != JOB_RUNNING) {
          ended = true;
          final_status = *s;
        }
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  };

  std::uniform_int_distribution<int64_t> jitter(-kStepsPerFault / 4, kStepsPerFault / 4);
  std::map<std::string, int> survived;
  int64_t audit_id = 0, audited = 0, audit_after_checkpoint_kept = 0;
  for (size_t f = 0; f < victims.size(); ++f) {
    const std::string& victim = victims[f];
    const int64_t milestone = kStepsPerFault * static_cast<int64_t>(f + 1) + jitter(rng);
    while (!ended && absl::Now() < deadline && last_steps < milestone) {
      watch_for(absl::Milliseconds(200), false);
    }
    ASSERT_FALSE(ended) << "the job ended after " << f << " of " << victims.size()
                        << " faults: " << JobState_Name(final_status.state()) << " "
                        << final_status.message();
    ASSERT_LT(absl::Now(), deadline) << "out of time after " << f << " faults, at env step "
                                     << last_steps;
    auto before = chaos.WaitRunning(victim, 0, absl::Seconds(60));
    ASSERT_TRUE(before.ok()) << before.status();

    std::vector<int64_t> must_keep;
    if (victim == "replay") {
      // Items acknowledged, then a completed checkpoint, then more items
      // (which may or may not survive), then the kill.
      std::vector<Item> items;
      for (int i = 0; i < 50; ++i) {
        must_keep.push_back(audit_id);
        items.push_back(AuditItem(audit_id++));
      }
      ASSERT_TRUE(replay.Insert(kAuditTable, items).ok());
      auto ckpt = replay.Checkpoint();
      ASSERT_TRUE(ckpt.ok()) << ckpt.status();
      std::vector<Item> later;
      for (int i = 0; i < 10; ++i) later.push_back(AuditItem(audit_id++));
      (void)replay.Insert(kAuditTable, later, absl::Seconds(5));
    }
    ASSERT_EQ(::kill(before->pid, SIGKILL), 0) << victim << " pid " << before->pid;
    std::printf("chaos: fault %zu/%zu: kill -9 %s (pid %d) at env step %lld\n", f + 1,
                victims.size(), victim.c_str(), before->pid, static_cast<long long>(last_steps));
    std::fflush(stdout);
    auto after = chaos.WaitRunning(victim, before->restarts + 1, absl::Seconds(90));
    ASSERT_TRUE(after.ok()) << victim << " was not restarted: " << after.status();

    if (victim == "replay") {
      ASSERT_TRUE(replay.WaitUntilServing(absl::Seconds(30)));
      absl::StatusOr<InfoResponse> info;
      ASSERT_TRUE(WaitFor([&] { return (info = replay.Info(kAuditTable)).ok(); },
                          absl::Seconds(30)))
          << "the audit table is gone after the restart";
      const int64_t size = info->tables(0).size();
      std::set<int64_t> present;
      if (size > 0) {
        auto drained = replay.Sample(kAuditTable, size, absl::Seconds(30));
        ASSERT_TRUE(drained.ok()) << drained.status();
        for (const SampledItem& s : *drained) present.insert(s.item().metadata().actor_id());
      }
      for (int64_t id : must_keep) {
        EXPECT_TRUE(present.count(id)) << "audit item " << id
                                       << " was acknowledged before the checkpoint but is lost";
      }
      audited += static_cast<int64_t>(must_keep.size());
      audit_after_checkpoint_kept += static_cast<int64_t>(present.size()) -
                                     static_cast<int64_t>(must_keep.size());
    }
    ++survived[victim];
    std::printf("chaos: survived: %s restarted (pid %d, restarts %d)\n", victim.c_str(),
                after->pid, after->restarts);
    std::fflush(stdout);
    watch_for(absl::Seconds(1), victim == "learner");
  }

  // Every fault is in; the job must now reach its target.
  while (!ended && absl::Now() < deadline) watch_for(absl::Seconds(1), false);
  ASSERT_TRUE(ended) << "the job did not end within " << timeout << " (env steps " << last_steps
                     << ")";
  EXPECT_EQ(final_status.state(), JOB_SUCCEEDED) << final_status.message();
  ASSERT_TRUE(final_status.has_best_eval_return());
  EXPECT_GE(final_status.best_eval_return(), kTarget) << final_status.message();
  std::printf("chaos: seed %llu: %zu faults injected and survived (", static_cast<unsigned long long>(seed),
              victims.size());
  for (const auto& [name, n] : survived) std::printf(" %s x%d", name.c_str(), n);
  std::printf(" ); job %s at %lld env steps, best eval %.1f, %.0f s; learner fell back at most "
              "%lld steps; %lld audit items kept across replay kills (+%lld acknowledged after "
              "the checkpoint)\n",
              JobState_Name(final_status.state()).c_str(),
              static_cast<long long>(final_status.env_steps()), final_status.best_eval_return(),
              absl::ToDoubleSeconds(absl::Now() - submitted),
              static_cast<long long>(worst_fallback), static_cast<long long>(audited),
              static_cast<long long>(audit_after_checkpoint_kept));
}

}  // namespace
}  // namespace rlx
