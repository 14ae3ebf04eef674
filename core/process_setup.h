// Process-wide settings every binary applies first thing in main().
//
// Abseil's mutex deadlock detection: Debian's Abseil is built with it on
// (its default outside NDEBUG builds of Abseil itself), so every
// absl::Mutex acquisition, gRPC's included, records itself in a global lock
// graph: about 30 ns per nested lock pair against 8 ns without, measured
// here, and 1-4 % of a learner's or actor's CPU in the distributed pipeline
// (docs/benchmarks.md, "Distributed with cpu_mlp"). Release binaries turn it
// off; debug builds keep it (it finds lock-order inversions).
#ifndef RLX_CORE_PROCESS_SETUP_H_
#define RLX_CORE_PROCESS_SETUP_H_

namespace rlx {

// Call once at the start of main(), before any thread starts.
void SetUpProcess();

}  // namespace rlx

#endif  // RLX_CORE_PROCESS_SETUP_H_
