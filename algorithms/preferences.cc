#include "algorithms/preferences.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace rlx::spo {
namespace {

double Sign(double x) { return x > 0 ? 1.0 : (x < 0 ? 0.0 : 0.5); }

double Return(const Trajectory& t) {
  double g = 0;
  for (float r : t.rewards()) g += r;
  return g;
}

class Markovian : public PreferenceFunction {
 public:
  double Probability(const Trajectory& a, const Trajectory& b) const override {
    return Sign(Return(a) - Return(b));
  }
};

class Noisy : public PreferenceFunction {
 public:
  explicit Noisy(double temperature) : temperature_(temperature) {}
  double Probability(const Trajectory& a, const Trajectory& b) const override {
    return 1.0 / (1.0 + std::exp(-(Return(a) - Return(b)) / temperature_));
  }

 private:
  double temperature_;
};

class Intransitive : public PreferenceFunction {
 public:
  explicit Intransitive(std::vector<double> mix) : mix_(std::move(mix)) {}
  double Probability(const Trajectory& a, const Trajectory& b) const override {
    const Criteria ca = TrajectoryCriteria(a), cb = TrajectoryCriteria(b);
    return mix_[0] * Sign(ca.total_return - cb.total_return) +
           mix_[1] * Sign(ca.final_position - cb.final_position) +
           mix_[2] * Sign(ca.negative_energy - cb.negative_energy);
  }

 private:
  std::vector<double> mix_;
};

class NonMarkovian : public PreferenceFunction {
 public:
  explicit NonMarkovian(double threshold) : threshold_(threshold) {}
  double Probability(const Trajectory& a, const Trajectory& b) const override {
    const auto [head_a, ok_a] = Score(a);
    const auto [head_b, ok_b] = Score(b);
    if (ok_a != ok_b) return ok_a ? 1.0 : 0.0;
    return Sign(head_a - head_b);
  }

 private:
  // (return over the first three quarters, last quarter's return within the threshold)
  std::pair<double, bool> Score(const Trajectory& t) const {
    const int n = t.rewards_size();
    double head = 0;
    for (int i = 0; i < (3 * n + 3) / 4; ++i) head += t.rewards(i);
    return {head, LastQuarterReturn(t.rewards()) <= threshold_};
  }
  double threshold_;
};

}  // namespace

double LastQuarterReturn(absl::Span<const float> rewards) {
  const size_t n = rewards.size();
  double tail = 0;
  for (size_t i = (3 * n + 3) / 4; i < n; ++i) tail += rewards[i];  // from ceil(3n / 4)
  return tail;
}

Criteria TrajectoryCriteria(const Trajectory& t) {
  Criteria c;
  c.total_return = Return(t);
  if (t.obs_dim() > 0 && t.observations_size() >= t.obs_dim()) {
    c.final_position = t.observations(t.observations_size() - t.obs_dim());
  }
  double energy = 0;
  for (float a : t.actions()) energy += static_cast<double>(a) * a;
  c.negative_energy = -energy;
  return c;
}

absl::Status ValidateTrajectory(const Trajectory& t) {
  if (t.length() < 0 || t.obs_dim() < 0 || t.action_dim() < 0) {
    return absl::InvalidArgumentError("trajectory: length, obs_dim and action_dim must be >= 0");
  }
  const int64_t steps = t.length();
  if (t.observations_size() != (steps + 1) * t.obs_dim()) {
    return absl::InvalidArgumentError(absl::StrCat("trajectory: observations has ",
                                                   t.observations_size(), " values, expected (",
                                                   steps, " + 1) x ", t.obs_dim()));
  }
  if (t.actions_size() != steps * t.action_dim()) {
    return absl::InvalidArgumentError(absl::StrCat("trajectory: actions has ", t.actions_size(),
                                                   " values, expected ", steps, " x ",
                                                   t.action_dim()));
  }
  if (t.rewards_size() != steps) {
    return absl::InvalidArgumentError(absl::StrCat("trajectory: rewards has ", t.rewards_size(),
                                                   " values, expected ", steps));
  }
  for (const auto* field : {&t.observations(), &t.actions(), &t.rewards(), &t.summary()}) {
    for (float v : *field) {
      if (!std::isfinite(v)) return absl::InvalidArgumentError("trajectory: a non-finite value");
    }
  }
  return absl::OkStatus();
}

double PreferenceFunction::Vote(const Trajectory& a, const Trajectory& b,
                                std::mt19937_64* rng) const {
  const double p = Probability(a, b);
  const double u = static_cast<double>((*rng)() >> 11) * 0x1.0p-53;
  return u < p ? 1.0 : 0.0;
}

absl::StatusOr<std::unique_ptr<PreferenceFunction>> MakePreferenceFunction(
    const PreferenceFunctionSpec& spec) {
  if (spec.name() == "markovian") return std::unique_ptr<PreferenceFunction>(new Markovian());
  if (spec.name() == "noisy") {
    if (!(spec.temperature() > 0) || !std::isfinite(spec.temperature())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "function.temperature: must be finite and > 0 for noisy, got ", spec.temperature()));
    }
    return std::unique_ptr<PreferenceFunction>(new Noisy(spec.temperature()));
  }
  if (spec.name() == "intransitive") {
    double sum = 0;
    bool ok = spec.mix_size() == 3;
    for (double w : spec.mix()) {
      ok &= w >= 0 && std::isfinite(w);
      sum += w;
    }
    if (!ok || std::abs(sum - 1) > 1e-6) {
      return absl::InvalidArgumentError(
          "function.mix: intransitive needs 3 weights >= 0 summing to 1");
    }
    return std::unique_ptr<PreferenceFunction>(
        new Intransitive(std::vector<double>(spec.mix().begin(), spec.mix().end())));
  }
  if (spec.name() == "non_markovian") {
    if (!std::isfinite(spec.threshold())) {
      return absl::InvalidArgumentError("function.threshold: must be finite");
    }
    return std::unique_ptr<PreferenceFunction>(new NonMarkovian(spec.threshold()));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("function.name: unknown preference function '", spec.name().substr(0, 64),
                   "' (markovian, noisy, intransitive, non_markovian)"));
}

absl::StatusOr<CompareResponse> Compare(const CompareRequest& request, std::mt19937_64* rng) {
  absl::StatusOr<std::unique_ptr<PreferenceFunction>> f =
      MakePreferenceFunction(request.function());
  if (!f.ok()) return f.status();
  for (int i = 0; i < request.trajectories_size(); ++i) {
    if (absl::Status s = ValidateTrajectory(request.trajectories(i)); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("trajectories[", i, "]: ", s.message()));
    }
  }
  CompareResponse response;
  const int n = request.trajectories_size();
  for (int i = 0; i < request.pairs_size(); ++i) {
    const TrajectoryPair& p = request.pairs(i);
    if (p.a() < 0 || p.a() >= n || p.b() < 0 || p.b() >= n) {
      return absl::InvalidArgumentError(absl::StrCat("pairs[", i, "]: index out of range [0, ",
                                                     n, ")"));
    }
  }
  for (const TrajectoryPair& p : request.pairs()) {
    const Trajectory& a = request.trajectories(p.a());
    const Trajectory& b = request.trajectories(p.b());
    response.add_p_a_preferred(request.function().sample() ? (*f)->Vote(a, b, rng)
                                                           : (*f)->Probability(a, b));
  }
  return response;
}

}  // namespace rlx::spo
