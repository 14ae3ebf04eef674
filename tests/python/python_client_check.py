"""The checks of python_client_test.sh, run by the venv's python against a
running `rlctl up` topology (--state_dir). Exits non-zero on the first
failed check."""
import argparse
import numbers
import os
import sys
import time

from google.protobuf import text_format

import rlx_client
from rlx_client import job_pb2


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok: %s" % what, flush=True)


def raises(kind, fn, what, contains=""):
    try:
        fn()
    except kind as e:
        check(contains in str(e), "%s: %s(%s)" % (what, kind.__name__, e))
        return e
    raise AssertionError("%s: no %s raised" % (what, kind.__name__))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--state_dir", required=True)
    p.add_argument("--jobs_dir", required=True)
    p.add_argument("--venv", required=True)
    p.add_argument("--work", required=True)
    # A learner with TLS and tokens, and the secrets of deploy/make-secrets.sh.
    p.add_argument("--secure_learner", default="")
    p.add_argument("--pki", default="")
    a = p.parse_args()

    check(os.path.realpath(rlx_client.__file__).startswith(os.path.realpath(a.venv)),
          "rlx_client comes from the venv (%s)" % rlx_client.__file__)

    # Bad input: clear errors before any RPC.
    raises(rlx_client.ConnectError,
           lambda: rlx_client.connect(state_dir=os.path.join(a.work, "no_such_state")),
           "connect to a state folder without a topology", "rlctl up")
    raises(rlx_client.ConnectError, lambda: rlx_client.connect(address="127.0.0.1"),
           "connect to an address without a port", "HOST:PORT")
    bad = os.path.join(a.work, "bad.textproto")
    with open(bad, "w") as f:
        f.write('name: "x"\nnot_a_field: 1\n')
    raises(rlx_client.JobFileError, lambda: rlx_client.load_job(bad), "a malformed job file",
           "line 2:1")
    raises(rlx_client.JobFileError, lambda: rlx_client.load_job(os.path.join(a.work, "none")),
           "a missing job file", "cannot read job file")

    client = rlx_client.connect(state_dir=a.state_dir)
    check(client.address.startswith("127.0.0.1:"), "the learner is on 127.0.0.1 (%s)"
          % client.address)

    # A job file: the shipped CartPole Stream AC job, made short.
    spec = rlx_client.load_job(os.path.join(a.jobs_dir, "cartpole_stream_ac.textproto"))
    spec.name = "python_client_test"
    spec.num_actors = 1
    # It ends at its first evaluation (every CartPole return is >= 1), so it
    # cannot finish before the evaluator, polling for a lease every 2 s at
    # most while no job runs, has held it: the curve has a row whatever the
    # machine's speed. (A 15,000-step stop raced the evaluator: the job took
    # 1.5 s on a busy machine and no evaluation was made.) The step limit is
    # only a backstop.
    spec.stop.max_env_steps = 2000000
    spec.stop.target_eval_return = 1.0
    spec.eval.every_learner_steps = 1000
    spec.eval.episodes = 3
    job_file = os.path.join(a.work, "short.textproto")
    with open(job_file, "w") as f:
        f.write(text_format.MessageToString(spec))

    # A dict the learner rejects: INVALID_ARGUMENT naming the field.
    e = raises(rlx_client.RpcError,
               lambda: client.submit({"name": "bad_job", "algorithm": "stream_ac",
                                      "env": "CartPole-v1", "num_actors": -2,
                                      "stop": {"max_env_steps": 100}}),
               "an invalid job dict", "num_actors")
    check(e.code.name == "INVALID_ARGUMENT", "its code is INVALID_ARGUMENT")

    submitted = client.submit(job_file)
    check(submitted.name == "python_client_test", "submitted %s" % submitted.name)
    started = time.time()
    final = client.watch(submitted.name, progress=True, interval_ms=500)
    check(rlx_client.is_final(final), "watch returned a final state (%s: %s) after %.1f s"
          % (rlx_client.state_name(final.state), final.message, time.time() - started))
    check(final.state == job_pb2.JOB_SUCCEEDED, "the job SUCCEEDED")
    check("target" in final.message, "it stopped at its evaluation target (%s)" % final.message)
    check(1000 <= final.env_steps < 2000000, "it learned %d env steps" % final.env_steps)
    check(client.get(submitted.name).state == job_pb2.JOB_SUCCEEDED, "get agrees")
    check(submitted.name in [s.name for s in client.list()], "list has the job")

    # The curve: the evaluator appends a row just after its report.
    rows, deadline, last_error = [], time.time() + 30, None
    while time.time() < deadline:
        try:
            rows = client.curve(submitted.name)
        except rlx_client.CurveError as err:
            last_error = err
        if rows:
            break
        time.sleep(0.5)
    check(len(rows) >= 1, "curve() has %d row(s) (last error: %s)" % (len(rows), last_error))
    for row in rows:
        for key in ("learner_step", "policy_version", "mean_return", "min", "max", "episodes"):
            check(isinstance(row.get(key), numbers.Real), "row %s: %s is a number (%r)"
                  % (row.get("learner_step"), key, row.get(key)))
    check(rows[0]["episodes"] == 3, "3 episodes per evaluation")
    print("curve: %s" % rows, flush=True)

    # Cancel: a long job, cancelled while queued or running.
    long_job = {"name": "python_client_cancel", "algorithm": "stream_ac",
                "env": "CartPole-v1", "num_actors": 1, "stop": {"max_env_steps": 1000000}}
    client.submit(long_job)
    cancelled = client.cancel("python_client_cancel")
    check(cancelled.state == job_pb2.JOB_CANCELLED, "cancel: %s (%s)"
          % (rlx_client.state_name(cancelled.state), cancelled.message))
    check(client.watch("python_client_cancel", progress=False).state == job_pb2.JOB_CANCELLED,
          "watch of the cancelled job returns CANCELLED")
    try:  # the learner answers with the final status (or FAILED_PRECONDITION)
        after = client.cancel(submitted.name).state
    except rlx_client.RpcError as err:
        after = job_pb2.JOB_SUCCEEDED if err.code.name == "FAILED_PRECONDITION" else err
    check(after == job_pb2.JOB_SUCCEEDED, "cancelling the finished job leaves it SUCCEEDED")
    e = raises(rlx_client.RpcError, lambda: client.get("no_such_job"), "get of an unknown job")
    check(e.code.name == "NOT_FOUND", "its code is NOT_FOUND")
    client.close()
    if a.secure_learner:
        secure_checks(a.secure_learner, a.pki)
    return 0


def secure_checks(address, pki):
    def path(name):
        return os.path.join(pki, name)
    reader = rlx_client.connect(address=address, tls_ca=path("ca.pem"),
                                token_file=path("reader.token"))
    check(isinstance(reader.list(), list), "list over TLS with the reader token")
    e = raises(rlx_client.RpcError, lambda: reader.cancel("no_such_job"),
               "cancel with the reader token", "needs the operator role")
    check(e.code.name == "PERMISSION_DENIED", "its code is PERMISSION_DENIED")
    reader.close()
    anonymous = rlx_client.connect(address=address, tls_ca=path("ca.pem"))
    e = raises(rlx_client.RpcError, anonymous.list, "list over TLS without a token")
    check(e.code.name == "UNAUTHENTICATED", "its code is UNAUTHENTICATED")
    anonymous.close()
    plain = rlx_client.connect(address=address, token_file=path("reader.token"), timeout=3)
    e = raises(rlx_client.RpcError, plain.list, "list in plaintext from a TLS learner")
    check(e.code.name == "UNAVAILABLE", "its code is UNAVAILABLE")
    plain.close()
    raises(rlx_client.ConnectError,
           lambda: rlx_client.connect(address="10.0.0.1:50052", token_file=path("reader.token")),
           "a token in plaintext to a remote address", "only over TLS")
    raises(rlx_client.ConnectError,
           lambda: rlx_client.connect(address=address, tls_ca=path("missing.pem")),
           "a missing CA file", "cannot read the CA")


if __name__ == "__main__":
    sys.exit(main())
