#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the whole
# GoogleTest suite through CTest. Exit status is CTest's.
# Left out: the "image" label (scripts/image.sh test: builds the container images
# and trains in containers, ~10 min as root; run it with `ctest -L image`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd build
ctest --output-on-failure -j 2 --timeout 600 -LE image "$@"
