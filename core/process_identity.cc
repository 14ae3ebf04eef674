#include "core/process_identity.h"

#include <limits.h>
#include <unistd.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rlx {

std::string UniqueProcessName(absl::string_view fallback) {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device entropy;  // /dev/urandom
  const uint32_t tag = entropy();
  return absl::StrCat(host[0] != '\0' ? absl::string_view(host) : fallback, "-", getpid(), "-",
                      absl::StrFormat("%08x", tag));
}

}  // namespace rlx
