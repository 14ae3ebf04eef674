// The LibTorch backend is a module opened on first use: a process on the
// plain C++ backend never maps LibTorch; asking for "torch_mlp" opens it,
// and the two backends then compute the same network. This binary links no
// LibTorch (rlx::network_backends only).
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/backends.h"

namespace rlx {
namespace {

bool LibTorchMapped() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  return text.str().find("libtorch") != std::string::npos;
}

TEST(BackendLoadingTest, LibTorchIsLoadedOnlyWhenAJobAsksForIt) {
  SetBackendThreads(1);  // before any module: remembered, loads nothing
  NetworkSpec spec;
  spec.input_dim = 5;
  spec.hidden = {64, 64};
  spec.output_dim = 2;
  spec.seed = 3;
  auto cpu = MakeNetwork("auto", spec);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  const std::vector<float> input = {0.1f, -0.2f, 0.3f, 0.05f, -0.5f};
  std::vector<float> cpu_out(2), torch_out(2);
  (*cpu)->Forward(input, absl::MakeSpan(cpu_out));
  EXPECT_FALSE(TorchBackendLoaded());
  EXPECT_FALSE(LibTorchMapped());

  auto torch = MakeNetwork("libtorch", spec);
  ASSERT_TRUE(torch.ok()) << torch.status();
  EXPECT_TRUE(TorchBackendLoaded());
  EXPECT_TRUE(LibTorchMapped());
  (*torch)->Forward(input, absl::MakeSpan(torch_out));
  for (int k = 0; k < 2; ++k) EXPECT_NEAR(cpu_out[k], torch_out[k], 1e-5);
  // A network from the module is an ordinary Network: cloned and freed here.
  std::unique_ptr<Network> clone = (*torch)->Clone();
  EXPECT_EQ(clone->num_params(), (*cpu)->num_params());
  // A spec the backend rejects is INVALID_ARGUMENT through the module too.
  spec.input_dim = 0;
  EXPECT_EQ(MakeNetwork("torch_mlp", spec).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rlx
