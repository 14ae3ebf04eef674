#include "learner/parameter_hub.h"

namespace rlx {

void ParameterHub::Publish(std::shared_ptr<const Parameters> parameters,
                           std::shared_ptr<const ConsumedCounts> consumed) {
  absl::MutexLock lock(&mu_);
  latest_.parameters = std::move(parameters);
  latest_.consumed = consumed != nullptr ? std::move(consumed)
                                         : std::make_shared<const ConsumedCounts>();
  for (ParameterSubscriber* s : subscribers_) s->OnPublished(latest_);
}

void ParameterHub::Progress(std::shared_ptr<const ConsumedCounts> consumed) {
  absl::MutexLock lock(&mu_);
  if (latest_.parameters == nullptr || closed_ || consumed == nullptr) return;
  latest_.consumed = std::move(consumed);
  for (ParameterSubscriber* s : subscribers_) s->OnProgress(latest_.consumed);
}

std::shared_ptr<const Parameters> ParameterHub::WaitNewer(int64_t after_version,
                                                          absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, after_version]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ ||
           (latest_.parameters != nullptr && latest_.parameters->version() > after_version);
  };
  mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
  // A newer version is still handed out after Close (the job's last one).
  if (latest_.parameters == nullptr || latest_.parameters->version() <= after_version) {
    return nullptr;
  }
  return latest_.parameters;
}

void ParameterHub::Subscribe(ParameterSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  subscribers_.insert(subscriber);
  if (latest_.parameters != nullptr) subscriber->OnPublished(latest_);
  if (closed_) subscriber->OnClosed();
}

void ParameterHub::Unsubscribe(ParameterSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  subscribers_.erase(subscriber);
}

void ParameterHub::Close() {
  absl::MutexLock lock(&mu_);
  if (closed_) return;
  closed_ = true;
  for (ParameterSubscriber* s : subscribers_) s->OnClosed();
}

bool ParameterHub::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

int64_t ParameterHub::version() const {
  absl::MutexLock lock(&mu_);
  return latest_.parameters == nullptr ? -1 : latest_.parameters->version();
}

int ParameterHub::subscribers() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(subscribers_.size());
}

}  // namespace rlx
