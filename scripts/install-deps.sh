#!/usr/bin/env bash
# Installs exactly the Debian packages this project needs to build, test and run.
# Idempotent: when everything is already installed it only checks and returns (~1 s).
# Usage: scripts/install-deps.sh   (as root, or with sudo available)
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libtorch-dev prometheus-cpp-dev
  # libcrypto: HMAC of the learner's write grants (core/write_grant.h)
  libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # optimised single-threaded BLAS (no thread-local storage; see docs/architecture.md)
  libopenblas0-serial
  # CBLAS headers + libblas.so for the batched dense MLP (models/dense_mlp.h)
  libblas-dev
  # tools used by tests and deployment checks
  prometheus docker-compose iproute2 procps curl python3
  # certificates and tokens (deploy/make-secrets.sh, the TLS tests)
  openssl
  # the Python reference PPO of bench/ppo_reference.py
  python3-torch python3-numpy
  # the example Python rater (examples/python_rater.py) and its test
  python3-grpcio python3-protobuf
  # the Python client (python/, docs/python.md): `pip install --no-index ./python`
  # into a venv with the system site packages, offline (pip's setuptools path)
  python3-venv python3-pip python3-setuptools python3-wheel
)

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#PACKAGES[@]} packages present"
fi

# LibTorch must use the serial OpenBLAS: the pthread/openmp variants carry ~60 KB of
# thread-local storage that stops prometheus-cpp's exposer threads from starting.
blas=libblas.so.3-x86_64-linux-gnu
serial=/usr/lib/x86_64-linux-gnu/openblas-serial/libblas.so.3
if [[ -e $serial ]]; then
  current=$(readlink -f /etc/alternatives/$blas 2>/dev/null || true)
  if [[ $current != "$serial" ]]; then
    $SUDO update-alternatives --set $blas "$serial" >/dev/null
    echo "install-deps: libblas.so.3 -> $serial"
  fi
  lapack=liblapack.so.3-x86_64-linux-gnu
  lserial=/usr/lib/x86_64-linux-gnu/openblas-serial/liblapack.so.3
  if [[ -e $lserial && $(readlink -f /etc/alternatives/$lapack 2>/dev/null) != "$lserial" ]]; then
    $SUDO update-alternatives --set $lapack "$lserial" >/dev/null
  fi
fi
