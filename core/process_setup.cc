#include "core/process_setup.h"

#include "absl/synchronization/mutex.h"

namespace rlx {

void SetUpProcess() {
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

}  // namespace rlx
