#include "core/metrics.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>

#include "tests/test_util.h"

namespace rlx {
namespace {

TEST(MetricsServerTest, ServesRegistryOnPickedPort) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& counter = prometheus::BuildCounter()
                      .Name("rl_test_things_total")
                      .Help("Things counted by the test.")
                      .Register(*registry)
                      .Add({});
  counter.Increment(3);
  auto server = MetricsServer::Start("127.0.0.1", 0, registry);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  auto body = HttpGet("127.0.0.1", (*server)->port(), "/metrics");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_NE(body->find("rl_test_things_total 3"), std::string::npos) << *body;
}

}  // namespace
}  // namespace rlx
