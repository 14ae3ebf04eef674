// TSan builds only (RLX_SANITIZE=thread, cmake/rlx.cmake links this into every
// executable): tells ThreadSanitizer about absl::Mutex, absl::CondVar and
// absl::Notification.
//
// Why: Debian's Abseil (libabsl_synchronization.so) is not built with TSan,
// so its locks are futexes and atomics TSan never sees. Without this file,
// every field our code guards with an absl::Mutex is reported as a data race
// (the lock orders nothing, as far as TSan knows). A suppression cannot fix
// that: the racing accesses are in our code, and hiding them would hide real
// races too.
//
// How: the executable defines the synchronisation entry points itself, so
// every call (ours, gRPC's, protobuf's, through the PLT) lands here; each one
// calls Abseil's definition (dlsym(RTLD_NEXT)) and adds the happens-before
// edge the lock stands for: __tsan_release(mu) before a lock is given up,
// __tsan_acquire(mu) once it is held. While Abseil runs, reads and writes are
// ignored: the only instrumented code it runs is our absl::Condition
// functions, which Abseil evaluates under the lock in whichever thread is
// locking or unlocking (that is how Mutex::Await works) before the edge
// above exists. Notification's flag is read by an inline atomic load
// (HasBeenNotified), so Notify also releases on the flag's address.
//
// Plain builds never compile this file.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

extern "C" {
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
void AnnotateIgnoreWritesBegin(const char* file, int line);
void AnnotateIgnoreWritesEnd(const char* file, int line);
}

namespace {

// Abseil's definition of the function whose mangled name is `name`.
void* Real(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found in Abseil: %s\n", name, dlerror());
    std::abort();
  }
  return f;
}

// Ignores reads and writes while Abseil runs (see the top comment).
class IgnoreAccesses {
 public:
  IgnoreAccesses() {
    AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
  }
  ~IgnoreAccesses() {
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
    AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  }
};

void Acquire(const void* p) { __tsan_acquire(const_cast<void*>(p)); }
void Release(const void* p) { __tsan_release(const_cast<void*>(p)); }

// Notification { Mutex mutex_; std::atomic<bool> notified_yet_; } (Abseil
// 20220623): the flag's address, which HasBeenNotified loads inline.
static_assert(sizeof(absl::Notification) == 2 * sizeof(absl::Mutex),
              "absl::Notification's layout changed: update NotifiedFlag");
const void* NotifiedFlag(const absl::Notification* n) {
  return reinterpret_cast<const char*>(n) + sizeof(absl::Mutex);
}

}  // namespace

// Real<Type>(mangled name) called with the arguments: the original function.
#define RLX_REAL(type, mangled) \
  static const auto real = reinterpret_cast<type>(Real(mangled))

// The mangled names below carry Abseil's inline namespace, Debian's "debian3".
#define RLX_STRINGIZE2(x) #x
#define RLX_STRINGIZE(x) RLX_STRINGIZE2(x)
constexpr bool SameString(const char* a, const char* b) {
  return *a == *b && (*a == '\0' || SameString(a + 1, b + 1));
}
static_assert(SameString(RLX_STRINGIZE(ABSL_OPTION_INLINE_NAMESPACE_NAME), "debian3"),
              "Abseil's inline namespace is not debian3: update the mangled names");

namespace absl {
ABSL_NAMESPACE_BEGIN

// ---- Mutex: locking ----------------------------------------------------------

void Mutex::Lock() {
  RLX_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  {
    IgnoreAccesses ignore;
    real(this);
  }
  Acquire(this);
}

void Mutex::ReaderLock() {
  RLX_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  {
    IgnoreAccesses ignore;
    real(this);
  }
  Acquire(this);
}

bool Mutex::TryLock() {
  RLX_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  bool locked;
  {
    IgnoreAccesses ignore;
    locked = real(this);
  }
  if (locked) Acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  RLX_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  bool locked;
  {
    IgnoreAccesses ignore;
    locked = real(this);
  }
  if (locked) Acquire(this);
  return locked;
}

void Mutex::LockWhen(const Condition& cond) {
  RLX_REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  {
    IgnoreAccesses ignore;
    real(this, cond);
  }
  Acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  RLX_REAL(void (*)(Mutex*, const Condition&),
           "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  {
    IgnoreAccesses ignore;
    real(this, cond);
  }
  Acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  RLX_REAL(bool (*)(Mutex*, const Condition&, absl::Duration),
           "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  bool result;
  {
    IgnoreAccesses ignore;
    result = real(this, cond, timeout);
  }
  Acquire(this);  // held whatever the result
  return result;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  RLX_REAL(bool (*)(Mutex*, const Condition&, absl::Time),
           "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  bool result;
  {
    IgnoreAccesses ignore;
    result = real(this, cond, deadline);
  }
  Acquire(this);
  return result;
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  RLX_REAL(bool (*)(Mutex*, const Condition&, absl::Duration),
           "_ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  bool result;
  {
    IgnoreAccesses ignore;
    result = real(this, cond, timeout);
  }
  Acquire(this);
  return result;
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  RLX_REAL(bool (*)(Mutex*, const Condition&, absl::Time),
           "_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  bool result;
  {
    IgnoreAccesses ignore;
    result = real(this, cond, deadline);
  }
  Acquire(this);
  return result;
}

// ---- Mutex: unlocking and waiting ----------------------------------------------

void Mutex::Unlock() {
  RLX_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  Release(this);
  IgnoreAccesses ignore;
  real(this);
}

void Mutex::ReaderUnlock() {
  RLX_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  Release(this);
  IgnoreAccesses ignore;
  real(this);
}

void Mutex::Await(const Condition& cond) {
  RLX_REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  Release(this);
  {
    IgnoreAccesses ignore;
    real(this, cond);
  }
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  RLX_REAL(bool (*)(Mutex*, const Condition&, absl::Duration),
           "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Release(this);
  bool result;
  {
    IgnoreAccesses ignore;
    result = real(this, cond, timeout);
  }
  Acquire(this);
  return result;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  RLX_REAL(bool (*)(Mutex*, const Condition&, absl::Time),
           "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Release(this);
  bool result;
  {
    IgnoreAccesses ignore;
    result = real(this, cond, deadline);
  }
  Acquire(this);
  return result;
}

// ---- CondVar: waiting gives the mutex up and takes it back ------------------------

void CondVar::Wait(Mutex* mu) {
  RLX_REAL(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  Release(mu);
  {
    IgnoreAccesses ignore;
    real(this, mu);
  }
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  RLX_REAL(bool (*)(CondVar*, Mutex*, absl::Duration),
           "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Release(mu);
  bool result;
  {
    IgnoreAccesses ignore;
    result = real(this, mu, timeout);
  }
  Acquire(mu);
  return result;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  RLX_REAL(bool (*)(CondVar*, Mutex*, absl::Time),
           "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Release(mu);
  bool result;
  {
    IgnoreAccesses ignore;
    result = real(this, mu, deadline);
  }
  Acquire(mu);
  return result;
}

// ---- Notification -------------------------------------------------------------------

void Notification::Notify() {
  RLX_REAL(void (*)(Notification*), "_ZN4absl7debian312Notification6NotifyEv");
  Release(this);
  Release(NotifiedFlag(this));
  IgnoreAccesses ignore;
  real(this);
}

void Notification::WaitForNotification() const {
  RLX_REAL(void (*)(const Notification*), "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  {
    IgnoreAccesses ignore;
    real(this);
  }
  Acquire(this);
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration timeout) const {
  RLX_REAL(bool (*)(const Notification*, absl::Duration),
           "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  bool notified;
  {
    IgnoreAccesses ignore;
    notified = real(this, timeout);
  }
  if (notified) Acquire(this);
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  RLX_REAL(bool (*)(const Notification*, absl::Time),
           "_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  bool notified;
  {
    IgnoreAccesses ignore;
    notified = real(this, deadline);
  }
  if (notified) Acquire(this);
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
