#include "envs/multi_agent_registry.h"

#include "absl/strings/str_cat.h"
#include "envs/navigation.h"

namespace rlx {

bool IsMultiAgentEnv(absl::string_view name) { return name == NavigationEnv::kName; }

absl::StatusOr<std::unique_ptr<MultiAgentEnv>> MakeMultiAgentEnv(absl::string_view name,
                                                                 absl::string_view options) {
  if (name == NavigationEnv::kName) {
    absl::StatusOr<NavigationConfig> config = ParseNavigationConfig(options);
    if (!config.ok()) return config.status();
    absl::StatusOr<std::unique_ptr<NavigationEnv>> env = NavigationEnv::Create(*config);
    if (!env.ok()) return env.status();
    return std::unique_ptr<MultiAgentEnv>(std::move(*env));
  }
  return absl::NotFoundError(absl::StrCat("unknown multi-agent env \"", name, "\"; known: ",
                                          NavigationEnv::kName));
}

std::vector<std::string> RegisteredMultiAgentEnvs() { return {NavigationEnv::kName}; }

}  // namespace rlx
