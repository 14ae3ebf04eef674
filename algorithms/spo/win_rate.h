// SPO's reward (docs/algorithms.md, "SPO"): a trajectory's win rate
// against opponents (the other members of its group and a queue of recent
// trajectories), from batched preference queries. Torch-free.
#ifndef RLX_ALGORITHMS_SPO_WIN_RATE_H_
#define RLX_ALGORITHMS_SPO_WIN_RATE_H_

#include <cstdint>
#include <functional>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "preference.pb.h"

namespace rlx::spo {

// Answers P(a preferred to b) for pairs of indexes into `trajectories`: the
// local function, or a PreferenceService client (one batched call).
using Comparator = std::function<absl::StatusOr<std::vector<double>>(
    const std::vector<const Trajectory*>& trajectories,
    const std::vector<std::pair<int, int>>& pairs)>;

// Win rate of each member of `group`: the mean of P(member preferred to
// opponent) over `opponents` opponents drawn uniformly (without
// replacement, as far as there are enough) from the other members and
// `queue`; all of them when opponents <= 0. One Comparator call for the
// whole group. *queries (may be null) counts the pairs asked. With
// group_first (groups of one context: the same start state), every other
// member is an opponent first, and the queue fills the rest.
absl::StatusOr<std::vector<double>> WinRates(const std::vector<Trajectory>& group,
                                             const std::vector<Trajectory>& queue,
                                             int opponents, const Comparator& compare,
                                             std::mt19937_64* rng, int64_t* queries = nullptr,
                                             bool group_first = false);

// The reward-model baseline's queries: each of the first `members` entries
// of a pool of `pool_size` trajectories against `opponents` others drawn
// uniformly with replacement (none when the pool has one entry).
std::vector<std::pair<int, int>> OpponentPairs(int members, int pool_size, int opponents,
                                               std::mt19937_64* rng);

// Exploration monitor (after B-STaR's count of distinct responses): the
// share of `trajectories` whose action sequence no earlier one has, in
// [0, 1] (NaN for none). Actions are compared after rounding to 0.1 (exact
// for discrete indexes), so a Gaussian policy's samples around the same
// path count as one.
double DistinctShare(const std::vector<const Trajectory*>& trajectories);

}  // namespace rlx::spo

#endif  // RLX_ALGORITHMS_SPO_WIN_RATE_H_
