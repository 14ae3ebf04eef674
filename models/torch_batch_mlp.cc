#include "models/torch_batch_mlp.h"

#include <torch/torch.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace rlx {
namespace {

struct TorchBatchCache : BatchCache {
  int64_t batch = 0;
  at::Tensor params;                  // the flat parameters on the device, as used
  std::vector<at::Tensor> inputs;     // per layer: its input (batch x fan_in)
  std::vector<float> output;          // batch x output_dim, on the host
};

class TorchBatchMlp : public BatchFunction {
 public:
  TorchBatchMlp(DenseMlpSpec spec, at::Device device) : host_(std::move(spec)), device_(device) {}

  int64_t input_dim() const override { return host_.input_dim(); }
  int64_t output_dim() const override { return host_.output_dim(); }
  int64_t num_params() const override { return host_.num_params(); }
  std::vector<absl::Span<float>> parameter_blocks() override { return host_.parameter_blocks(); }
  std::vector<absl::Span<const float>> parameter_blocks() const override {
    return static_cast<const DenseMlp&>(host_).parameter_blocks();
  }
  void Initialize(double hidden_gain, double output_gain, uint64_t seed) override {
    host_.OrthogonalInitialize(hidden_gain, output_gain, seed);
  }
  std::unique_ptr<BatchCache> NewCache() const override {
    return std::make_unique<TorchBatchCache>();
  }

  absl::Span<const float> Forward(const float* x, int64_t batch, BatchCache* base) const override {
    auto* c = static_cast<TorchBatchCache*>(base);
    const DenseMlpSpec& spec = host_.spec();
    const auto host_options = at::TensorOptions().dtype(at::kFloat);
    // from_blob does not own or copy; .to(device) copies only off the host.
    c->params = at::from_blob(const_cast<float*>(host_.params().data()), {host_.num_params()},
                              host_options)
                    .to(device_);
    at::Tensor a =
        at::from_blob(const_cast<float*>(x), {batch, spec.input_dim}, host_options).to(device_);
    c->batch = batch;
    c->inputs.clear();
    int64_t at_param = 0;
    for (int l = 0; l < spec.num_layers(); ++l) {
      const int64_t in = spec.fan_in(l), out = spec.fan_out(l);
      const at::Tensor w = c->params.narrow(0, at_param, out * in).view({out, in});
      const at::Tensor b = c->params.narrow(0, at_param + out * in, out);
      at_param += out * in + out;
      c->inputs.push_back(a);
      a = at::addmm(b, a, w.t());
      if (l + 1 < spec.num_layers()) a = at::tanh(a);
    }
    const at::Tensor out = a.to(at::kCPU).contiguous();
    c->output.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
    return c->output;
  }

  void Backward(BatchCache* base, const float* grad_output, float* grad_params) const override {
    auto* c = static_cast<TorchBatchCache*>(base);
    const DenseMlpSpec& spec = host_.spec();
    const int layers = spec.num_layers();
    at::Tensor g = at::from_blob(const_cast<float*>(grad_output), {c->batch, spec.output_dim},
                                 at::TensorOptions().dtype(at::kFloat))
                       .to(device_);
    // Layer offsets, then the gradient of each layer from the last down:
    // dW = g^T x, db = sum_rows g, and g <- (g W) * (1 - x^2) into the
    // previous layer (x = tanh output there).
    std::vector<int64_t> offset(layers + 1, 0);
    for (int l = 0; l < layers; ++l) {
      offset[l + 1] = offset[l] + spec.fan_out(l) * spec.fan_in(l) + spec.fan_out(l);
    }
    std::vector<at::Tensor> pieces(2 * layers);
    for (int l = layers - 1; l >= 0; --l) {
      const int64_t in = spec.fan_in(l), out = spec.fan_out(l);
      const at::Tensor& x = c->inputs[l];
      pieces[2 * l] = at::mm(g.t(), x).reshape({-1});
      pieces[2 * l + 1] = g.sum(0);
      if (l > 0) {
        const at::Tensor w = c->params.narrow(0, offset[l], out * in).view({out, in});
        g = at::mm(g, w) * (1 - x * x);
      }
    }
    const at::Tensor flat = at::cat(pieces).to(at::kCPU).contiguous();
    const float* src = flat.data_ptr<float>();
    for (int64_t i = 0; i < flat.numel(); ++i) grad_params[i] += src[i];
  }

 private:
  DenseMlp host_;
  at::Device device_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<BatchFunction>> CreateTorchBatchMlp(const DenseMlpSpec& spec,
                                                                   const std::string& device) {
  if (absl::Status s = ValidateDenseMlpSpec(spec); !s.ok()) return s;
  at::Device d(at::kCPU);
  try {
    d = at::Device(device);
  } catch (const std::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat("device: must be cpu, cuda or cuda:N, got '", device.substr(0, 32), "'"));
  }
  if (d.is_cuda() && !torch::cuda::is_available()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "device ", device, ": this LibTorch cannot use CUDA (a CPU build, or no GPU visible)"));
  }
  if (!d.is_cpu() && !d.is_cuda()) {
    return absl::InvalidArgumentError(
        absl::StrCat("device: must be cpu, cuda or cuda:N, got '", device.substr(0, 32), "'"));
  }
  return std::unique_ptr<BatchFunction>(new TorchBatchMlp(spec, d));
}

}  // namespace rlx
