// Name -> multi-agent environment factory ("Navigation-v0"), with the env's
// settings as "key=value,..." text (the JobSpec's env_options). Every call
// returns a new, independent env (not yet Reset).
#ifndef RLX_ENVS_MULTI_AGENT_REGISTRY_H_
#define RLX_ENVS_MULTI_AGENT_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envs/multi_agent_env.h"

namespace rlx {

bool IsMultiAgentEnv(absl::string_view name);
// NOT_FOUND for an unknown name; INVALID_ARGUMENT naming a bad setting.
absl::StatusOr<std::unique_ptr<MultiAgentEnv>> MakeMultiAgentEnv(absl::string_view name,
                                                                 absl::string_view options);
std::vector<std::string> RegisteredMultiAgentEnvs();

}  // namespace rlx

#endif  // RLX_ENVS_MULTI_AGENT_REGISTRY_H_
