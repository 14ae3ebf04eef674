#include "algorithms/seeds.h"

namespace rlx {

uint64_t DeriveSeed(uint64_t seed, uint64_t tag) {
  // SplitMix64 finaliser over seed and tag.
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (tag + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t StreamActorSeed(uint64_t run_seed, int64_t stream_id) {
  const uint64_t base = stream_id == 0 ? run_seed : DeriveSeed(run_seed, 1000 + stream_id);
  return DeriveSeed(base, kActorSeedTag);
}

uint64_t StreamEnvSeed(uint64_t run_seed, int64_t stream_id) {
  const uint64_t base = stream_id == 0 ? run_seed : DeriveSeed(run_seed, 1000 + stream_id);
  return DeriveSeed(base, kEnvSeedTag);
}

uint64_t EvalSeedBase(const JobSpec& spec) {
  return spec.eval().seed() != 0 ? spec.eval().seed() : spec.seed();
}

uint64_t EvalEpisodeSeed(uint64_t base, int64_t eval_index, int episode) {
  return DeriveSeed(base, kEvalSeedTag + 1000 * static_cast<uint64_t>(eval_index + 1) + episode);
}

}  // namespace rlx
