// ParameterHub: the newest published parameters of one running job, and the
// ways to follow them. The job's learning thread publishes; WatchParameters
// streams (one per actor / evaluator) subscribe, and tests may wait.
//
// Each publication is a Parameters message without consumed_per_stream plus
// a shared table of items consumed per stream; a subscriber picks its own
// streams' counts from it (so a message never grows with the number of
// streams the job has seen). Only the newest version matters: followers may
// skip versions.
//
// Thread-safe. Subscribers are called with the hub's lock held (they must not
// call back into the hub, and must not block); after Unsubscribe returns the
// hub never calls that subscriber again. Close() wakes every waiter and tells
// every subscriber for good (the job ended).
#ifndef RLX_LEARNER_PARAMETER_HUB_H_
#define RLX_LEARNER_PARAMETER_HUB_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "learner.pb.h"

namespace rlx {

// Items of each stream the learner has taken from the queue, sorted by stream.
using ConsumedCounts = std::vector<std::pair<int64_t, int64_t>>;

struct PublishedParameters {
  std::shared_ptr<const Parameters> parameters;     // consumed_per_stream empty
  std::shared_ptr<const ConsumedCounts> consumed;   // never null once published
};

class ParameterSubscriber {
 public:
  virtual ~ParameterSubscriber() = default;
  // A newer version was published (and once at Subscribe, when one exists).
  virtual void OnPublished(const PublishedParameters& published) = 0;
  // The learner has taken more items (newer counts, no new parameters).
  virtual void OnProgress(const std::shared_ptr<const ConsumedCounts>& consumed) {}
  // The job ended; called once, after the last OnPublished.
  virtual void OnClosed() = 0;
};

class ParameterHub {
 public:
  void Publish(std::shared_ptr<const Parameters> parameters,
               std::shared_ptr<const ConsumedCounts> consumed) ABSL_LOCKS_EXCLUDED(mu_);
  // Newer consumed counts without new parameters (ignored before the first
  // Publish and after Close).
  void Progress(std::shared_ptr<const ConsumedCounts> consumed) ABSL_LOCKS_EXCLUDED(mu_);
  // The newest parameters with version > after_version; nullptr when the
  // deadline passed first or the hub is closed (see closed()).
  std::shared_ptr<const Parameters> WaitNewer(int64_t after_version, absl::Time deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Subscribe(ParameterSubscriber* subscriber) ABSL_LOCKS_EXCLUDED(mu_);
  void Unsubscribe(ParameterSubscriber* subscriber) ABSL_LOCKS_EXCLUDED(mu_);
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  bool closed() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t version() const ABSL_LOCKS_EXCLUDED(mu_);
  int subscribers() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  PublishedParameters latest_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<ParameterSubscriber*> subscribers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rlx

#endif  // RLX_LEARNER_PARAMETER_HUB_H_
