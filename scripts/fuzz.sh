#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, docs/testing.md) with clang into
# build-fuzz/ (-DRLX_FUZZ=ON: ASan + UBSan + coverage) and runs each for the
# given time, starting from its seed corpus (tests/fuzz/corpus/<target>/; new
# inputs go to build-fuzz/corpus/<target>/). Prints per target: runs, exec/s,
# coverage (cov: edges, ft: features), corpus size and crashes. A crash stops
# that target's run; its input is kept in build-fuzz/artifacts/<target>/ (fix
# the bug, then copy the input to tests/fuzz/regressions/<target>/ so
# fuzz_regression_test replays it from then on).
#
# Usage: scripts/fuzz.sh [seconds per target, default 600] [target ...]
# Environment: RLX_BUILD_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-600}
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(tensor_codec item_batch job_file replay_checkpoint learner_checkpoint)
fi
build=build-fuzz

if [[ ! -f $build/build.ninja ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DRLX_FUZZ=ON -DRLX_BUILD_BENCH=OFF
fi
cmake --build "$build" -j "${RLX_BUILD_JOBS:-2}" --target fuzzers

# Leaks in third-party code only (tests/sanitizers/lsan.supp); a report stops
# the run like a crash.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0"
export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$root/tests/sanitizers/ubsan.supp"

summary=()
status=0
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  artifacts=$build/artifacts/$t
  log=$build/fuzz-$t.log
  mkdir -p "$corpus" "$artifacts"
  echo "== fuzz_$t: ${seconds} s (log: $log)"
  start=$SECONDS
  rc=0
  # -timeout: an input running 10 s is a finding; -rss_limit_mb (and the
  # malloc limit, the same) 2048: so is one that needs 2 GiB.
  "$build/bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "tests/fuzz/corpus/$t" \
    >"$log" 2>&1 || rc=$?
  elapsed=$((SECONDS - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  crashes=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
  line=$(printf '%-20s time %5ss  runs %10s  exec/s %7s  cov %6s  ft %7s  corpus %-12s rss %5s MB  crashes %s' \
    "$t" "$elapsed" "${runs:-?}" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" "$crashes")
  echo "$line"
  summary+=("$line")
  if [[ $rc -ne 0 || $crashes -ne 0 ]]; then
    status=1
    echo "   finding(s) in $artifacts/ (exit status $rc); the report:"
    grep -E -A30 '^==[0-9]+==ERROR|fuzz check failed|^SUMMARY|runtime error' "$log" | head -60 || true
  fi
done
echo "== summary (${seconds} s per target)"
printf '%s\n' "${summary[@]}"
exit $status
