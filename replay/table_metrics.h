// Prometheus metrics of the replay server. ReplayMetrics builds the metric
// families once per process; TableMetrics holds one table's children (label
// table="name"). Both are thread-safe (prometheus-cpp metrics are atomic).
// Tables update them once per batch, never per item, to keep the hot path lean.
#ifndef RLX_REPLAY_TABLE_METRICS_H_
#define RLX_REPLAY_TABLE_METRICS_H_

#include <memory>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace rlx {

struct TableMetrics {
  prometheus::Counter& inserts;
  prometheus::Counter& samples;
  prometheus::Counter& removals;
  prometheus::Gauge& size_items;
  prometheus::Gauge& size_bytes;
  // The table's byte budget (TableInfo.max_bytes; 0 when it has none).
  prometheus::Gauge& max_bytes;
  // Server-wide (the same gauge for every table): bytes stored or reserved
  // by all tables against --max_server_bytes.
  prometheus::Gauge& server_bytes;
  prometheus::Counter& insert_blocked_seconds;
  prometheus::Counter& sample_blocked_seconds;
  prometheus::Histogram& sample_latency_seconds;
  prometheus::Histogram& insert_latency_seconds;
};

class ReplayMetrics {
 public:
  explicit ReplayMetrics(prometheus::Registry& registry);
  // The children for one table (created on first use; the same ones after a
  // table is reset or re-created with the same name).
  std::unique_ptr<TableMetrics> ForTable(const std::string& table);

  prometheus::Counter& invalid_requests() { return invalid_requests_; }
  // --max_server_bytes (0 = none).
  prometheus::Gauge& server_max_bytes() { return server_max_bytes_; }

 private:
  prometheus::Family<prometheus::Counter>& inserts_;
  prometheus::Family<prometheus::Counter>& samples_;
  prometheus::Family<prometheus::Counter>& removals_;
  prometheus::Family<prometheus::Gauge>& size_items_;
  prometheus::Family<prometheus::Gauge>& size_bytes_;
  prometheus::Family<prometheus::Counter>& blocked_seconds_;
  prometheus::Family<prometheus::Histogram>& sample_latency_;
  prometheus::Family<prometheus::Histogram>& insert_latency_;
  prometheus::Family<prometheus::Gauge>& max_bytes_;
  prometheus::Counter& invalid_requests_;
  prometheus::Gauge& server_bytes_;
  prometheus::Gauge& server_max_bytes_;
};

}  // namespace rlx

#endif  // RLX_REPLAY_TABLE_METRICS_H_
