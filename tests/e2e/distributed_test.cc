// The whole topology as real processes on 127.0.0.1: replay_server, learner,
// actors and the evaluator, driven through the learner's JobService. Checks
// training progress, clean shutdown, and the fault cases: an actor killed
// with -9, a learner restart (resume from checkpoint, no double counting) and
// a replay server restart (everyone reconnects).
#include <gtest/gtest.h>
#include <signal.h>

#include <google/protobuf/text_format.h>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "job.grpc.pb.h"
#include "replay/client.h"
#include "core/file_util.h"
#include "core/security.h"
#include "tests/test_util.h"

namespace rlx {
namespace {

using Proc = ServingProcess;

class Topology {
 public:
  // security(binary): flags added to each process of that binary (TLS, tokens).
  using SecurityFlags = std::function<std::vector<std::string>(const std::string& binary)>;
  explicit Topology(const std::string& dir, SecurityFlags security = nullptr)
      : dir_(dir), security_(std::move(security)) {}

  // Starts a binary with --port_file and waits for the file. extra are flags.
  absl::StatusOr<Proc> Start(const std::string& binary, const std::string& tag,
                             std::vector<std::string> extra) {
    if (security_) {
      for (std::string& flag : security_(binary)) extra.push_back(std::move(flag));
    }
    return StartWithPortFile(dir_, binary, tag, extra);
  }

  absl::StatusOr<Proc> StartReplay(int port = 0, int checkpoint_interval_s = 1) {
    return Start("replay_server", absl::StrCat("replay", restarts_++),
                 {"--host=127.0.0.1", absl::StrCat("--port=", port), "--metrics_port=-1",
                  "--checkpoint_dir=" + dir_ + "/replay",
                  absl::StrCat("--checkpoint_interval_s=", checkpoint_interval_s)});
  }
  absl::StatusOr<Proc> StartLearner(int replay_port, int port = 0) {
    return Start("learner", absl::StrCat("learner", restarts_++),
                 {"--host=127.0.0.1", absl::StrCat("--port=", port), "--metrics_port=-1",
                  absl::StrCat("--replay=127.0.0.1:", replay_port),
                  "--checkpoint_dir=" + dir_ + "/learner"});
  }
  absl::StatusOr<Proc> StartActor(int learner_port, int replay_port, const std::string& name) {
    return Start("actor", name,
                 {absl::StrCat("--learner=127.0.0.1:", learner_port),
                  absl::StrCat("--replay=127.0.0.1:", replay_port), "--name=" + name,
                  "--metrics_port=-1"});
  }
  absl::StatusOr<Proc> StartEvaluator(int learner_port) {
    return Start("evaluator", "evaluator",
                 {absl::StrCat("--learner=127.0.0.1:", learner_port), "--out_dir=" + dir_ + "/out",
                  "--metrics_port=-1"});
  }

 private:
  std::string dir_;
  SecurityFlags security_;
  int restarts_ = 0;
};

class JobClient {
 public:
  explicit JobClient(int port,
                     const ClientSecurity& security = *ClientSecurity::Insecure())
      : stub_(JobService::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", port), security))) {}
  absl::StatusOr<JobStatus> Submit(const JobSpec& spec) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    SubmitJobRequest r;
    *r.mutable_spec() = spec;
    JobStatus s;
    grpc::Status st = stub_->Submit(&ctx, r, &s);
    if (!st.ok()) return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
    return s;
  }
  // Polls Get until the job has ended (neither queued nor running); *status
  // is the last status read. False if it did not end within timeout.
  bool WaitForEnd(const std::string& name, absl::Duration timeout, JobStatus* status) {
    return WaitFor(
        [&] {
          auto s = Get(name);
          if (s.ok()) *status = *s;
          return s.ok() && status->state() != JOB_QUEUED && status->state() != JOB_RUNNING;
        },
        timeout);
  }
  absl::StatusOr<JobStatus> Get(const std::string& name) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    GetJobRequest r;
    r.set_name(name);
    JobStatus s;
    grpc::Status st = stub_->Get(&ctx, r, &s);
    if (!st.ok()) return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
    return s;
  }

 private:
  std::unique_ptr<JobService::Stub> stub_;
};

JobSpec CartPoleJob(const std::string& name, int64_t steps, int actors) {
  JobSpec spec;
  spec.set_name(name);
  spec.set_algorithm("stream_ac");
  spec.set_env("CartPole-v1");
  spec.set_num_actors(actors);
  spec.set_seed(3);
  spec.set_publish_every(10);
  spec.mutable_stop()->set_max_env_steps(steps);
  spec.mutable_eval()->set_every_learner_steps(4000);
  spec.mutable_eval()->set_episodes(5);
  spec.set_checkpoint_every_steps(1000);
  // Keep the actors close to the learner: lag bounded by the small queue.
  spec.set_table_max_size(256);
  spec.set_max_policy_lag(32);
  return spec;
}

bool Exits0(Proc& p) {
  p.process.Signal(SIGTERM);
  auto code = p.process.Wait(absl::Seconds(30));
  return code.has_value() && *code == 0;
}

TEST(DistributedTest, TrainsCartPoleAcrossProcessesAndShutsDownCleanly) {
  const std::string dir = MakeTempDir("e2e_train");
  Topology topo(dir);
  auto replay = topo.StartReplay();
  ASSERT_TRUE(replay.ok()) << replay.status();
  auto learner = topo.StartLearner(replay->port);
  ASSERT_TRUE(learner.ok()) << learner.status();
  auto a1 = topo.StartActor(learner->port, replay->port, "a1");
  auto a2 = topo.StartActor(learner->port, replay->port, "a2");
  auto eval = topo.StartEvaluator(learner->port);
  ASSERT_TRUE(a1.ok() && a2.ok() && eval.ok());

  JobClient jobs(learner->port);
  ASSERT_TRUE(jobs.Submit(CartPoleJob("cartpole", 16000, 2)).ok());
  JobStatus status;
  ASSERT_TRUE(jobs.WaitForEnd("cartpole", absl::Seconds(150), &status))
      << "job did not finish: env_steps " << status.env_steps();
  EXPECT_EQ(status.state(), JOB_SUCCEEDED) << status.message();
  EXPECT_EQ(status.env_steps(), 16000);
  EXPECT_GE(status.policy_version(), 16000);
  EXPECT_GE(status.actors(), 2);
  // A random CartPole policy scores about 22; learning must clear it by far.
  EXPECT_GT(status.best_eval_return(), 150) << "last eval " << status.last_eval_return()
                                            << ", mean lag " << status.mean_policy_lag();
  EXPECT_TRUE(FileExists(dir + "/out/cartpole/eval_curve.csv"));

  // Metrics answer in every LibTorch process.
  EXPECT_TRUE(HttpGet("127.0.0.1", learner->metrics_port, "/metrics").ok());
  EXPECT_TRUE(HttpGet("127.0.0.1", a1->metrics_port, "/metrics").ok());

  EXPECT_TRUE(Exits0(*eval));
  EXPECT_TRUE(Exits0(*a1));
  EXPECT_TRUE(Exits0(*a2));
  EXPECT_TRUE(Exits0(*learner));
  EXPECT_TRUE(Exits0(*replay));
}

// Parameters published far less often than actors may run ahead
// (publish_every 2000 against max_policy_lag 8): the learner's progress
// messages let actors held by the lag bound go on between versions, so the
// job runs at full pace instead of an actor stall (lag_stall_timeout) per 8
// items, and the lag stays bounded by the items in flight.
TEST(DistributedTest, ActorsHeldByTheLagBoundGoOnBetweenRarePublications) {
  const std::string dir = MakeTempDir("e2e_progress");
  Topology topo(dir);
  auto replay = topo.StartReplay();
  ASSERT_TRUE(replay.ok()) << replay.status();
  auto learner = topo.StartLearner(replay->port);
  ASSERT_TRUE(learner.ok()) << learner.status();
  auto a1 = topo.StartActor(learner->port, replay->port, "a1");
  auto a2 = topo.StartActor(learner->port, replay->port, "a2");
  ASSERT_TRUE(a1.ok() && a2.ok());

  JobClient jobs(learner->port);
  JobSpec spec = CartPoleJob("progress", 6000, 2);
  spec.clear_eval();
  spec.set_publish_every(2000);
  spec.set_max_policy_lag(8);
  ASSERT_TRUE(jobs.Submit(spec).ok());
  JobStatus status;
  const absl::Time start = absl::Now();
  ASSERT_TRUE(jobs.WaitForEnd("progress", absl::Seconds(60), &status))
      << "job did not finish: env_steps " << status.env_steps();
  EXPECT_EQ(status.state(), JOB_SUCCEEDED) << status.message();
  EXPECT_EQ(status.env_steps(), 6000);
  // Without progress messages each actor would wait 10 s after every 8
  // items until the next version (every 2000 steps).
  EXPECT_LT(absl::Now() - start, absl::Seconds(45));
  // The actor counted the progress messages it got.
  absl::StatusOr<std::string> metrics = HttpGet("127.0.0.1", a1->metrics_port, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  double progress = -1;
  for (absl::string_view line : absl::StrSplit(*metrics, '\n')) {
    if (absl::ConsumePrefix(&line, "rl_actor_progress_messages_total ")) {
      ASSERT_TRUE(absl::SimpleAtod(line, &progress)) << line;
    }
  }
  EXPECT_GT(progress, 10);

  EXPECT_TRUE(Exits0(*a1));
  EXPECT_TRUE(Exits0(*a2));
  EXPECT_TRUE(Exits0(*learner));
  EXPECT_TRUE(Exits0(*replay));
}

// The same topology over mutual TLS with tokens (certificates and tokens from
// deploy/make-secrets.sh): every process presents the services' certificate,
// servers require one from the CA and check tokens; the learner holds an
// operator,worker token, actors and evaluator a worker token, the submitting
// client an operator token; inserts carry the learner's write grant. The job
// runs to the end and its evaluations land.
TEST(DistributedTest, TrainsOverMutualTlsWithRoleTokens) {
  const std::string dir = MakeTempDir("e2e_mtls");
  const std::string pki = dir + "/pki";
  const std::string make = absl::StrCat("bash ", RLX_SOURCE_DIR, "/deploy/make-secrets.sh ", pki,
                                        " > /dev/null");
  ASSERT_EQ(std::system(make.c_str()), 0);
  ASSERT_TRUE(WriteStringAtomically(pki + "/grant.key", "e2e-write-grant-key-0123456789abcdef\n")
                  .ok());
  Topology topo(dir, [&](const std::string& binary) {
    std::vector<std::string> flags = {"--tls_cert=" + pki + "/server.pem",
                                      "--tls_key=" + pki + "/server.key",
                                      "--tls_ca=" + pki + "/ca.pem",
                                      "--tls_client_ca=" + pki + "/ca.pem"};
    if (binary == "replay_server" || binary == "learner") {
      flags.push_back("--tokens_file=" + pki + "/tokens");
      // The learner signs each actor lease's table and streams; the replay
      // server stores only rows inside such a grant.
      flags.push_back("--write_grant_key_file=" + pki + "/grant.key");
    }
    if (binary == "learner") flags.push_back("--token_file=" + pki + "/learner.token");
    if (binary == "actor" || binary == "evaluator") {
      flags.push_back("--token_file=" + pki + "/worker.token");
    }
    if (binary == "actor") {  // actors serve no gRPC port
      flags.erase(std::remove_if(flags.begin(), flags.end(),
                                 [](const std::string& f) {
                                   return absl::StartsWith(f, "--tls_client_ca");
                                 }),
                  flags.end());
    }
    return flags;
  });
  auto replay = topo.StartReplay();
  ASSERT_TRUE(replay.ok()) << replay.status();
  auto learner = topo.StartLearner(replay->port);
  ASSERT_TRUE(learner.ok()) << learner.status();
  auto a1 = topo.StartActor(learner->port, replay->port, "a1");
  auto eval = topo.StartEvaluator(learner->port);
  ASSERT_TRUE(a1.ok() && eval.ok());

  SecurityOptions operator_options;
  operator_options.tls_ca = pki + "/ca.pem";
  operator_options.tls_cert = pki + "/client.pem";
  operator_options.tls_key = pki + "/client.key";
  operator_options.token_file = pki + "/operator.token";
  auto operator_security = ClientSecurity::Create(operator_options);
  ASSERT_TRUE(operator_security.ok()) << operator_security.status();
  JobClient jobs(learner->port, **operator_security);
  JobSpec spec = CartPoleJob("cartpole_mtls", 6000, 1);
  spec.mutable_eval()->set_every_learner_steps(2000);
  spec.mutable_eval()->set_episodes(2);
  auto submitted = jobs.Submit(spec);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  JobStatus status;
  ASSERT_TRUE(jobs.WaitForEnd("cartpole_mtls", absl::Seconds(120), &status))
      << "job did not finish: env_steps " << status.env_steps();
  EXPECT_EQ(status.state(), JOB_SUCCEEDED) << status.message();
  EXPECT_EQ(status.env_steps(), 6000);
  EXPECT_TRUE(status.has_last_eval_return()) << "the evaluator's reports were refused?";
  EXPECT_TRUE(FileExists(dir + "/out/cartpole_mtls/eval_curve.csv"));

  // The reader cannot cancel; a client without a certificate gets nothing.
  SecurityOptions reader_options = operator_options;
  reader_options.token_file = pki + "/reader.token";
  JobClient reader(learner->port, **ClientSecurity::Create(reader_options));
  EXPECT_TRUE(reader.Get("cartpole_mtls").ok());
  SecurityOptions no_cert = reader_options;
  no_cert.tls_cert.clear();
  no_cert.tls_key.clear();
  JobClient anonymous(learner->port, **ClientSecurity::Create(no_cert));
  EXPECT_FALSE(anonymous.Get("cartpole_mtls").ok());

  EXPECT_TRUE(Exits0(*eval));
  EXPECT_TRUE(Exits0(*a1));
  EXPECT_TRUE(Exits0(*learner));
  EXPECT_TRUE(Exits0(*replay));
}

// The same processes run a batch learner: synchronous PPO with 2 actors x 2
// envs (unroll items through the replay server's queue table, one update per
// 4 unrolls, actors waiting for the update that used theirs).
TEST(DistributedTest, TrainsCartPoleWithPpoAcrossProcesses) {
  const std::string dir = MakeTempDir("e2e_ppo");
  Topology topo(dir);
  auto replay = topo.StartReplay();
  ASSERT_TRUE(replay.ok()) << replay.status();
  auto learner = topo.StartLearner(replay->port);
  ASSERT_TRUE(learner.ok()) << learner.status();
  auto a1 = topo.StartActor(learner->port, replay->port, "a1");
  auto a2 = topo.StartActor(learner->port, replay->port, "a2");
  auto eval = topo.StartEvaluator(learner->port);
  ASSERT_TRUE(a1.ok() && a2.ok() && eval.ok());

  JobSpec spec;
  spec.set_name("cartpole_ppo");
  spec.set_algorithm("ppo");
  spec.set_env("CartPole-v1");
  spec.set_num_actors(2);
  spec.set_envs_per_actor(2);
  spec.set_seed(3);
  spec.mutable_stop()->set_max_env_steps(40960);
  spec.mutable_eval()->set_every_learner_steps(10240);
  spec.mutable_eval()->set_episodes(5);
  JobClient jobs(learner->port);
  ASSERT_TRUE(jobs.Submit(spec).ok());
  JobStatus status;
  ASSERT_TRUE(jobs.WaitForEnd("cartpole_ppo", absl::Seconds(150), &status))
      << "job did not finish: env_steps " << status.env_steps();
  EXPECT_EQ(status.state(), JOB_SUCCEEDED) << status.message();
  EXPECT_EQ(status.env_steps(), 40960);
  EXPECT_EQ(status.spec().ppo().unrolls_per_update(), 4);
  EXPECT_EQ(status.mean_policy_lag(), 0);
  EXPECT_GE(status.actors(), 2);
  EXPECT_GT(status.best_eval_return(), 150) << "last eval " << status.last_eval_return();
  EXPECT_TRUE(FileExists(dir + "/out/cartpole_ppo/eval_curve.csv"));
  auto metrics = HttpGet("127.0.0.1", learner->metrics_port, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_TRUE(absl::StrContains(*metrics, "rl_learner_approx_kl"));

  EXPECT_TRUE(Exits0(*eval));
  EXPECT_TRUE(Exits0(*a1));
  EXPECT_TRUE(Exits0(*a2));
  EXPECT_TRUE(Exits0(*learner));
  EXPECT_TRUE(Exits0(*replay));
}

TEST(DistributedTest, SurvivesActorKillLearnerRestartAndReplayRestart) {
  const std::string dir = MakeTempDir("e2e_faults");
  Topology topo(dir);
  auto replay = topo.StartReplay();
  ASSERT_TRUE(replay.ok()) << replay.status();
  const int replay_port = replay->port;
  auto learner = topo.StartLearner(replay_port);
  ASSERT_TRUE(learner.ok()) << learner.status();
  const int learner_port = learner->port;
  auto a1 = topo.StartActor(learner_port, replay_port, "a1");
  auto a2 = topo.StartActor(learner_port, replay_port, "a2");
  ASSERT_TRUE(a1.ok() && a2.ok());
  JobSpec spec = CartPoleJob("faults", 1000000, 2);
  spec.clear_eval();
  ASSERT_TRUE(JobClient(learner_port).Submit(spec).ok());

  auto steps = [&]() -> int64_t {
    auto s = JobClient(learner_port).Get("faults");
    return s.ok() ? s->env_steps() : -1;
  };
  ASSERT_TRUE(WaitFor([&] { return steps() > 2000; }, absl::Seconds(60)));
  // Both actors hold the job (2000 steps can pass before the second one's
  // lease retry comes round).
  ASSERT_TRUE(WaitFor([&] { return JobClient(learner_port).Get("faults")->actors() >= 2; },
                      absl::Seconds(30)));

  // 1. kill -9 one actor: the job goes on; a new actor joins.
  a1->process.Signal(SIGKILL);
  a1->process.Wait(absl::Seconds(5));
  int64_t before = steps();
  ASSERT_TRUE(WaitFor([&] { return steps() > before + 1000; }, absl::Seconds(60)));
  // The job wants 2 actors: the new one gets the dead actor's place once
  // that lease ends (its parameter stream closed with the process).
  auto a3 = topo.StartActor(learner_port, replay_port, "a3");
  ASSERT_TRUE(a3.ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto log = ReadFileToString(dir + "/a3.log");
        return log.ok() && absl::StrContains(*log, "leased job faults");
      },
      absl::Seconds(40)));
  EXPECT_EQ(JobClient(learner_port).Get("faults")->actors(), 2);

  // 2. Restart the learner on the same port: counters continue from the
  // checkpoint written at SIGTERM (no reset, no double counting).
  const int64_t at_stop = steps();
  ASSERT_TRUE(Exits0(*learner));
  // The registry written at shutdown holds the count the checkpoint has.
  auto registry_text = ReadFileToString(dir + "/learner/jobs.textproto");
  ASSERT_TRUE(registry_text.ok());
  ListJobsResponse registry;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(*registry_text, &registry));
  ASSERT_EQ(registry.jobs_size(), 1);
  const int64_t checkpointed = registry.jobs(0).env_steps();
  EXPECT_GE(checkpointed, at_stop);
  auto learner2 = topo.StartLearner(replay_port, learner_port);
  ASSERT_TRUE(learner2.ok()) << learner2.status();
  auto resumed = JobClient(learner_port).Get("faults");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  // Counters continue from the checkpoint: neither reset nor counted twice
  // (a little may be learned between the restart and this call).
  EXPECT_GE(resumed->env_steps(), checkpointed);
  EXPECT_LT(resumed->env_steps(), checkpointed + 2000);
  ASSERT_TRUE(WaitFor([&] { return steps() > at_stop + 1000; }, absl::Seconds(60)))
      << "no progress after the learner restart";

  // 3. Restart the replay server on the same port: actors and learner reconnect.
  ASSERT_TRUE(Exits0(*replay));
  auto replay2 = topo.StartReplay(replay_port);
  ASSERT_TRUE(replay2.ok()) << replay2.status();
  before = steps();
  ASSERT_TRUE(WaitFor([&] { return steps() > before + 1000; }, absl::Seconds(60)))
      << "no progress after the replay server restart";

  EXPECT_TRUE(Exits0(*a2));
  EXPECT_TRUE(Exits0(*a3));
  EXPECT_TRUE(Exits0(*learner2));
  EXPECT_TRUE(Exits0(*replay2));
}

// A replay server killed before its first periodic checkpoint used to come
// back without the job's table, and the job sat RUNNING with frozen counters.
TEST(DistributedTest, JobGoesOnWhenTheReplayServerDiesBeforeItsFirstCheckpoint) {
  const std::string dir = MakeTempDir("e2e_replay_kill");
  Topology topo(dir);
  auto replay = topo.StartReplay(0, /*checkpoint_interval_s=*/3600);
  ASSERT_TRUE(replay.ok()) << replay.status();
  const int replay_port = replay->port;
  auto learner = topo.StartLearner(replay_port);
  ASSERT_TRUE(learner.ok()) << learner.status();
  const int learner_port = learner->port;
  auto actor = topo.StartActor(learner_port, replay_port, "a1");
  ASSERT_TRUE(actor.ok());
  JobSpec spec = CartPoleJob("replay_kill", 1000000, 1);
  spec.clear_eval();
  ASSERT_TRUE(JobClient(learner_port).Submit(spec).ok());
  auto steps = [&]() -> int64_t {
    auto s = JobClient(learner_port).Get("replay_kill");
    return s.ok() ? s->env_steps() : -1;
  };
  ASSERT_TRUE(WaitFor([&] { return steps() > 1000; }, absl::Seconds(60)));

  replay->process.Signal(SIGKILL);
  replay->process.Wait(absl::Seconds(5));
  auto replay2 = topo.StartReplay(replay_port, 3600);
  ASSERT_TRUE(replay2.ok()) << replay2.status();
  const int64_t before = steps();
  ASSERT_TRUE(WaitFor([&] { return steps() > before + 1000; }, absl::Seconds(60)))
      << "no progress after the replay server came back without a checkpoint";
  EXPECT_EQ(JobClient(learner_port).Get("replay_kill")->state(), JOB_RUNNING);

  EXPECT_TRUE(Exits0(*actor));
  EXPECT_TRUE(Exits0(*learner));
  EXPECT_TRUE(Exits0(*replay2));
}

}  // namespace
}  // namespace rlx
