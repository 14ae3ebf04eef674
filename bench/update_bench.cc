// update_bench: cost of one stream-x update on the default network (5 inputs,
// 128-128 hidden, CartPole with the time feature), one thread, with each
// network backend in the same run ("torch_mlp", LibTorch; "cpu_mlp", plain
// C++) and their ratio, against a bare LibTorch autograd forward + backward
// of the same network; then in-process training speed (env steps/s) of
// Stream AC(lambda) and Stream Q(lambda) on CartPole-v1 with each backend;
// then how far apart 1,000 training steps from the same seed end.
//
//   update_bench [--iterations=20000] [--train_steps=20000]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "algorithms/stream_x/learner.h"
#include "algorithms/stream_x/obgd.h"
#include "algorithms/stream_x/stream_trainer.h"
#include "models/backends.h"
#include "models/layer_norm.h"
#include "models/mlp.h"

ABSL_FLAG(int, iterations, 20000, "Timed iterations per micro-benchmark.");
ABSL_FLAG(int64_t, train_steps, 20000, "Env steps per in-process training measurement.");
ABSL_FLAG(int, equivalence_seeds, 10,
          "Seeds per algorithm of the 1,000-step backend comparison (0: skip it).");

namespace rlx {
namespace {

using Clock = std::chrono::steady_clock;

// Microseconds per call of fn (after a warm-up of iterations / 10).
double TimeUs(int iterations, const std::function<void(int)>& fn) {
  for (int i = 0; i < iterations / 10; ++i) fn(i);
  const auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) fn(i);
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / iterations;
}

// The same network as a plain LibTorch module (autograd).
struct BareMlpImpl : torch::nn::Module {
  BareMlpImpl(int64_t in, int64_t hidden, int64_t out)
      : fc1(register_module("fc1", torch::nn::Linear(in, hidden))),
        fc2(register_module("fc2", torch::nn::Linear(hidden, hidden))),
        head(register_module("head", torch::nn::Linear(hidden, out))),
        hidden_(hidden) {}
  torch::Tensor forward(torch::Tensor x) {
    x = torch::leaky_relu(torch::layer_norm(fc1(x), {hidden_}), 0.01);
    x = torch::leaky_relu(torch::layer_norm(fc2(x), {hidden_}), 0.01);
    return head(x);
  }
  torch::nn::Linear fc1, fc2, head;
  int64_t hidden_;
};
TORCH_MODULE(BareMlp);

// avx2_kernels: whether LibTorch was pointed at its AVX2 kernels (main does
// it, before LibTorch's first operation).
int Run(bool avx2_kernels) {
  torch::set_num_threads(1);
  SetBackendThreads(1);
  const int n = absl::GetFlag(FLAGS_iterations);
  std::mt19937 gen(1);
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> inputs(64, std::vector<float>(5));
  for (auto& v : inputs) {
    for (float& x : v) x = normal(gen);
  }

  // 1. Bare autograd forward + backward, value network (1 output).
  BareMlp bare(5, 128, 1);
  std::vector<torch::Tensor> tensors;
  for (const auto& v : inputs) tensors.push_back(torch::tensor(v));
  const double bare_us = TimeUs(n, [&](int i) {
    bare->zero_grad(/*set_to_none=*/true);
    torch::Tensor out = bare->forward(tensors[i % 64]);
    out.sum().backward();
  });

  // 2-4 for each backend: the network alone, one value update, and the
  // algorithms' whole Learn, on the same weights and inputs.
  struct Figures {
    double fwd = 0, fwd_bwd = 0, obgd = 0, update = 0, ac_learn = 0, q_learn = 0;
  };
  MlpSpec spec;
  spec.input_dim = 5;
  spec.output_dim = 1;
  std::vector<float> dense(NumParameters(spec));
  // Dense parameters so no path is trivially zero.
  for (float& w : dense) w = 0.1f * normal(gen);
  ProblemSpec problem;
  problem.observation_dim = 4;
  problem.num_actions = 2;
  problem.time_limit = 500;
  auto measure = [&](const std::string& backend) {
    Figures f;
    std::unique_ptr<Network> net = *MakeNetwork(backend, NetworkSpec{5, 1, {128, 128}, 0.9, 1});
    std::copy(dense.begin(), dense.end(), net->params().begin());
    float out = 0;
    const float one = 1.0f;
    f.fwd = TimeUs(n, [&](int i) { net->Forward(inputs[i % 64], absl::MakeSpan(&out, 1)); });
    f.fwd_bwd = TimeUs(n, [&](int i) {
      net->Forward(inputs[i % 64], absl::MakeSpan(&out, 1));
      net->Backward(absl::MakeConstSpan(&one, 1));
    });
    // 3. One stream-x value update: V(s'), V(s), backward into the trace, ObGD.
    std::vector<float> trace(net->num_params(), 0.0f);
    Obgd obgd(ObgdConfig{1.0, 0.99, 0.8, 2.0});
    f.update = TimeUs(n, [&](int i) {
      float v_next = 0;
      net->Forward(inputs[(i + 1) % 64], absl::MakeSpan(&v_next, 1));
      net->Forward(inputs[i % 64], absl::MakeSpan(&out, 1));
      obgd.StepNetwork(1e-3 * (0.99 * v_next - out), absl::MakeConstSpan(&one, 1), net.get(),
                       absl::MakeSpan(trace), /*reset_trace=*/i % 200 == 0);
    });
    // The trace step and ObGD alone, on a gradient already computed (the
    // backend-free Obgd::Step; the backends' own path fuses the trace step
    // into the backward).
    std::vector<float> grad(trace.size(), 1e-3f);
    f.obgd = TimeUs(n, [&](int) {
      obgd.Step(1e-3, grad, absl::MakeSpan(trace), net->params(), false);
    });
    // 4. Full Learn of each algorithm on synthetic CartPole-sized transitions.
    auto learn_us = [&](StreamAlgorithm algorithm) {
      StreamConfig config;
      config.algorithm = algorithm;
      config.total_steps = 100000;
      config.network = backend;
      auto learner = *StreamLearner::Create(problem, config, 1);
      StreamState stream = learner->NewStream();
      Transition t;
      return TimeUs(n, [&](int i) {
        t.episode_start = i % 200 == 0;
        t.observation.assign(inputs[i % 64].begin(), inputs[i % 64].begin() + 4);
        t.next_observation.assign(inputs[(i + 1) % 64].begin(), inputs[(i + 1) % 64].begin() + 4);
        t.action = {static_cast<float>(i % 2)};
        t.reward = 1.0;
        t.truncated = i % 200 == 199;
        (void)learner->Learn(t, &stream);
      });
    };
    f.ac_learn = learn_us(StreamAlgorithm::kStreamAC);
    f.q_learn = learn_us(StreamAlgorithm::kStreamQ);
    return f;
  };
  const Figures torch = measure("torch_mlp");
  const Figures cpu = measure("cpu_mlp");

  std::printf("one thread, default network 5-128-128-1 (LibTorch %s)\n", TORCH_VERSION);
  std::printf("%-58s %8.1f us\n", "bare LibTorch autograd forward + backward", bare_us);
  std::printf("%-58s %10s %10s %8s\n", "", "torch_mlp", "cpu_mlp", "ratio");
  auto row = [](const char* what, double t, double c) {
    std::printf("%-58s %7.2f us %7.2f us %7.3fx\n", what, t, c, c / t);
  };
  row("forward", torch.fwd, cpu.fwd);
  row("forward + hand-written backward", torch.fwd_bwd, cpu.fwd_bwd);
  row("trace + ObGD step alone (flat buffers, same code)", torch.obgd, cpu.obgd);
  row("stream-x value update: V(s'), V(s), backward, trace, ObGD", torch.update, cpu.update);
  row("Stream AC(lambda) Learn (value + policy)", torch.ac_learn, cpu.ac_learn);
  row("Stream Q(lambda) Learn", torch.q_learn, cpu.q_learn);
  std::fflush(stdout);

  // 5. In-process training speed, CartPole-v1, both backends in turn.
  for (StreamAlgorithm algorithm : {StreamAlgorithm::kStreamAC, StreamAlgorithm::kStreamQ}) {
    double steps_per_second[2] = {0, 0};
    const char* backends[2] = {"torch_mlp", "cpu_mlp"};
    for (int b = 0; b < 2; ++b) {
      StreamTrainOptions options;
      options.env_name = "CartPole-v1";
      options.config.algorithm = algorithm;
      options.config.total_steps = 200000;
      options.config.network = backends[b];
      options.steps = absl::GetFlag(FLAGS_train_steps);
      options.seed = 1;
      auto result = RunStreamTraining(options);
      if (!result.ok()) {
        std::fprintf(stderr, "training: %s\n", result.status().ToString().c_str());
        return 1;
      }
      steps_per_second[b] = result->steps_per_second;
    }
    std::printf("stream_train %-9s CartPole-v1 env steps/s (act + env + learn): torch_mlp %7.0f"
                "  cpu_mlp %7.0f  (%.2fx)\n",
                std::string(StreamAlgorithmName(algorithm)).c_str(), steps_per_second[0],
                steps_per_second[1], steps_per_second[1] / steps_per_second[0]);
  }
  // 6. Equivalence: 1,000 CartPole training steps from the same seed with
  // each backend; the largest parameter difference at the end. Bit-identical
  // where LibTorch runs its AVX2 kernels (models/layer_norm.h).
  const int seeds = absl::GetFlag(FLAGS_equivalence_seeds);
  if (seeds > 0) {
    std::printf("LibTorch's CPU kernels: %s\n",
                avx2_kernels ? "AVX2 (the arithmetic cpu_mlp reproduces)"
                               : "not AVX2 (the backends agree to rounding, not bit for bit)");
  }
  for (StreamAlgorithm algorithm :
       {StreamAlgorithm::kStreamAC, StreamAlgorithm::kStreamQ, StreamAlgorithm::kStreamTD}) {
    if (seeds <= 0) break;
    int within = 0, identical = 0;
    std::string diffs;
    for (int seed = 1; seed <= seeds; ++seed) {
      std::vector<float> params[2];
      const char* backends[2] = {"torch_mlp", "cpu_mlp"};
      for (int b = 0; b < 2; ++b) {
        StreamTrainOptions options;
        options.env_name = "CartPole-v1";
        options.config.algorithm = algorithm;
        options.config.total_steps = 20000;
        options.config.network = backends[b];
        options.steps = 1000;
        options.seed = seed;
        auto result = RunStreamTraining(options);
        if (!result.ok()) {
          std::fprintf(stderr, "training: %s\n", result.status().ToString().c_str());
          return 1;
        }
        for (int i = 0; i < result->learner->num_networks(); ++i) {
          const absl::Span<const float> p = result->learner->network(i).params();
          params[b].insert(params[b].end(), p.begin(), p.end());
        }
      }
      double max_diff = 0;
      for (size_t i = 0; i < params[0].size(); ++i) {
        max_diff = std::max<double>(max_diff, std::fabs(params[0][i] - params[1][i]));
      }
      within += max_diff < 1e-4;
      identical += params[0] == params[1];
      diffs += (seed > 1 ? " " : "") + absl::StrFormat("%.1e", max_diff);
    }
    std::printf("1,000 steps, %-9s seeds 1-%d: largest parameter difference %s; within 1e-4: %d/%d; "
                "identical: %d/%d\n",
                std::string(StreamAlgorithmName(algorithm)).c_str(), seeds, diffs.c_str(), within,
                seeds, identical, seeds);
  }
  return 0;
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Before LibTorch's first operation: the kernels cpu_mlp reproduces.
  return rlx::Run(rlx::SelectLibTorchAvx2Kernels());
}
