#include "algorithms/ppo/job_config.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "algorithms/job_spec.h"

namespace rlx::ppo {
namespace {

}  // namespace

void CompletePpoConfig(const JobSpec& spec, bool vtrace, PpoJobConfig* p) {
  const PpoConfig d;  // the defaults
  if (!p->has_num_steps()) p->set_num_steps(d.num_steps);
  if (!p->has_unrolls_per_update()) {
    // One unroll per stream: every agent of every env of every actor.
    p->set_unrolls_per_update(spec.num_actors() * spec.envs_per_actor() * JobAgentsPerEnv(spec));
  }
  if (!p->has_num_minibatches()) p->set_num_minibatches(d.num_minibatches);
  if (!p->has_update_epochs()) p->set_update_epochs(d.update_epochs);
  if (!p->has_learning_rate()) p->set_learning_rate(d.learning_rate);
  if (!p->has_anneal_lr()) p->set_anneal_lr(d.anneal_lr);
  if (!p->has_gamma()) p->set_gamma(d.gamma);
  if (!p->has_gae_lambda()) p->set_gae_lambda(d.gae_lambda);
  if (!p->has_normalize_advantages()) p->set_normalize_advantages(d.normalize_advantages);
  if (!p->has_clip_coef()) p->set_clip_coef(d.clip_coef);
  if (!p->has_clip_value_loss()) p->set_clip_value_loss(d.clip_value_loss);
  if (!p->has_ent_coef()) p->set_ent_coef(d.ent_coef);
  if (!p->has_vf_coef()) p->set_vf_coef(d.vf_coef);
  if (!p->has_max_grad_norm()) p->set_max_grad_norm(d.max_grad_norm);
  if (!p->has_adam_eps()) p->set_adam_eps(d.adam_eps);
  if (p->hidden_size() == 0) {
    for (int64_t h : d.hidden) p->add_hidden(h);
  }
  if (!p->has_init_log_std()) p->set_init_log_std(d.init_log_std);
  if (!p->has_normalize_observations()) p->set_normalize_observations(d.normalize_observations);
  if (!p->has_normalize_rewards()) p->set_normalize_rewards(d.normalize_rewards);
  if (!p->has_bootstrap_on_truncation()) p->set_bootstrap_on_truncation(d.bootstrap_on_truncation);
  if (!p->has_vtrace()) p->set_vtrace(vtrace);
  if (p->network().empty()) p->set_network(d.network);
  if (!p->has_gnn_heads()) p->set_gnn_heads(d.gnn_heads);
}

namespace {

void CompleteCommon(JobSpec* spec, bool vtrace) { CompletePpoConfig(*spec, vtrace, spec->mutable_ppo()); }

}  // namespace

void CompletePpoJob(JobSpec* spec) {
  CompleteCommon(spec, /*vtrace=*/false);
  // Synchronous: an actor waits for the update that used its unrolls.
  if (!spec->has_max_policy_lag()) spec->set_max_policy_lag(0);
}

void CompleteAppoJob(JobSpec* spec) {
  CompleteCommon(spec, /*vtrace=*/true);
  // Asynchronous: actors act on while the learner trains, at most two
  // unrolls per env ahead of what the learner has taken.
  if (!spec->has_max_policy_lag()) {
    spec->set_max_policy_lag(2 * spec->envs_per_actor() * JobAgentsPerEnv(*spec));
  }
}

PpoConfig JobPpoConfig(const JobSpec& spec) { return PpoConfigFrom(spec.ppo(), spec); }

PpoConfig PpoConfigFrom(const PpoJobConfig& p, const JobSpec& spec) {
  PpoConfig c;
  c.num_envs = p.unrolls_per_update();
  c.num_steps = p.num_steps();
  c.num_minibatches = p.num_minibatches();
  c.update_epochs = p.update_epochs();
  c.learning_rate = p.learning_rate();
  c.anneal_lr = p.anneal_lr();
  c.gamma = p.gamma();
  c.gae_lambda = p.gae_lambda();
  c.normalize_advantages = p.normalize_advantages();
  c.clip_coef = p.clip_coef();
  c.clip_value_loss = p.clip_value_loss();
  c.ent_coef = p.ent_coef();
  c.vf_coef = p.vf_coef();
  c.max_grad_norm = p.max_grad_norm();
  c.adam_eps = p.adam_eps();
  c.hidden.assign(p.hidden().begin(), p.hidden().end());
  c.init_log_std = p.init_log_std();
  c.normalize_observations = p.normalize_observations();
  c.normalize_rewards = p.normalize_rewards();
  c.bootstrap_on_truncation = p.bootstrap_on_truncation();
  c.vtrace = p.vtrace();
  c.network = p.network();
  c.gnn_heads = p.gnn_heads();
  c.device = spec.device().empty() ? "cpu" : spec.device();
  c.total_env_steps = spec.stop().max_env_steps();
  return c;
}

void CheckJob(const JobSpec& spec, const ProblemSpec& problem, std::vector<std::string>* errors) {
  CheckPpoConfig(JobPpoConfig(spec), problem, "ppo.", errors);
}

void CheckPpoConfig(const PpoConfig& config, const ProblemSpec& problem, const std::string& prefix,
                    std::vector<std::string>* errors) {
  for (const std::string& e : PpoConfigErrors(problem, config)) {
    if (absl::StartsWith(e, "hidden[")) continue;  // reported by the generic size check
    absl::string_view rest = e;
    if (absl::ConsumePrefix(&rest, "total_env_steps: ")) {
      errors->push_back(absl::StrCat(prefix, "anneal_lr: ", rest));
    } else if (absl::ConsumePrefix(&rest, "num_envs: ")) {
      errors->push_back(absl::StrCat(prefix, "unrolls_per_update: ", rest));
    } else if (absl::StartsWith(e, "env: ") || absl::StartsWith(e, "device: ")) {
      errors->push_back(e);
    } else {
      // The job's rollout is unrolls_per_update unrolls (PpoConfig's num_envs).
      errors->push_back(absl::StrCat(
          prefix, absl::StrReplaceAll(e, {{"num_envs * num_steps", "unrolls_per_update * num_steps"}})));
    }
  }
}

absl::StatusOr<JobMemoryEstimate> EstimateJob(const JobSpec& spec, const ProblemSpec& problem) {
  return EstimatePpo(JobPpoConfig(spec), spec, problem);
}

absl::StatusOr<JobMemoryEstimate> EstimatePpo(const PpoConfig& c, const JobSpec& spec,
                                              const ProblemSpec& problem) {
  const int64_t in = problem.observation_dim;
  const int64_t head = problem.discrete ? problem.num_actions : problem.action_dim;
  const int64_t width = problem.discrete ? 1 : problem.action_dim;
  // (The GNN's parameters do not grow with the input width: the MLP's over
  // the padded input bound them.)
  const int64_t actor = MlpParameters(in, c.hidden, head);
  const int64_t critic = MlpParameters(in, c.hidden, 1);
  JobMemoryEstimate e;
  e.parameters = actor + critic + (problem.discrete ? 0 : head);
  e.largest_network = std::max(actor, critic);
  // Floats per step of an unroll: observation, final observation, action,
  // log-prob, value, reward, flags, return; the learner keeps a rollout
  // plus its advantages, returns and minibatch copies (about twice).
  const int64_t per_step = 2 * in + width + 6;
  const int64_t rollout = int64_t{c.num_envs} * c.num_steps * per_step;
  e.learner_bytes = 4 * (e.parameters * JobLimits::kLearnerCopies + 2 * rollout);
  e.actor_bytes = 4 * (e.parameters * JobLimits::kActorCopiesPerEnv +
                       int64_t{spec.envs_per_actor()} * JobAgentsPerEnv(spec) * c.num_steps *
                           per_step * 2);
  return e;
}

}  // namespace rlx::ppo
