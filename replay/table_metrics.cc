#include "replay/table_metrics.h"

#include "core/metrics.h"

namespace rlx {

ReplayMetrics::ReplayMetrics(prometheus::Registry& registry)
    : inserts_(prometheus::BuildCounter()
                   .Name("rl_replay_inserts_total")
                   .Help("Items inserted into a replay table.")
                   .Register(registry)),
      samples_(prometheus::BuildCounter()
                   .Name("rl_replay_samples_total")
                   .Help("Items sampled from a replay table.")
                   .Register(registry)),
      removals_(prometheus::BuildCounter()
                    .Name("rl_replay_removals_total")
                    .Help("Items removed from a replay table (remover at max_size or max_bytes, "
                          "max_times_sampled).")
                    .Register(registry)),
      size_items_(prometheus::BuildGauge()
                      .Name("rl_replay_size_items")
                      .Help("Items currently stored in a replay table.")
                      .Register(registry)),
      size_bytes_(prometheus::BuildGauge()
                      .Name("rl_replay_size_bytes")
                      .Help("Approximate bytes (tensor payloads plus per-item overhead) stored in a replay table.")
                      .Register(registry)),
      blocked_seconds_(prometheus::BuildCounter()
                           .Name("rl_replay_rate_limiter_blocked_seconds_total")
                           .Help("Time operations spent waiting on the rate limiter, by op.")
                           .Register(registry)),
      sample_latency_(prometheus::BuildHistogram()
                          .Name("rl_replay_sample_latency_seconds")
                          .Help("Time from a sample request to its items being taken.")
                          .Register(registry)),
      insert_latency_(prometheus::BuildHistogram()
                          .Name("rl_replay_insert_latency_seconds")
                          .Help("Time from an insert request to all its items being stored.")
                          .Register(registry)),
      max_bytes_(prometheus::BuildGauge()
                     .Name("rl_replay_max_bytes")
                     .Help("Byte budget of a replay table (TableConfig.max_bytes or "
                           "--max_table_bytes; 0 = none).")
                     .Register(registry)),
      invalid_requests_(prometheus::BuildCounter()
                            .Name("rl_replay_invalid_requests_total")
                            .Help("Requests rejected as invalid (unknown table, bad tensor, ...).")
                            .Register(registry)
                            .Add({})),
      server_bytes_(prometheus::BuildGauge()
                        .Name("rl_replay_server_bytes")
                        .Help("Bytes stored or reserved by all replay tables, counted against "
                              "--max_server_bytes.")
                        .Register(registry)
                        .Add({})),
      server_max_bytes_(prometheus::BuildGauge()
                            .Name("rl_replay_server_max_bytes")
                            .Help("The replay server's total byte budget (--max_server_bytes; "
                                  "0 = none).")
                            .Register(registry)
                            .Add({})) {}

std::unique_ptr<TableMetrics> ReplayMetrics::ForTable(const std::string& table) {
  const prometheus::Labels labels{{"table", table}};
  prometheus::Labels insert_labels = labels;
  insert_labels["op"] = "insert";
  prometheus::Labels sample_labels = labels;
  sample_labels["op"] = "sample";
  return std::unique_ptr<TableMetrics>(new TableMetrics{
      inserts_.Add(labels), samples_.Add(labels), removals_.Add(labels),
      size_items_.Add(labels), size_bytes_.Add(labels), max_bytes_.Add(labels), server_bytes_,
      blocked_seconds_.Add(insert_labels),
      blocked_seconds_.Add(sample_labels), sample_latency_.Add(labels, LatencyBuckets()),
      insert_latency_.Add(labels, LatencyBuckets())});
}

}  // namespace rlx
