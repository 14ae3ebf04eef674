// In-process stand-ins for the learner process, for actor tests: the
// JobService and ParameterService of one running job (sync API; streams end
// when the job ends), and a trainer that learns from the job's replay table
// with a real StreamLearner and publishes after every transition.
#ifndef RLX_TESTS_ACTOR_FAKE_LEARNER_H_
#define RLX_TESTS_ACTOR_FAKE_LEARNER_H_

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/synchronization/mutex.h"
#include "job.grpc.pb.h"
#include "learner.grpc.pb.h"
#include "algorithms/stream_x/learner.h"
#include "core/state_dict.h"
#include "algorithms/job_spec.h"
#include "algorithms/stream_x/job_config.h"
#include "algorithms/stream_x/transition_codec.h"
#include "replay/client.h"

namespace rlx {

inline JobSpec MakeSpec(const std::string& name, int envs, int max_policy_lag) {
  JobSpec spec;
  spec.set_name(name);
  spec.set_algorithm("stream_ac");
  spec.set_env("CartPole-v1");
  spec.set_num_actors(1);
  spec.set_envs_per_actor(envs);
  spec.mutable_stop()->set_max_env_steps(100000);
  spec.set_seed(7);
  spec.set_max_policy_lag(max_policy_lag);
  absl::Status s = ValidateJobSpec(&spec);
  EXPECT_TRUE(s.ok()) << s;
  return spec;
}

// What the fake learner's two services share: the running job's assignment
// and its newest parameters.
class FakeJobState {
 public:
  void Start(const Assignment& assignment) {
    absl::MutexLock lock(&mu_);
    assignment_ = assignment;
    running_ = true;
    ++generation_;
    latest_.reset();
  }
  // Ends the job: parameter streams end with OK, leases get UNAVAILABLE.
  void End() {
    absl::MutexLock lock(&mu_);
    running_ = false;
  }
  void Publish(const PolicySnapshot& snapshot, int64_t version) {
    auto p = std::make_shared<Parameters>();
    StateDict dict;
    SaveSnapshot(snapshot, &dict);
    for (NamedTensor& t : dict) *p->add_tensors() = std::move(t);
    p->set_version(version);
    absl::MutexLock lock(&mu_);
    p->set_job_name(assignment_.job_name());
    latest_ = std::move(p);
  }
  int leases() const {
    absl::MutexLock lock(&mu_);
    return leases_;
  }

  grpc::Status Lease(const LeaseAssignmentRequest& request, Assignment* out) {
    absl::MutexLock lock(&mu_);
    if (!running_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no running job");
    EXPECT_EQ(request.role(), "actor");
    ++leases_;
    *out = assignment_;
    return grpc::Status::OK;
  }

  grpc::Status Watch(grpc::ServerContext* ctx, const WatchParametersRequest& request,
                     grpc::ServerWriter<Parameters>* writer) {
    absl::MutexLock lock(&mu_);
    if (!running_ || request.job_name() != assignment_.job_name()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "job not running");
    }
    const int generation = generation_;
    int64_t sent = request.after_version();
    auto news = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return generation_ != generation || !running_ ||
             (latest_ != nullptr && latest_->version() > sent);
    };
    while (true) {
      // Bounded waits so a cancelled call (actor gone, server shutdown) returns.
      if (!mu_.AwaitWithTimeout(absl::Condition(&news), absl::Milliseconds(20))) {
        if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
        continue;
      }
      if (generation_ != generation || !running_) return grpc::Status::OK;
      std::shared_ptr<const Parameters> p = latest_;
      sent = p->version();
      mu_.Unlock();
      const bool ok = writer->Write(*p);
      mu_.Lock();
      if (!ok) return grpc::Status::CANCELLED;
    }
  }

 private:
  mutable absl::Mutex mu_;
  Assignment assignment_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  int generation_ ABSL_GUARDED_BY(mu_) = 0;
  int leases_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<const Parameters> latest_ ABSL_GUARDED_BY(mu_);
};

class FakeJobService final : public JobService::Service {
 public:
  explicit FakeJobService(FakeJobState* state) : state_(state) {}
  grpc::Status LeaseAssignment(grpc::ServerContext*, const LeaseAssignmentRequest* request,
                               Assignment* response) override {
    return state_->Lease(*request, response);
  }

 private:
  FakeJobState* state_;
};

class FakeParameterService final : public ParameterService::Service {
 public:
  explicit FakeParameterService(FakeJobState* state) : state_(state) {}
  grpc::Status WatchParameters(grpc::ServerContext* ctx, const WatchParametersRequest* request,
                               grpc::ServerWriter<Parameters>* writer) override {
    return state_->Watch(ctx, *request, writer);
  }

 private:
  FakeJobState* state_;
};

// The learner side: a real StreamLearner taking the job's table in insertion
// order, learning every transition (one StreamState per actor stream) and
// publishing after each (version = transitions learned), up to max_learn.
class FakeTrainer {
 public:
  FakeTrainer(FakeJobState* state, ReplayClient* client, const JobSpec& spec, bool consume,
              int64_t max_learn = INT64_MAX)
      : state_(state), client_(client), table_(spec.table()), max_learn_(max_learn) {
    auto problem = JobProblem(spec);
    auto config = JobStreamConfig(spec);
    EXPECT_TRUE(problem.ok() && config.ok());
    auto learner = StreamLearner::Create(*problem, *config, spec.seed());
    EXPECT_TRUE(learner.ok()) << learner.status();
    learner_ = std::move(*learner);
    PublishNow();
    if (consume) thread_ = std::thread([this] { Loop(); });
  }
  ~FakeTrainer() { Stop(); }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }
  int64_t received() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int64_t>(items_.size());
  }
  std::vector<Item> items() const {
    absl::MutexLock lock(&mu_);
    return items_;
  }
  std::vector<std::string> errors() const {
    absl::MutexLock lock(&mu_);
    return errors_;
  }
  // Learner steps when each item arrived (before learning it).
  std::vector<int64_t> steps_at_arrival() const {
    absl::MutexLock lock(&mu_);
    return steps_at_arrival_;
  }
  PolicySnapshot snapshot() const {
    absl::MutexLock lock(&mu_);
    PolicySnapshot s;
    learner_->GetSnapshot(&s);
    return s;
  }
  void PublishNow() {
    PolicySnapshot s;
    learner_->GetSnapshot(&s);
    state_->Publish(s, learner_->steps());
  }

 private:
  void Loop() {
    std::vector<SampledItem> batch;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (stop_) return;
      }
      auto stream = client_->NewSampleStream(table_, /*credit=*/32, /*max_batch=*/32,
                                             /*timeout_ms=*/100);
      while (stream->Next(&batch).ok()) {
        for (const SampledItem& sampled : batch) Learn(sampled.item());
      }
    }
  }

  void Learn(const Item& item) {
    absl::MutexLock lock(&mu_);
    items_.push_back(item);
    steps_at_arrival_.push_back(learner_->steps());
    if (learner_->steps() >= max_learn_) return;
    absl::StatusOr<Transition> t = DecodeTransition(item);
    if (!t.ok()) {
      errors_.push_back(t.status().ToString());
      return;
    }
    auto [it, inserted] = streams_.try_emplace(item.metadata().actor_id());
    if (inserted) it->second = learner_->NewStream();
    if (absl::Status s = learner_->Learn(*t, &it->second); !s.ok()) {
      errors_.push_back(s.ToString());
      return;
    }
    PolicySnapshot snapshot;
    learner_->GetSnapshot(&snapshot);
    state_->Publish(snapshot, learner_->steps());
  }

  FakeJobState* state_;
  ReplayClient* client_;
  const std::string table_;
  const int64_t max_learn_;
  mutable absl::Mutex mu_;
  std::unique_ptr<StreamLearner> learner_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, StreamState> streams_ ABSL_GUARDED_BY(mu_);
  std::vector<Item> items_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> steps_at_arrival_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace rlx

#endif  // RLX_TESTS_ACTOR_FAKE_LEARNER_H_
