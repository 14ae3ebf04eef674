#!/usr/bin/env python3
"""A PreferenceService written in Python: what a person behind a UI or a learned
model would serve for SPO jobs (proto/preference.proto).

This example rater prefers the trajectory that ends nearer to a target value of
the first observation component (ties 1/2), and answers P(a preferred to b) for
every pair. It uses Debian's python3-grpcio and python3-protobuf; the message
classes are generated from the proto with protoc:

    protoc -I . --python_out=/tmp/rlx_py proto/preference.proto
    PYTHONPATH=/tmp/rlx_py /usr/bin/python3 examples/python_rater.py --port=50055

(the service is registered by name, so no grpc_tools plugin is needed). It
answers the same RPC as the preference_server process, so whatever asks
preference_server can ask it instead (docs/operations.md, "Preference
services").
"""
import argparse
import os
import signal
import sys
import threading
from concurrent import futures

import grpc

from proto import preference_pb2


def final_value(t):
    if t.obs_dim <= 0 or len(t.observations) < t.obs_dim:
        return 0.0
    return t.observations[len(t.observations) - t.obs_dim]


def compare(request, context, target):
    n = len(request.trajectories)
    response = preference_pb2.CompareResponse()
    for i, pair in enumerate(request.pairs):
        if not (0 <= pair.a < n and 0 <= pair.b < n):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          "pairs[%d]: index out of range [0, %d)" % (i, n))
        da = abs(final_value(request.trajectories[pair.a]) - target)
        db = abs(final_value(request.trajectories[pair.b]) - target)
        response.p_a_preferred.append(1.0 if da < db else (0.0 if da > db else 0.5))
    return response


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=50055, help="0 = pick a free port")
    parser.add_argument("--target", type=float, default=0.0,
                        help="preferred final value of observation[0]")
    parser.add_argument("--port_file", default="",
                        help="write the chosen port here once serving")
    args = parser.parse_args()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handler = grpc.method_handlers_generic_handler("rlx.PreferenceService", {
        "Compare": grpc.unary_unary_rpc_method_handler(
            lambda request, context: compare(request, context, args.target),
            request_deserializer=preference_pb2.CompareRequest.FromString,
            response_serializer=preference_pb2.CompareResponse.SerializeToString),
    })
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("%s:%d" % (args.host, args.port))
    server.start()
    print("python_rater: serving on %s:%d" % (args.host, port), file=sys.stderr, flush=True)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n0\n" % port)
        os.rename(tmp, args.port_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop(1).wait()


if __name__ == "__main__":
    main()
