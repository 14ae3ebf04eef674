// Fuzz target "learner_checkpoint": the learner's checkpoint reader. The input
// is a <checkpoint_dir>/<job>/learner.ckpt file (core/state_dict.h: length-
// delimited NamedTensors). It is read the way a learner resumes a job
// (learner/job_run.cc, JobRun's constructor and RestoreCheckpoint):
// ParseStateFile (what ReadStateFile reads), the job's own entries
// ("job/progress", "job/counters", "job/eval") and the algorithm's
// JobLearner::RestoreState. Four learners, made once through the algorithm
// registry from small job specs: PPO (CartPole, discrete), APPO (Pendulum,
// continuous, normalisation), Stream AC and Stream Q (CartPole). A restore either fails with an error and changes nothing, or
// succeeds; after a success the learner's own state must restore again.
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>

#include "absl/strings/str_cat.h"
#include "algorithms/job_spec.h"
#include "algorithms/registry.h"
#include "core/state_dict.h"
#include "tests/fuzz/fuzz_target.h"

namespace rlx::fuzz {
namespace {

constexpr const char* kJobs[] = {
    R"pb(name: "ppo" algorithm: "ppo" env: "CartPole-v1" num_actors: 1
         ppo { num_steps: 8 num_minibatches: 2 update_epochs: 1 hidden: [ 8 ] }
         stop { max_env_steps: 1000 })pb",
    R"pb(name: "appo" algorithm: "appo" env: "Pendulum-v1" num_actors: 1
         ppo { num_steps: 8 num_minibatches: 2 update_epochs: 1 hidden: [ 4, 4 ]
               normalize_observations: true normalize_rewards: true }
         stop { max_env_steps: 1000 })pb",
    R"pb(name: "stream_ac" algorithm: "stream_ac" env: "CartPole-v1" num_actors: 1
         stream_x { hidden: [ 8 ] } stop { max_env_steps: 1000 })pb",
    R"pb(name: "stream_q" algorithm: "stream_q" env: "CartPole-v1" num_actors: 1
         stream_x { hidden: [ 4 ] } stop { max_env_steps: 1000 })pb",
};

struct Learner {
  std::string name;
  std::unique_ptr<JobLearner> learner;
};

std::vector<Learner>& Learners() {
  static auto* learners = [] {
    auto* out = new std::vector<Learner>();
    for (const char* text : kJobs) {
      absl::StatusOr<JobSpec> spec = ParseJobSpec(text);
      RLX_FUZZ_CHECK(spec.ok(), spec.status().ToString());
      const absl::Status valid = ValidateJobSpec(&*spec);
      RLX_FUZZ_CHECK(valid.ok(), valid.ToString());
      absl::StatusOr<const AlgorithmRuntime*> algorithm = FindAlgorithm(spec->algorithm());
      RLX_FUZZ_CHECK(algorithm.ok(), algorithm.status().ToString());
      absl::StatusOr<std::unique_ptr<JobLearner>> learner =
          (*algorithm)->make_learner(*spec, LearnerContext());
      RLX_FUZZ_CHECK(learner.ok(), learner.status().ToString());
      out->push_back(Learner{spec->name(), std::move(*learner)});
    }
    return out;
  }();
  return *learners;
}

// The job's own entries (learner/job_run.cc): the progress JobRun's
// constructor shows while the run sets up, and what RestoreCheckpoint reads
// after the learner's part (counters, evaluation record).
void RestoreJobEntries(const StateDict& dict) {
  std::vector<int64_t> progress;
  if (GetInt64s(dict, "job/progress", 2, &progress).ok()) {
    RLX_FUZZ_CHECK(progress.size() == 2, "GetInt64s returned the wrong size");
  }
  std::vector<int64_t> counters;
  std::vector<double> eval;
  if (!GetInt64s(dict, "job/counters", 3, &counters).ok()) return;
  if (!GetDoubles(dict, "job/eval", 4, &eval).ok()) return;
  RLX_FUZZ_CHECK(counters.size() == 3 && eval.size() == 4, "Get* returned the wrong size");
}

std::string Serialize(const StateDict& dict) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  for (const NamedTensor& entry : dict) {
    RLX_FUZZ_CHECK(google::protobuf::util::SerializeDelimitedToZeroCopyStream(entry, &stream),
                   "serializing a state entry");
  }
  return out;
}

// The state a learner writes (JobRun::WriteCheckpoint), serialized.
std::string CheckpointOf(const JobLearner& learner) {
  StateDict dict;
  learner.SaveState(&dict);
  AddInt64s(&dict, "job/counters", {3, 2, 1500});
  AddInt64s(&dict, "job/progress", {learner.steps(), 3});
  AddDoubles(&dict, "job/eval", {12.5, 20.0, 100.0, 1.0});
  return Serialize(dict);
}

}  // namespace
}  // namespace rlx::fuzz

RLX_FUZZ_TARGET(learner_checkpoint) {
  using namespace rlx;
  using namespace rlx::fuzz;
  absl::StatusOr<StateDict> dict =
      ParseStateFile(absl::string_view(reinterpret_cast<const char*>(data), size), "learner.ckpt");
  if (!dict.ok()) {
    RLX_FUZZ_CHECK(dict.status().code() == absl::StatusCode::kDataLoss, dict.status().ToString());
    return 0;
  }
  RestoreJobEntries(*dict);
  for (Learner& l : Learners()) {
    // What the learner holds now, to compare with after a failed restore.
    StateDict before;
    l.learner->SaveState(&before);
    const int64_t steps_before = l.learner->steps();
    const absl::Status restored = l.learner->RestoreState(*dict);
    if (!restored.ok()) {
      StateDict after;
      l.learner->SaveState(&after);
      RLX_FUZZ_CHECK(Serialize(after) == Serialize(before) && l.learner->steps() == steps_before,
                     absl::StrCat(l.name, ": a failed restore (", restored.ToString(),
                                  ") changed the learner"));
      continue;
    }
    // Resumed: the learner publishes, and its own state restores again.
    StateDict parameters;
    l.learner->Parameters(&parameters);
    StateDict saved;
    l.learner->SaveState(&saved);
    const absl::Status again = l.learner->RestoreState(saved);
    RLX_FUZZ_CHECK(again.ok(), absl::StrCat(l.name, ": the learner's own state does not restore: ",
                                            again.ToString()));
    StateDict saved_again;
    l.learner->SaveState(&saved_again);
    RLX_FUZZ_CHECK(Serialize(saved_again) == Serialize(saved),
                   absl::StrCat(l.name, ": save/restore/save changed the state"));
  }
  return 0;
}

RLX_FUZZ_SEEDS(learner_checkpoint) {
  std::vector<std::string> seeds;
  for (const rlx::fuzz::Learner& l : rlx::fuzz::Learners()) {
    seeds.push_back(rlx::fuzz::CheckpointOf(*l.learner));
  }
  return seeds;
}
