// A name for this process that no other process shares, for identities sent
// to a server (e.g. an actor's LeaseAssignmentRequest.actor_name) when the
// user gave none. Hostname and pid alone are not enough: two containers on
// the host network are both pid 1 with the same hostname. Thread-safe.
#ifndef RLX_CORE_PROCESS_IDENTITY_H_
#define RLX_CORE_PROCESS_IDENTITY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace rlx {

// "<hostname>-<pid>-<8 random hex digits>" ("<fallback>-..." without a
// hostname). The random part comes from the OS entropy source.
std::string UniqueProcessName(absl::string_view fallback);

}  // namespace rlx

#endif  // RLX_CORE_PROCESS_IDENTITY_H_
