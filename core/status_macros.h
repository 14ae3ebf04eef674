// Status propagation macros in the style of Abseil-based codebases.
//   RETURN_IF_ERROR(expr);            // returns expr's status when not ok
//   ASSIGN_OR_RETURN(auto x, expr);   // unwraps an absl::StatusOr or returns its status
#ifndef RLX_CORE_STATUS_MACROS_H_
#define RLX_CORE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RLX_STATUS_CONCAT_INNER(a, b) a##b
#define RLX_STATUS_CONCAT(a, b) RLX_STATUS_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    const ::absl::Status rlx_status_ = (expr);         \
    if (!rlx_status_.ok()) return rlx_status_;         \
  } while (false)

#define ASSIGN_OR_RETURN(lhs, expr) \
  RLX_ASSIGN_OR_RETURN_IMPL(RLX_STATUS_CONCAT(rlx_statusor_, __LINE__), lhs, expr)

#define RLX_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  if (!statusor.ok()) return statusor.status();        \
  lhs = std::move(statusor).value()

#endif  // RLX_CORE_STATUS_MACROS_H_
