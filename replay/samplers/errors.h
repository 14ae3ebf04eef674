// The errors every sampler returns for the Sampler contract's bookkeeping
// failures, so all strategies word them the same way. Internal to samplers/.
#ifndef RLX_REPLAY_SAMPLERS_ERRORS_H_
#define RLX_REPLAY_SAMPLERS_ERRORS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rlx::sampler_errors {

inline absl::Status KeyExists(uint64_t key) {
  return absl::AlreadyExistsError(absl::StrCat("sampler: key ", key, " already present"));
}

inline absl::Status KeyNotFound(uint64_t key) {
  return absl::NotFoundError(absl::StrCat("sampler: key ", key, " not found"));
}

inline absl::Status Empty() {
  return absl::FailedPreconditionError("sampler: no items to sample");
}

}  // namespace rlx::sampler_errors

#endif  // RLX_REPLAY_SAMPLERS_ERRORS_H_
