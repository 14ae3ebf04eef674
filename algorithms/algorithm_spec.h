// What the job-file layer knows about each algorithm: its name, the config
// of JobSpec's `config` oneof it reads, its defaults, its checks and its
// memory estimate. Torch-free (library rlx::job_spec, which rlctl links);
// the running side of an algorithm (learner, actor, greedy policy) is in
// algorithms/registry.h.
//
// Adding an algorithm: a folder under algorithms/ with its code and a
// job_config.{h,cc} providing these functions, one line in
// algorithms/algorithm_spec.cc (this table) and one in algorithms/registry.cc
// (docs/architecture.md, "Adding an algorithm").
#ifndef RLX_ALGORITHMS_ALGORITHM_SPEC_H_
#define RLX_ALGORITHMS_ALGORITHM_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "job.pb.h"
#include "algorithms/stream_x/config.h"

namespace rlx {

// Estimated memory of the job's learner and of each of its actors (spec
// valid, defaults filled).
struct JobMemoryEstimate {
  int64_t parameters = 0;     // all networks of the learner
  int64_t learner_bytes = 0;
  int64_t actor_bytes = 0;
  int64_t largest_network = 0;  // parameters of the largest single network
};

struct AlgorithmSpec {
  const char* name;                    // JobSpec.algorithm
  JobSpec::ConfigCase config_case;     // the oneof member it reads
  const char* config_field;            // its field name, for messages ("stream_x")
  // Fills the algorithm's config defaults and the job fields whose defaults
  // depend on the algorithm (e.g. max_policy_lag). The config is set to the
  // right member before (it may be empty).
  void (*complete)(JobSpec* spec);
  // Appends "field: what, got value" for every bad value of the algorithm's
  // config against the problem (spec completed; generic fields already checked).
  void (*check)(const JobSpec& spec, const ProblemSpec& problem, std::vector<std::string>* errors);
  absl::StatusOr<JobMemoryEstimate> (*estimate)(const JobSpec& spec, const ProblemSpec& problem);
};

// The algorithm named `name`, or null.
const AlgorithmSpec* FindAlgorithmSpec(const std::string& name);
// Every name, in the table's order ("stream_ac, stream_q, ...").
std::string AlgorithmNames();

// Parameters of an MLP in -> hidden... -> out (weights and biases).
int64_t MlpParameters(int64_t in, const std::vector<int64_t>& hidden, int64_t out);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_ALGORITHM_SPEC_H_
