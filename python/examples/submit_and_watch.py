#!/usr/bin/env python3
"""Submits a job to an rlx learner, watches it to its end and prints its
evaluation curve.

    build/bin/rlctl up --actors=2
    VENV/bin/python python/examples/submit_and_watch.py jobs/cartpole_stream_ac.textproto
    build/bin/rlctl down

Without a job file it submits a short CartPole Stream AC(lambda) job given as
a dict. --address=HOST:PORT talks to a cluster's learner instead of the
topology of --state_dir (default .rlx). Exit status 0 when the job
SUCCEEDED, 1 otherwise (2 for a usage error). Install the client first:
docs/python.md.
"""
import argparse
import sys
import time

import rlx_client

SHORT_JOB = {
    "name": "python_example",
    "algorithm": "stream_ac",
    "env": "CartPole-v1",
    "num_actors": 1,
    "seed": 1,
    "stop": {"max_env_steps": 5000},
    "eval": {"every_learner_steps": 1000, "episodes": 3, "seed": 1001},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", nargs="?",
                        help="job file (text-format or JSON JobSpec); default: a short "
                             "CartPole job named %s" % SHORT_JOB["name"])
    parser.add_argument("--address", help="the learner's HOST:PORT (a cluster's: HOST:50052)")
    parser.add_argument("--state_dir", help="the `rlctl up` state folder (default .rlx)")
    parser.add_argument("--name", help="submit under this name instead of the job's own")
    args = parser.parse_args()

    try:
        spec = rlx_client.load_job(args.job if args.job else SHORT_JOB)
        if args.name:
            spec.name = args.name
        with rlx_client.connect(address=args.address, state_dir=args.state_dir) as client:
            submitted = client.submit(spec)
            print("submitted %s to %s" % (submitted.name, client.address))
            final = client.watch(submitted.name)
            rows, last_error = [], "the curve has no rows yet"
            # The evaluator appends its last row just after reporting it.
            for _ in range(10):
                try:
                    rows = client.curve(submitted.name)
                except rlx_client.CurveError as e:
                    last_error = e
                else:
                    if rows or not final.spec.eval.every_learner_steps:
                        break
                time.sleep(0.5)
            if rows:
                print("%12s %10s %10s %10s" % ("learner_step", "mean", "min", "max"))
                for r in rows:
                    print("%12d %10.1f %10.1f %10.1f"
                          % (r["learner_step"], r["mean_return"], r["min"], r["max"]))
            elif final.spec.eval.every_learner_steps:
                print("no evaluation curve: %s" % last_error, file=sys.stderr)
            return 0 if final.state == rlx_client.job_pb2.JOB_SUCCEEDED else 1
    except rlx_client.RlxError as e:
        print("submit_and_watch: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("submit_and_watch: interrupted (the job goes on; rlctl cancel NAME stops it)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
