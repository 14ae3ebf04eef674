// TSan builds only (RLX_SANITIZE=thread, cmake/rlx.cmake links this into every
// executable, beside tsan_absl_sync.cc): tells ThreadSanitizer that a gRPC
// operation's completion happens after the operation was started.
//
// Why: Debian's gRPC is not built with TSan. It hands an operation from the
// thread that starts it (a reactor's StartRead/StartWrite/Finish, a stub call)
// to the thread that completes it and runs the callback (OnReadDone, OnDone
// ...) through lock-free queues TSan never sees. Without this file every
// field a reactor writes before starting an operation and reads in its
// callback, and every request gRPC parses for it, is reported as a data race.
//
// How: the executable defines gRPC's C entry points below itself (exported, so
// libgrpc++'s calls land here too); each calls gRPC's definition (dlsym
// RTLD_NEXT) and adds edges through one sync object: starting a batch and
// ending an operation release it; taking a completion off a queue (the thread
// that then runs the callback: libgrpc++'s callback threads call
// grpc_completion_queue_next, synchronous calls pluck) acquires it.
//
// Cost: the edges are coarse (one object for every call), so a race between a
// callback and code that ran before *any* earlier gRPC operation of another
// thread can be missed. Races among our own threads that do not go through
// gRPC (learner loops, tables, actors' envs) are checked as before.
#include <dlfcn.h>
#include <grpc/grpc.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/status/status.h"

struct grpc_cq_completion;

// gRPC's internal completion entry point (src/core/lib/surface/
// completion_queue.h in gRPC 1.51; exported by libgrpc.so.29), under the
// symbol libgrpc exports.
#define RLX_CQ_END_OP                                                                     \
  "_Z14grpc_cq_end_opP21grpc_completion_queuePvN4absl7debian36StatusEPFvS1_P18grpc_cq_" \
  "completionES1_S6_b"
void RlxGrpcCqEndOp(grpc_completion_queue* cq, void* tag, absl::Status error,
                    void (*done)(void* done_arg, grpc_cq_completion* storage), void* done_arg,
                    grpc_cq_completion* storage, bool internal) __asm__(RLX_CQ_END_OP);

// gRPC's executor (src/core/lib/iomgr/executor.h, exported by libgrpc.so.29):
// closures gRPC++ hands to its executor threads (a server reactor's OnDone
// among them). Run releases, RunClosures (on the executor thread) acquires.
struct RlxClosureList {  // grpc_closure_list: {grpc_closure* head, *tail}
  void* head;
  void* tail;
};
#define RLX_EXECUTOR_RUN \
  "_ZN9grpc_core8Executor3RunEP12grpc_closureN4absl7debian36StatusENS_12ExecutorTypeENS_15ExecutorJobTypeE"
#define RLX_EXECUTOR_RUN_CLOSURES "_ZN9grpc_core8Executor11RunClosuresEPKc17grpc_closure_list"
void RlxExecutorRun(void* closure, absl::Status error, int type, int job_type)
    __asm__(RLX_EXECUTOR_RUN);
size_t RlxExecutorRunClosures(const char* name, RlxClosureList list)
    __asm__(RLX_EXECUTOR_RUN_CLOSURES);

namespace {

char grpc_clock;

void* Real(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_grpc_sync: %s not found in gRPC: %s\n", name, dlerror());
    std::abort();
  }
  return f;
}

}  // namespace

#define RLX_REAL(type, name) static const auto real = reinterpret_cast<type>(Real(name))

extern "C" grpc_call_error grpc_call_start_batch(grpc_call* call, const grpc_op* ops, size_t nops,
                                                 void* tag, void* reserved) {
  RLX_REAL(grpc_call_error(*)(grpc_call*, const grpc_op*, size_t, void*, void*),
           "grpc_call_start_batch");
  __tsan_release(&grpc_clock);
  return real(call, ops, nops, tag, reserved);
}

extern "C" grpc_event grpc_completion_queue_next(grpc_completion_queue* cq, gpr_timespec deadline,
                                                 void* reserved) {
  RLX_REAL(grpc_event(*)(grpc_completion_queue*, gpr_timespec, void*),
           "grpc_completion_queue_next");
  grpc_event e = real(cq, deadline, reserved);
  __tsan_acquire(&grpc_clock);
  return e;
}

extern "C" grpc_event grpc_completion_queue_pluck(grpc_completion_queue* cq, void* tag,
                                                  gpr_timespec deadline, void* reserved) {
  RLX_REAL(grpc_event(*)(grpc_completion_queue*, void*, gpr_timespec, void*),
           "grpc_completion_queue_pluck");
  grpc_event e = real(cq, tag, deadline, reserved);
  __tsan_acquire(&grpc_clock);
  return e;
}

void RlxGrpcCqEndOp(grpc_completion_queue* cq, void* tag, absl::Status error,
                    void (*done)(void* done_arg, grpc_cq_completion* storage), void* done_arg,
                    grpc_cq_completion* storage, bool internal) {
  RLX_REAL(void (*)(grpc_completion_queue*, void*, absl::Status,
                    void (*)(void*, grpc_cq_completion*), void*, grpc_cq_completion*, bool),
           RLX_CQ_END_OP);
  __tsan_release(&grpc_clock);
  real(cq, tag, std::move(error), done, done_arg, storage, internal);
}

void RlxExecutorRun(void* closure, absl::Status error, int type, int job_type) {
  RLX_REAL(void (*)(void*, absl::Status, int, int), RLX_EXECUTOR_RUN);
  __tsan_release(&grpc_clock);
  real(closure, std::move(error), type, job_type);
}

size_t RlxExecutorRunClosures(const char* name, RlxClosureList list) {
  RLX_REAL(size_t(*)(const char*, RlxClosureList), RLX_EXECUTOR_RUN_CLOSURES);
  __tsan_acquire(&grpc_clock);
  return real(name, list);
}
