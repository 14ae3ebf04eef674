// Name -> environment factory for the built-in classic-control envs.
//
// Names follow Gymnasium's registry: "Acrobot-v1", "CartPole-v1",
// "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1". Every call to
// MakeEnv returns a new, independent env (not yet Reset; its generator is
// seeded with 0 until a Reset passes a seed).
#ifndef RLX_ENVS_REGISTRY_H_
#define RLX_ENVS_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envs/env.h"

namespace rlx {

// A new env by registry name (exact, case-sensitive). NOT_FOUND naming the
// unknown name and listing the known ones.
absl::StatusOr<std::unique_ptr<Env>> MakeEnv(absl::string_view name);

// The registered names, sorted.
std::vector<std::string> RegisteredEnvs();

}  // namespace rlx

#endif  // RLX_ENVS_REGISTRY_H_
