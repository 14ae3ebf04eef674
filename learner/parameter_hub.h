// ParameterHub: the newest published parameters of one running job, and a
// way to wait for a newer version. The job's learning thread publishes;
// WatchParameters handlers (one per actor / evaluator) wait and send. Only
// the newest version matters: waiters may skip versions.
//
// Thread-safe. Close() wakes every waiter for good (the job ended).
#ifndef RLX_LEARNER_PARAMETER_HUB_H_
#define RLX_LEARNER_PARAMETER_HUB_H_

#include <cstdint>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "learner.pb.h"

namespace rlx {

class ParameterHub {
 public:
  void Publish(std::shared_ptr<const Parameters> parameters) ABSL_LOCKS_EXCLUDED(mu_);
  // The newest parameters with version > after_version; nullptr when the
  // deadline passed first or the hub is closed (see closed()).
  std::shared_ptr<const Parameters> WaitNewer(int64_t after_version, absl::Time deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  bool closed() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t version() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const Parameters> latest_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace rlx

#endif  // RLX_LEARNER_PARAMETER_HUB_H_
