#!/usr/bin/env bash
# Configures (once) and builds everything into build/ with Ninja (and ccache when present).
# Usage: scripts/build.sh [extra cmake --build args]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
# Two cores and ~1-2 GB per LibTorch translation unit: two jobs.
cmake --build build -j "${RLX_BUILD_JOBS:-2}" "$@"
