#include "algorithms/spo/win_rate.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"

namespace rlx::spo {

std::vector<std::pair<int, int>> OpponentPairs(int members, int pool_size, int opponents,
                                               std::mt19937_64* rng) {
  std::vector<std::pair<int, int>> pairs;
  for (int k = 0; k < members && pool_size > 1; ++k) {
    for (int q = 0; q < opponents; ++q) {
      int j = static_cast<int>((*rng)() % static_cast<uint64_t>(pool_size - 1));
      if (j >= k) ++j;
      pairs.emplace_back(k, j);
    }
  }
  return pairs;
}

absl::StatusOr<std::vector<double>> WinRates(const std::vector<Trajectory>& group,
                                             const std::vector<Trajectory>& queue,
                                             int opponents, const Comparator& compare,
                                             std::mt19937_64* rng, int64_t* queries,
                                             bool group_first) {
  const int g = static_cast<int>(group.size());
  const int total = g + static_cast<int>(queue.size());
  std::vector<const Trajectory*> all;
  all.reserve(total);
  for (const Trajectory& t : group) all.push_back(&t);
  for (const Trajectory& t : queue) all.push_back(&t);
  std::vector<std::pair<int, int>> pairs;
  std::vector<int> owner;  // which member each pair scores
  std::vector<int> candidates;
  for (int i = 0; i < g; ++i) {
    candidates.clear();
    for (int j = 0; j < total; ++j) {
      if (j != i) candidates.push_back(j);
    }
    int k = static_cast<int>(candidates.size());
    // The other members come first in `candidates`; with group_first they
    // are taken as they are and only the rest is drawn.
    const int fixed = group_first ? std::min(g - 1, opponents > 0 ? opponents : k) : 0;
    if (opponents > 0 && opponents < k) {
      // Partial Fisher-Yates: the first `opponents` are a uniform sample
      // (after the `fixed` ones).
      for (int s = fixed; s < opponents; ++s) {
        const int r = s + static_cast<int>((*rng)() % static_cast<uint64_t>(k - s));
        std::swap(candidates[s], candidates[r]);
      }
      k = opponents;
    }
    for (int s = 0; s < k; ++s) {
      pairs.emplace_back(i, candidates[s]);
      owner.push_back(i);
    }
  }
  std::vector<double> rates(g, 0.5);  // a lone trajectory: no evidence either way
  if (pairs.empty()) return rates;
  absl::StatusOr<std::vector<double>> p = compare(all, pairs);
  if (!p.ok()) return p.status();
  if (p->size() != pairs.size()) {
    return absl::InternalError(absl::StrCat("preferences: ", p->size(), " answers for ",
                                            pairs.size(), " pairs"));
  }
  std::vector<double> sum(g, 0.0);
  std::vector<int> count(g, 0);
  for (size_t q = 0; q < pairs.size(); ++q) {
    const double v = (*p)[q];
    if (!(v >= 0.0 && v <= 1.0)) {
      return absl::DataLossError(absl::StrCat("preferences: answer ", q, " is ", v,
                                              ", not a probability in [0, 1]"));
    }
    sum[owner[q]] += v;
    ++count[owner[q]];
  }
  for (int i = 0; i < g; ++i) {
    if (count[i] > 0) rates[i] = sum[i] / count[i];
  }
  if (queries != nullptr) *queries += static_cast<int64_t>(pairs.size());
  return rates;
}

double DistinctShare(const std::vector<const Trajectory*>& trajectories) {
  if (trajectories.empty()) return NAN;
  std::set<std::vector<int64_t>> seen;
  for (const Trajectory* t : trajectories) {
    std::vector<int64_t> key;
    key.reserve(t->actions_size() + 1);
    key.push_back(t->action_dim());
    for (float a : t->actions()) key.push_back(std::llround(static_cast<double>(a) * 10.0));
    seen.insert(std::move(key));
  }
  return static_cast<double>(seen.size()) / static_cast<double>(trajectories.size());
}

}  // namespace rlx::spo
