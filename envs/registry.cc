#include "envs/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envs/acrobot.h"
#include "envs/cartpole.h"
#include "envs/mountain_car.h"
#include "envs/mountain_car_continuous.h"
#include "envs/pendulum.h"
#include "envs/preference_game.h"

namespace rlx {
namespace {

struct Entry {
  const char* name;
  std::unique_ptr<Env> (*make)();
};

template <typename T>
std::unique_ptr<Env> Make() {
  return std::make_unique<T>();
}

// Sorted by name.
constexpr Entry kEntries[] = {
    {Acrobot::kName, &Make<Acrobot>},
    {CartPole::kName, &Make<CartPole>},
    {MountainCar::kName, &Make<MountainCar>},
    {MountainCarContinuous::kName, &Make<MountainCarContinuous>},
    {Pendulum::kName, &Make<Pendulum>},
    {PreferenceGame::kName, &Make<PreferenceGame>},
};

}  // namespace

absl::StatusOr<std::unique_ptr<Env>> MakeEnv(absl::string_view name) {
  for (const Entry& entry : kEntries) {
    if (name == entry.name) return entry.make();
  }
  return absl::NotFoundError(absl::StrCat("unknown env \"", name, "\"; known envs: ",
                                          absl::StrJoin(RegisteredEnvs(), ", ")));
}

std::vector<std::string> RegisteredEnvs() {
  std::vector<std::string> names;
  for (const Entry& entry : kEntries) names.emplace_back(entry.name);
  return names;
}

}  // namespace rlx
