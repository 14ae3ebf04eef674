// How a job's random generators are seeded, shared by every algorithm, the
// in-process trainers, the actors and the evaluator: stream 0 of a
// distributed job acts exactly like the in-process trainer, and the evaluator
// resets its episodes with the in-process trainer's evaluation seeds.
// Torch-free; stateless.
#ifndef RLX_ALGORITHMS_SEEDS_H_
#define RLX_ALGORITHMS_SEEDS_H_

#include <cstdint>

#include "job.pb.h"

namespace rlx {

// SplitMix64's finaliser over seed and tag: independent seeds from one.
uint64_t DeriveSeed(uint64_t seed, uint64_t tag);

inline constexpr uint64_t kActorSeedTag = 11;
inline constexpr uint64_t kEnvSeedTag = 12;
inline constexpr uint64_t kEvalSeedTag = 13;

// Seeds of stream `stream_id` of a distributed job (stream 0 = the in-process
// trainer's): its acting generator and its environment's first reset.
uint64_t StreamActorSeed(uint64_t run_seed, int64_t stream_id);
uint64_t StreamEnvSeed(uint64_t run_seed, int64_t stream_id);

// The base of a job's evaluation seeds: eval.seed, or the job's seed when
// eval.seed is 0; episode e of evaluation number eval_index (0-based) resets
// with EvalEpisodeSeed(base, eval_index, e), the greedy policy's own
// generator is seeded with DeriveSeed(base, kEvalSeedTag).
uint64_t EvalSeedBase(const JobSpec& spec);
uint64_t EvalEpisodeSeed(uint64_t base, int64_t eval_index, int episode);

}  // namespace rlx

#endif  // RLX_ALGORITHMS_SEEDS_H_
