#include "models/backends.h"

namespace rlx {

const std::vector<std::string>& NetworkBackendNames() {
  static const std::vector<std::string> names = {"torch_mlp"};
  return names;
}

}  // namespace rlx
