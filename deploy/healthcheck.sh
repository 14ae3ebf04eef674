#!/bin/bash
# rlx-healthcheck PORT [HOST]: exits 0 when HOST:PORT (default 127.0.0.1)
# accepts a TCP connection within 3 s.
#
# A TCP check, not a gRPC health check: Debian ships no grpc_health_probe and
# rlctl has no health command yet. Every rlx server binds its port only once it
# serves (and closes it at SIGTERM), so an open port means "serving". For the
# actor, which serves no gRPC port, pass its /metrics port.
port=${1:?usage: rlx-healthcheck PORT [HOST]}
host=${2:-127.0.0.1}
exec timeout 3 bash -c "exec 3<>/dev/tcp/${host}/${port}"
