#!/bin/sh
# Select the serial OpenBLAS as libblas.so.3 and liblapack.so.3 (run as root in
# the image, after every apt-get install that may pull another BLAS). LibTorch
# must use it: the pthread/openmp variants' thread-local storage stops
# prometheus-cpp's exposer threads from starting (scripts/install-deps.sh).
set -e
for lib in blas lapack; do
  for f in /usr/lib/*/openblas-serial/lib${lib}.so.3; do
    [ -e "$f" ] || continue
    ma=$(basename "$(dirname "$(dirname "$f")")")
    update-alternatives --set "lib${lib}.so.3-${ma}" "$f"
  done
done
