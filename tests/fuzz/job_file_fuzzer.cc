// Fuzz target "job_file": a job file as rlctl and the learner read it
// (cli/job_file.h, algorithms/job_spec.h): text format or JSON -> JobSpec ->
// validation with defaults. Invariants: rlctl's check and the learner's
// validation agree; a validated spec validates again unchanged (actors and
// the evaluator validate the spec the learner sends them), also after a trip
// through text format; and what the processes derive from a valid spec (its
// problem, memory estimate, agents per env) can be derived.
#include <string>

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "algorithms/job_spec.h"
#include "cli/job_file.h"
#include "job.pb.h"
#include "tests/fuzz/fuzz_target.h"

RLX_FUZZ_TARGET(job_file) {
  using namespace rlx;
  const std::string contents(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<JobSpec> spec = cli::ParseJobText(contents);
  if (!spec.ok()) {
    RLX_FUZZ_CHECK(spec.status().code() == absl::StatusCode::kInvalidArgument,
                   spec.status().ToString());
    return 0;
  }
  const absl::Status checked = cli::CheckJobSpec(*spec);
  JobSpec full = *spec;
  const absl::Status valid = ValidateJobSpec(&full);
  RLX_FUZZ_CHECK(checked.ok() == valid.ok(),
                 absl::StrCat("rlctl: ", checked.ToString(), "; learner: ", valid.ToString()));
  if (!valid.ok()) {
    RLX_FUZZ_CHECK(valid.code() == absl::StatusCode::kInvalidArgument, valid.ToString());
    RLX_FUZZ_CHECK(absl::StartsWith(valid.message(), "invalid job: "), valid.ToString());
    return 0;
  }
  const std::string full_bytes = full.SerializeAsString();
  JobSpec twice = full;
  const absl::Status again = ValidateJobSpec(&twice);
  RLX_FUZZ_CHECK(again.ok(), absl::StrCat("a validated spec fails validation: ", again.ToString()));
  RLX_FUZZ_CHECK(twice.SerializeAsString() == full_bytes,
                 "validating a validated spec changed it");
  // As text (rlctl status, the checkpoint folder's jobs.textproto) and back.
  std::string text;
  RLX_FUZZ_CHECK(google::protobuf::TextFormat::PrintToString(full, &text), "PrintToString");
  absl::StatusOr<JobSpec> reparsed = ParseJobSpec(text);
  RLX_FUZZ_CHECK(reparsed.ok(), absl::StrCat("a valid spec's text does not parse: ",
                                             reparsed.status().ToString(), "\n", text));
  const absl::Status revalidated = ValidateJobSpec(&*reparsed);
  RLX_FUZZ_CHECK(revalidated.ok(),
                 absl::StrCat("a valid spec's text fails validation: ", revalidated.ToString()));
  // What the learner, actors and evaluator derive from it.
  absl::StatusOr<ProblemSpec> problem = JobProblem(full);
  RLX_FUZZ_CHECK(problem.ok(), problem.status().ToString());
  absl::StatusOr<JobMemoryEstimate> memory = EstimateJobMemory(full);
  RLX_FUZZ_CHECK(memory.ok(), memory.status().ToString());
  RLX_FUZZ_CHECK(JobAgentsPerEnv(full) >= 1, "JobAgentsPerEnv < 1");
  return 0;
}

// Valid jobs as JSON (the shipped text-format jobs are copied into the corpus
// as they are: tests/fuzz/corpus/job_file/jobs_*).
RLX_FUZZ_SEEDS(job_file) {
  using namespace rlx;
  std::vector<std::string> seeds;
  const char* texts[] = {
      R"pb(name: "json_ppo" algorithm: "ppo" env: "CartPole-v1" num_actors: 2
           ppo { num_steps: 64 hidden: [ 16, 16 ] } stop { max_env_steps: 5000 })pb",
      R"pb(name: "json_stream_q" algorithm: "stream_q" env: "CartPole-v1"
           stream_x { hidden: [ 32 ] epsilon_end: 0.05 }
           stop { max_wall_seconds: 60 target_eval_return: 100 }
           eval { every_learner_steps: 100 episodes: 3 })pb",
      R"pb(name: "json_swarm" algorithm: "ppo" env: "Navigation-v0"
           env_options: "agents=3" stop { max_env_steps: 1000 })pb",
  };
  for (const char* text : texts) {
    absl::StatusOr<JobSpec> spec = ParseJobSpec(text);
    if (!spec.ok()) continue;
    std::string json;
    if (google::protobuf::util::MessageToJsonString(*spec, &json).ok()) seeds.push_back(json);
    seeds.push_back(text);
  }
  return seeds;
}
