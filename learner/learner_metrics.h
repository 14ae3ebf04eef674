// Prometheus metrics of the learner process (names rl_learner_<what>_<unit>).
// Built once per process; thread-safe.
#ifndef RLX_LEARNER_LEARNER_METRICS_H_
#define RLX_LEARNER_LEARNER_METRICS_H_

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace rlx {

struct LearnerMetrics {
  explicit LearnerMetrics(prometheus::Registry& registry);

  prometheus::Counter& steps;            // env steps learned from
  prometheus::Counter& episodes;
  prometheus::Counter& skipped_items;    // undecodable or out-of-episode items
  prometheus::Counter& wait_seconds;     // waiting for items from the replay server
  prometheus::Gauge& policy_version;
  prometheus::Histogram& policy_lag;     // learner version - item version
  prometheus::Gauge& episode_return;     // last finished training episode
  prometheus::Gauge& eval_return;        // last evaluation mean
  prometheus::Gauge& td_error;           // |delta| of the last update
  prometheus::Gauge& policy_entropy;     // AC: entropy at the last update
  prometheus::Gauge& running_jobs;
  prometheus::Family<prometheus::Gauge>& dormant_ratio;  // label network
  prometheus::Gauge& action_entropy;     // empirical entropy of recent actions
  prometheus::Gauge& distinct_actions;   // distinct recent actions (discrete)
  prometheus::Counter& checkpoints;
  // Batch learners (PPO, APPO), at the last update.
  prometheus::Gauge& policy_loss;
  prometheus::Gauge& value_loss;
  prometheus::Gauge& approx_kl;
  prometheus::Gauge& clip_fraction;
  prometheus::Gauge& explained_variance;
  // Preference learners (SPO).
  prometheus::Gauge& preference_queries;
  prometheus::Gauge& preference_failures;
  prometheus::Gauge& preference_latency;
  prometheus::Gauge& win_rate_spread;
  prometheus::Gauge& distinct_trajectories;
  prometheus::Gauge& constraint_share;
};

}  // namespace rlx

#endif  // RLX_LEARNER_LEARNER_METRICS_H_
