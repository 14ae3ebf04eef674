#include "learner/learner_metrics.h"

namespace rlx {
namespace {

prometheus::Counter& Counter(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}
prometheus::Gauge& Gauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

}  // namespace

LearnerMetrics::LearnerMetrics(prometheus::Registry& r)
    : steps(Counter(r, "rl_learner_steps_total", "Env steps learned from (stream-x: one update each; PPO: per rollout).")),
      episodes(Counter(r, "rl_learner_episodes_total", "Training episodes finished.")),
      skipped_items(Counter(r, "rl_learner_skipped_items_total",
                            "Replay items skipped: undecodable, or continuing no episode.")),
      wait_seconds(Counter(r, "rl_learner_wait_seconds_total",
                           "Seconds the learner waited for items from the replay server.")),
      policy_version(Gauge(r, "rl_learner_policy_version", "Newest published parameter version.")),
      policy_lag(prometheus::BuildHistogram()
                     .Name("rl_learner_policy_lag_versions")
                     .Help("Updates the learner made between the version that produced an "
                           "item and learning it (stream-x: learner steps; PPO: rollouts).")
                     .Register(r)
                     .Add({}, prometheus::Histogram::BucketBoundaries{0, 1, 2, 5, 10, 20, 50, 100,
                                                                      200, 500, 1000, 5000})),
      episode_return(Gauge(r, "rl_learner_episode_return", "Return of the last training episode.")),
      eval_return(Gauge(r, "rl_learner_eval_return", "Mean return of the last evaluation.")),
      td_error(Gauge(r, "rl_learner_td_error_abs", "Absolute TD error of the last update.")),
      policy_entropy(Gauge(r, "rl_learner_policy_entropy_nats",
                           "Policy entropy at the last update (Stream AC, PPO).")),
      running_jobs(Gauge(r, "rl_learner_running_jobs", "Jobs running now (0 or 1).")),
      dormant_ratio(prometheus::BuildGauge()
                        .Name("rl_learner_dormant_ratio")
                        .Help("Fraction of dormant hidden units (mean |activation| / layer mean "
                              "<= 0.025 over recent observations), per network.")
                        .Register(r)),
      action_entropy(Gauge(r, "rl_learner_action_entropy_nats",
                           "Entropy of the last 1000 actions' empirical distribution (discrete) "
                           "or their mean standard deviation (continuous).")),
      distinct_actions(Gauge(r, "rl_learner_distinct_actions",
                             "Distinct actions among the last 1000 (discrete).")),
      checkpoints(Counter(r, "rl_learner_checkpoints_total", "Checkpoints written.")),
      policy_loss(Gauge(r, "rl_learner_policy_loss", "Clipped surrogate loss of the last update (PPO).")),
      value_loss(Gauge(r, "rl_learner_value_loss", "Value loss of the last update (PPO).")),
      approx_kl(Gauge(r, "rl_learner_approx_kl", "Approximate KL(old || new) of the last update (PPO).")),
      clip_fraction(Gauge(r, "rl_learner_clip_fraction",
                          "Fraction of samples whose ratio was clipped in the last update (PPO).")),
      explained_variance(Gauge(r, "rl_learner_explained_variance",
                               "Explained variance of the value targets in the last update (PPO).")),
      preference_queries(Gauge(r, "rl_learner_preference_queries",
                               "Trajectory pairs the preference service answered for the job (SPO).")),
      preference_failures(Gauge(r, "rl_learner_preference_failures",
                                "Preference calls that failed and were retried (SPO).")),
      preference_latency(Gauge(r, "rl_learner_preference_latency_seconds",
                               "Mean time of a successful preference call (SPO).")),
      win_rate_spread(Gauge(r, "rl_learner_win_rate_spread",
                            "Standard deviation of the last group's win rates (SPO): whether "
                            "the preferences still separate the candidates.")),
      distinct_trajectories(Gauge(r, "rl_learner_distinct_trajectories",
                                  "Share of the recent trajectories (SPO's opponent queue) whose "
                                  "action sequence is distinct (actions rounded to 0.1): "
                                  "exploration.")),
      constraint_share(Gauge(r, "rl_learner_constraint_share",
                             "Share of the recent trajectories (SPO's opponent queue) whose last "
                             "quarter's return is within the non-markovian preference's "
                             "threshold (SPO jobs with that preference; 0 otherwise).")) {}

}  // namespace rlx
