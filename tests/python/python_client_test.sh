#!/usr/bin/env bash
# CTest python_client_test: the Python client (python/) installed offline into
# a venv and used against a real `rlctl up` topology on 127.0.0.1.
#   tests/python/python_client_test.sh SOURCE_DIR BIN_DIR
# Exit 0: passed; 77: skipped (no python3-venv / python3-grpcio /
# python3-protobuf); anything else: failed. Every step is bounded with
# timeout(1) and the EXIT trap always runs `rlctl down`, so nothing started
# here outlives the script.
set -euo pipefail

src=$(cd "${1:?usage: $0 SOURCE_DIR BIN_DIR}" && pwd)
bin=$(cd "${2:?usage: $0 SOURCE_DIR BIN_DIR}" && pwd)
PY=/usr/bin/python3  # Debian's: a python3 earlier on PATH may not see its packages

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[[ -x $PY ]] || skip "no $PY"
$PY -c 'import ensurepip, venv' 2>/dev/null ||
  skip "python3-venv missing (scripts/install-deps.sh)"
$PY -c 'import grpc, google.protobuf' 2>/dev/null ||
  skip "python3-grpcio / python3-protobuf missing (scripts/install-deps.sh)"
for b in rlctl replay_server preference_server learner actor evaluator; do
  [[ -x $bin/$b ]] || fail "no $bin/$b (build the project first)"
done

work=$(mktemp -d /tmp/rlx_python_client_XXXXXX)
state=$work/state
secure_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $secure_pid ]]; then kill "$secure_pid" 2>/dev/null; wait "$secure_pid" 2>/dev/null || true; fi
  if [[ -e $state/topology.txt ]]; then
    echo "== rlctl down"
    timeout 60 "$bin/rlctl" down --state_dir="$state" --timeout_s=5 || rc=1
    if [[ $rc -ne 0 && -d $state/logs ]]; then
      for log in "$state"/logs/*.log; do
        echo "== $log (last lines)"
        tail -n 15 "$log" || true
      done
    fi
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A copy of python/ and proto/ side by side: the build (in-tree with pip
# 23.0) writes build/ and *.egg-info next to setup.py, never in the checkout.
mkdir -p "$work/src/python"
cp -r "$src/python/setup.py" "$src/python/rlx_client" "$work/src/python/"
rm -f "$work"/src/python/rlx_client/pb/*_pb2*.py*
cp -r "$src/proto" "$work/src/proto"

echo "== venv + pip install --no-index (no network)"
$PY -m venv --system-site-packages "$work/venv"
PIP_DISABLE_PIP_VERSION_CHECK=1 timeout 60 "$work/venv/bin/pip" install --no-index \
  --no-cache-dir "$work/src/python" || fail "pip install --no-index of the client failed"

echo "== rlctl up"
timeout 130 "$bin/rlctl" up --state_dir="$state" --actors=1 --start_timeout_s=20 ||
  fail "rlctl up failed"
grep -q '^learner_address=127\.0\.0\.1:' "$state/topology.txt" ||
  fail "the learner does not listen on 127.0.0.1: $(cat "$state/topology.txt")"

echo "== a learner with TLS and tokens"
timeout 30 bash "$src/deploy/make-secrets.sh" "$work/pki" >/dev/null || fail "make-secrets.sh failed"
"$bin/learner" --port=0 --port_file="$work/secure.port" --replay=127.0.0.1:1 \
  --checkpoint_dir="$work/secure_learner" --tls_cert="$work/pki/server.pem" \
  --tls_key="$work/pki/server.key" --tokens_file="$work/pki/tokens" > "$work/secure.log" 2>&1 &
secure_pid=$!
for _ in $(seq 100); do [[ -s $work/secure.port ]] && break; sleep 0.1; done
[[ -s $work/secure.port ]] || fail "the TLS learner did not start: $(cat "$work/secure.log")"
secure="127.0.0.1:$(head -n 1 "$work/secure.port")"

echo "== python checks"
cd "$work"
timeout 120 "$work/venv/bin/python" "$src/tests/python/python_client_check.py" \
  --state_dir="$state" --jobs_dir="$src/jobs" --venv="$work/venv" --work="$work" \
  --secure_learner="$secure" --pki="$work/pki" ||
  fail "python_client_check.py failed"
echo "PASS"
