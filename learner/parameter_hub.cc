#include "learner/parameter_hub.h"

namespace rlx {

void ParameterHub::Publish(std::shared_ptr<const Parameters> parameters) {
  absl::MutexLock lock(&mu_);
  latest_ = std::move(parameters);
}

std::shared_ptr<const Parameters> ParameterHub::WaitNewer(int64_t after_version,
                                                          absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, after_version]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || (latest_ != nullptr && latest_->version() > after_version);
  };
  mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
  // A newer version is still handed out after Close (the job's last one).
  if (latest_ == nullptr || latest_->version() <= after_version) return nullptr;
  return latest_;
}

void ParameterHub::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

bool ParameterHub::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

int64_t ParameterHub::version() const {
  absl::MutexLock lock(&mu_);
  return latest_ == nullptr ? -1 : latest_->version();
}

}  // namespace rlx
