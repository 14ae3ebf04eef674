// One Prometheus exposer per process.
//
// Every process owns one MetricsServer (created in main from --metrics_port,
// 0 = no HTTP endpoint) and hands its registry to the components that define
// metric families. Components build their families once and keep references
// (prometheus-cpp families and metrics are thread-safe and live as long as the
// registry). The registry is shared so a component may outlive the server in
// tests. Stopping the exposer takes ~2 s (civetweb's poll interval).
#ifndef RLX_CORE_METRICS_H_
#define RLX_CORE_METRICS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace rlx {

class MetricsServer {
 public:
  // Starts an HTTP endpoint serving /metrics on bind_address:port (port 0 picks
  // a free port; read it back with port()). Errors if the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& bind_address, int port,
      std::shared_ptr<prometheus::Registry> registry);

  int port() const { return port_; }
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

 private:
  MetricsServer(std::unique_ptr<prometheus::Exposer> exposer,
                std::shared_ptr<prometheus::Registry> registry, int port)
      : exposer_(std::move(exposer)), registry_(std::move(registry)), port_(port) {}

  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  int port_;
};

// Histogram buckets for latencies in seconds: 10 us .. 10 s.
std::vector<double> LatencyBuckets();

}  // namespace rlx

#endif  // RLX_CORE_METRICS_H_
