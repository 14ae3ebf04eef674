#include "models/torch_mlp.h"

#include <torch/torch.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "models/mlp.h"

namespace rlx {
namespace {

at::Tensor FloatZeros(int64_t n) { return at::zeros({n}, at::TensorOptions().dtype(at::kFloat)); }

class TorchMlp final : public Network {
 public:
  TorchMlp(const MlpSpec& spec, absl::Span<const float> params) : spec_(spec) {
    const int64_t n = NumParameters(spec_);
    params_ = FloatZeros(n);
    std::memcpy(params_.data_ptr<float>(), params.data(), n * sizeof(float));
    grad_ = FloatZeros(n);
    const std::vector<LayerOffsets> offsets = ComputeLayerOffsets(spec_);
    const int num_layers = spec_.num_layers();
    for (int l = 0; l < num_layers; ++l) {
      const int64_t in = spec_.fan_in(l), out = spec_.fan_out(l);
      w_.push_back(params_.narrow(0, offsets[l].weight, out * in).view({out, in}));
      wt_.push_back(w_.back().t());
      b_.push_back(params_.narrow(0, offsets[l].bias, out));
      gw_.push_back(grad_.narrow(0, offsets[l].weight, out * in).view({out, in}));
      gb_.push_back(grad_.narrow(0, offsets[l].bias, out));
      x_.push_back(FloatZeros(in));
      if (l + 1 < num_layers) {
        pre_.push_back(FloatZeros(out));
        norm_.push_back(FloatZeros(out));
        mean_.push_back(FloatZeros(1));
        rstd_.push_back(FloatZeros(1));
        grad_act_.push_back(FloatZeros(out));
        grad_norm_.push_back(FloatZeros(out));
      }
    }
    out_ = FloatZeros(spec_.output_dim);
    cotangent_ = FloatZeros(spec_.output_dim);
  }

  int64_t input_dim() const override { return spec_.input_dim; }
  int64_t output_dim() const override { return spec_.output_dim; }
  absl::Span<float> params() override {
    return absl::Span<float>(params_.data_ptr<float>(), params_.numel());
  }
  absl::Span<const float> params() const override {
    return absl::Span<const float>(params_.data_ptr<float>(), params_.numel());
  }

  void Forward(absl::Span<const float> input, absl::Span<float> output) override {
    at::NoGradGuard no_grad;
    std::memcpy(x_[0].data_ptr<float>(), input.data(), spec_.input_dim * sizeof(float));
    const int last = spec_.num_layers() - 1;
    for (int l = 0; l < last; ++l) {
      at::addmv_out(pre_[l], b_[l], w_[l], x_[l]);
      at::native_layer_norm_out(norm_[l], mean_[l], rstd_[l], pre_[l], {spec_.hidden[l]},
                                /*weight=*/c10::nullopt, /*bias=*/c10::nullopt,
                                spec_.layer_norm_eps);
      at::leaky_relu_out(x_[l + 1], norm_[l], spec_.leaky_slope);
    }
    at::addmv_out(out_, b_[last], w_[last], x_[last]);
    std::memcpy(output.data(), out_.data_ptr<float>(), spec_.output_dim * sizeof(float));
  }

  absl::Span<const float> Backward(absl::Span<const float> cotangent) override {
    at::NoGradGuard no_grad;
    std::memcpy(cotangent_.data_ptr<float>(), cotangent.data(),
                spec_.output_dim * sizeof(float));
    const int last = spec_.num_layers() - 1;
    // Output layer: dW = g x^T, db = g, dx = W^T g.
    at::outer_out(gw_[last], cotangent_, x_[last]);
    gb_[last].copy_(cotangent_);
    if (last > 0) at::mv_out(grad_act_[last - 1], wt_[last], cotangent_);
    for (int l = last - 1; l >= 0; --l) {
      at::leaky_relu_backward_out(grad_norm_[l], grad_act_[l], norm_[l], spec_.leaky_slope,
                                  /*self_is_result=*/false);
      at::Tensor grad_pre = std::get<0>(at::native_layer_norm_backward(
          grad_norm_[l], pre_[l], {spec_.hidden[l]}, mean_[l], rstd_[l],
          /*weight=*/c10::nullopt, /*bias=*/c10::nullopt, {true, false, false}));
      at::outer_out(gw_[l], grad_pre, x_[l]);
      gb_[l].copy_(grad_pre);
      if (l > 0) at::mv_out(grad_act_[l - 1], wt_[l], grad_pre);
    }
    return absl::Span<const float>(grad_.data_ptr<float>(), grad_.numel());
  }

  void HiddenActivations(absl::Span<const float> input,
                         std::vector<std::vector<float>>* layers) const override {
    MlpHiddenActivations(spec_, params(), input, layers);
  }

  std::unique_ptr<Network> Clone() const override {
    return std::make_unique<TorchMlp>(spec_, params());
  }

 private:
  MlpSpec spec_;
  at::Tensor params_, grad_;
  std::vector<at::Tensor> w_, wt_, b_, gw_, gb_;  // views into params_ / grad_
  std::vector<at::Tensor> x_;                     // input of each linear layer
  std::vector<at::Tensor> pre_, norm_, mean_, rstd_;  // per hidden layer
  std::vector<at::Tensor> grad_act_, grad_norm_;      // per hidden layer
  at::Tensor out_, cotangent_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Network>> MakeTorchMlp(const NetworkSpec& spec) {
  return CreateTorchMlp(MlpSpecFrom(spec), spec.sparsity, spec.seed);
}

absl::StatusOr<std::unique_ptr<Network>> CreateTorchMlp(const MlpSpec& spec, double sparsity,
                                                       uint64_t seed) {
  if (absl::Status s = ValidateMlpSpec(spec); !s.ok()) return s;
  std::vector<float> params(NumParameters(spec));
  SparseInitialize(spec, sparsity, seed, absl::MakeSpan(params));
  return CreateTorchMlp(spec, params);
}

absl::StatusOr<std::unique_ptr<Network>> CreateTorchMlp(const MlpSpec& spec,
                                                       absl::Span<const float> params) {
  if (absl::Status s = ValidateMlpSpec(spec); !s.ok()) return s;
  if (static_cast<int64_t>(params.size()) != NumParameters(spec)) {
    return absl::InvalidArgumentError(absl::StrCat("CreateTorchMlp: ", params.size(),
                                                   " parameters given, the spec needs ",
                                                   NumParameters(spec)));
  }
  try {
    return std::unique_ptr<Network>(std::make_unique<TorchMlp>(spec, params));
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("CreateTorchMlp: ", e.what_without_backtrace()));
  }
}

absl::Status AutogradGradient(const MlpSpec& spec, absl::Span<const float> params,
                              absl::Span<const float> input, absl::Span<const float> cotangent,
                              std::vector<float>* output, std::vector<float>* grad) {
  if (absl::Status s = ValidateMlpSpec(spec); !s.ok()) return s;
  if (static_cast<int64_t>(params.size()) != NumParameters(spec) ||
      static_cast<int64_t>(input.size()) != spec.input_dim ||
      static_cast<int64_t>(cotangent.size()) != spec.output_dim) {
    return absl::InvalidArgumentError("AutogradGradient: sizes do not match the spec");
  }
  try {
    auto copy = [](absl::Span<const float> v) {
      return torch::from_blob(const_cast<float*>(v.data()), {static_cast<int64_t>(v.size())},
                              torch::kFloat)
          .clone();
    };
    torch::Tensor p = copy(params).requires_grad_(true);
    torch::Tensor x = copy(input);
    const std::vector<LayerOffsets> offsets = ComputeLayerOffsets(spec);
    const int last = spec.num_layers() - 1;
    for (int l = 0; l <= last; ++l) {
      const int64_t in = spec.fan_in(l), out = spec.fan_out(l);
      torch::Tensor w = p.narrow(0, offsets[l].weight, out * in).view({out, in});
      torch::Tensor b = p.narrow(0, offsets[l].bias, out);
      x = torch::nn::functional::linear(x, w, b);
      if (l < last) {
        x = torch::layer_norm(x, {out}, /*weight=*/{}, /*bias=*/{}, spec.layer_norm_eps);
        x = torch::leaky_relu(x, spec.leaky_slope);
      }
    }
    torch::Tensor c = copy(cotangent);
    (x * c).sum().backward();
    x = x.detach().contiguous();
    output->assign(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
    torch::Tensor g = p.grad().contiguous();
    grad->assign(g.data_ptr<float>(), g.data_ptr<float>() + g.numel());
    return absl::OkStatus();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("AutogradGradient: ", e.what_without_backtrace()));
  }
}

void SetTorchThreads(int num_threads) { at::set_num_threads(num_threads); }

bool TorchCudaAvailable() { return torch::cuda::is_available(); }

}  // namespace rlx
