// Conversion between absl::Status (used everywhere inside the project) and
// grpc::Status (only at service edges). Codes map one to one.
#ifndef RLX_CORE_GRPC_STATUS_H_
#define RLX_CORE_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace rlx {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace rlx

#endif  // RLX_CORE_GRPC_STATUS_H_
