#include "algorithms/spo/job_config.h"

#include "absl/strings/str_cat.h"
#include "algorithms/job_spec.h"
#include "algorithms/ppo/job_config.h"
#include "algorithms/preferences.h"

namespace rlx::spo {

void CompleteJob(JobSpec* spec) {
  SpoJobConfig* s = spec->mutable_spo();
  if (!s->ppo().has_gamma()) s->mutable_ppo()->set_gamma(1.0);
  ppo::CompletePpoConfig(*spec, /*vtrace=*/false, s->mutable_ppo());
  if (s->preference().name().empty()) s->mutable_preference()->set_name("markovian");
  if (!s->has_opponents()) s->set_opponents(8);
  if (!s->has_queue_size()) s->set_queue_size(256);
  if (!s->has_time_feature()) s->set_time_feature(true);
  // Synchronous: an actor waits for the update that used its unrolls.
  if (!spec->has_max_policy_lag()) spec->set_max_policy_lag(0);
}

ppo::PpoConfig JobSpoPpoConfig(const JobSpec& spec) {
  return ppo::PpoConfigFrom(spec.spo().ppo(), spec);
}

ProblemSpec SpoModelProblem(const JobSpec& spec, const ProblemSpec& env_problem) {
  ProblemSpec p = env_problem;
  if (spec.spo().time_feature() && p.time_limit > 0) p.observation_dim += 1;
  return p;
}

void CheckJob(const JobSpec& spec, const ProblemSpec& problem, std::vector<std::string>* errors) {
  const SpoJobConfig& s = spec.spo();
  ppo::CheckPpoConfig(JobSpoPpoConfig(spec), SpoModelProblem(spec, problem), "spo.ppo.", errors);
  if (s.ppo().vtrace()) errors->push_back("spo.ppo.vtrace: SPO runs synchronous PPO (false)");
  if (s.ppo().normalize_observations() && s.time_feature()) {
    errors->push_back(
        "spo.ppo.normalize_observations: not with spo.time_feature (set one of them false)");
  }
  absl::StatusOr<std::unique_ptr<PreferenceFunction>> f = MakePreferenceFunction(s.preference());
  if (!f.ok()) errors->push_back(absl::StrCat("spo.preference.", f.status().message()));
  if (s.opponents() < 1 || s.opponents() > 4096) {
    errors->push_back(absl::StrCat("spo.opponents: must be in [1, 4096], got ", s.opponents()));
  }
  if (s.queue_size() < 0 || s.queue_size() > 1 << 20) {
    errors->push_back(absl::StrCat("spo.queue_size: must be in [0, 1048576], got ", s.queue_size()));
  }
  if (s.preference_address().size() > 256) {
    errors->push_back(absl::StrCat("spo.preference_address: at most 256 bytes, got '",
                                   Shorten(s.preference_address()), "'"));
  }
}

absl::StatusOr<JobMemoryEstimate> EstimateJob(const JobSpec& spec, const ProblemSpec& problem) {
  absl::StatusOr<JobMemoryEstimate> e =
      ppo::EstimatePpo(JobSpoPpoConfig(spec), spec, SpoModelProblem(spec, problem));
  if (!e.ok()) return e;
  // The queue of whole episodes (observations, actions, rewards per step).
  const int64_t per_episode =
      4 * int64_t{problem.time_limit > 0 ? problem.time_limit : 1000} *
      (problem.observation_dim + (problem.discrete ? 1 : problem.action_dim) + 1);
  e->learner_bytes += per_episode * spec.spo().queue_size();
  return e;
}

}  // namespace rlx::spo
