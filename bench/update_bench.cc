// update_bench: cost of one stream-x update on the default network (5 inputs,
// 128-128 hidden, CartPole with the time feature), one thread, against a bare
// LibTorch autograd forward + backward of the same network; then in-process
// training speed (env steps/s) of Stream AC(lambda) and Stream Q(lambda) on
// CartPole-v1.
//
//   update_bench [--iterations=20000] [--train_steps=20000]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "algorithms/stream_x/learner.h"
#include "algorithms/stream_x/obgd.h"
#include "algorithms/stream_x/stream_trainer.h"
#include "models/torch_mlp.h"

ABSL_FLAG(int, iterations, 20000, "Timed iterations per micro-benchmark.");
ABSL_FLAG(int64_t, train_steps, 20000, "Env steps per in-process training measurement.");

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

int Run() {
  torch::set_num_threads(1);
  SetTorchThreads(1);
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

  // 2. Hand-written backward (TorchMlp), same network, sparse init.
  MlpSpec spec;
  spec.input_dim = 5;
  spec.output_dim = 1;
  std::unique_ptr<Network> net = *CreateTorchMlp(spec, 0.9, 1);
  // Dense parameters so no path is trivially zero.
  for (float& w : net->params()) w = 0.1f * normal(gen);
  float out = 0;
  const float one = 1.0f;
  const double fwd_us = TimeUs(n, [&](int i) { net->Forward(inputs[i % 64], absl::MakeSpan(&out, 1)); });
  const double fwd_bwd_us = TimeUs(n, [&](int i) {
    net->Forward(inputs[i % 64], absl::MakeSpan(&out, 1));
    net->Backward(absl::MakeConstSpan(&one, 1));
  });

  // 3. One stream-x value update: V(s'), V(s), backward, trace + ObGD.
  std::vector<float> trace(net->num_params(), 0.0f);
  Obgd obgd(ObgdConfig{1.0, 0.99, 0.8, 2.0});
  const double update_us = TimeUs(n, [&](int i) {
    float v_next = 0;
    net->Forward(inputs[(i + 1) % 64], absl::MakeSpan(&v_next, 1));
    net->Forward(inputs[i % 64], absl::MakeSpan(&out, 1));
    absl::Span<const float> grad = net->Backward(absl::MakeConstSpan(&one, 1));
    obgd.Step(1e-3 * (0.99 * v_next - out), grad, absl::MakeSpan(trace), net->params(),
              /*reset_trace=*/i % 200 == 0);
  });
  const double obgd_us = TimeUs(n, [&](int i) {
    obgd.Step(1e-3, net->Backward(absl::MakeConstSpan(&one, 1)), absl::MakeSpan(trace),
              net->params(), false);
  }) - (fwd_bwd_us - fwd_us);

  // 4. Full Learn of each algorithm on synthetic CartPole-sized transitions.
  ProblemSpec problem;
  problem.observation_dim = 4;
  problem.num_actions = 2;
  problem.time_limit = 500;
  auto learn_us = [&](StreamAlgorithm algorithm) {
    StreamConfig config;
    config.algorithm = algorithm;
    config.total_steps = 100000;
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
  const double ac_learn_us = learn_us(StreamAlgorithm::kStreamAC);
  const double q_learn_us = learn_us(StreamAlgorithm::kStreamQ);

  std::printf("one thread, default network 5-128-128-1 (LibTorch %s)\n", TORCH_VERSION);
  std::printf("%-58s %8.1f us\n", "bare LibTorch autograd forward + backward", bare_us);
  std::printf("%-58s %8.1f us\n", "TorchMlp forward", fwd_us);
  std::printf("%-58s %8.1f us  (%.2fx bare)\n", "TorchMlp forward + hand-written backward",
              fwd_bwd_us, fwd_bwd_us / bare_us);
  std::printf("%-58s %8.1f us\n", "  of which trace + ObGD step (flat buffers, C++ loops)",
              obgd_us);
  std::printf("%-58s %8.1f us  (%.2fx bare)\n",
              "stream-x value update: V(s'), V(s), backward, trace, ObGD", update_us,
              update_us / bare_us);
  std::printf("%-58s %8.1f us  (%.2fx bare)\n", "Stream AC(lambda) Learn (value + policy)",
              ac_learn_us, ac_learn_us / bare_us);
  std::printf("%-58s %8.1f us  (%.2fx bare)\n", "Stream Q(lambda) Learn", q_learn_us,
              q_learn_us / bare_us);
  std::fflush(stdout);

  // 5. In-process training speed, CartPole-v1.
  for (StreamAlgorithm algorithm : {StreamAlgorithm::kStreamAC, StreamAlgorithm::kStreamQ}) {
    StreamTrainOptions options;
    options.env_name = "CartPole-v1";
    options.config.algorithm = algorithm;
    options.config.total_steps = 200000;
    options.steps = absl::GetFlag(FLAGS_train_steps);
    options.seed = 1;
    auto result = RunStreamTraining(options);
    if (!result.ok()) {
      std::fprintf(stderr, "training: %s\n", result.status().ToString().c_str());
      return 1;
    }
    std::printf("stream_train %-9s CartPole-v1: %7.0f env steps/s (%ld steps, act + env + learn)\n",
                std::string(StreamAlgorithmName(algorithm)).c_str(), result->steps_per_second,
                result->env_steps);
  }
  return 0;
}

}  // namespace
}  // namespace rlx

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return rlx::Run();
}
