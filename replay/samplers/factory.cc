// CreateSampler and CreateRemover (declared in interface.h): build the
// sampler a SamplerConfig names and the remover selector a RemoverConfig
// names. Parameterized samplers validate their own config in Create.
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "replay/samplers/fifo.h"
#include "replay/samplers/interface.h"
#include "replay/samplers/lifo.h"
#include "replay/samplers/lowest_priority.h"
#include "replay/samplers/prioritized.h"
#include "replay/samplers/return_weighted.h"
#include "replay/samplers/uniform.h"

namespace rlx {

absl::StatusOr<std::unique_ptr<Sampler>> CreateSampler(const SamplerConfig& config,
                                                       uint64_t seed) {
  switch (config.kind_case()) {
    case SamplerConfig::kUniform:
      return std::make_unique<UniformSampler>(seed);
    case SamplerConfig::kFifo:
      return std::make_unique<FifoSampler>();
    case SamplerConfig::kLifo:
      return std::make_unique<LifoSampler>();
    case SamplerConfig::kPrioritized: {
      auto sampler = PrioritizedSampler::Create(config.prioritized(), seed);
      if (!sampler.ok()) return sampler.status();
      return std::unique_ptr<Sampler>(std::move(*sampler));
    }
    case SamplerConfig::kReturnWeighted: {
      auto sampler = ReturnWeightedSampler::Create(config.return_weighted(), seed);
      if (!sampler.ok()) return sampler.status();
      return std::unique_ptr<Sampler>(std::move(*sampler));
    }
    case SamplerConfig::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("sampler: no kind set");
}

absl::StatusOr<std::unique_ptr<Sampler>> CreateRemover(const RemoverConfig& config,
                                                       uint64_t seed) {
  switch (config.kind_case()) {
    case RemoverConfig::KIND_NOT_SET:
    case RemoverConfig::kFifo:
      return std::make_unique<FifoSampler>();
    case RemoverConfig::kLifo:
      return std::make_unique<LifoSampler>();
    case RemoverConfig::kUniform:
      return std::make_unique<UniformSampler>(seed);
    case RemoverConfig::kLowestPriority:
      return std::make_unique<LowestPrioritySampler>();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("remover: unknown kind ", static_cast<int>(config.kind_case())));
}

}  // namespace rlx
