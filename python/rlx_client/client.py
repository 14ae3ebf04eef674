"""The hand-written layer over the generated JobService stub.

connect() finds the learner (an address, or the topology file of an
`rlctl up` state folder, as rlctl does) and returns a Client whose methods
are JobService's RPCs (proto/job.proto) plus the evaluation curve:

    submit(job)    a job file (text-format or JSON JobSpec), a dict, or a JobSpec
    watch(name)    streams Watch; a one-line progress bar on stderr; the final JobStatus
    list()         every job's JobStatus
    get(name)      one job's JobStatus
    cancel(name)   stops a queued or running job
    curve(name)    the evaluator's eval_curve.csv as a list of dicts

Errors are RlxError subclasses with one-line messages: ConnectError (no
address, no topology), JobFileError (unreadable or malformed job), RpcError
(the learner's answer: its gRPC code and message), CurveError.
"""
import csv
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from typing import List, Optional

import grpc
from google.protobuf import json_format, text_format

try:
    from rlx_client.pb import job_pb2, job_pb2_grpc
except ImportError as e:  # a source checkout without the generated modules
    raise ImportError(
        "rlx_client.pb has no generated modules (%s): install the package, which generates "
        "them from proto/*.proto: /usr/bin/python3 -m venv --system-site-packages VENV && "
        "VENV/bin/pip install --no-index ./python (see docs/python.md)" % e) from e

DEFAULT_STATE_DIR = ".rlx"
DEFAULT_RPC_TIMEOUT_S = 10.0    # rlctl's deadline of a unary call
CLUSTER_LEARNER_PORT = 50052    # deploy/docker-compose.yml
FINAL_STATES = frozenset([job_pb2.JOB_SUCCEEDED, job_pb2.JOB_FAILED, job_pb2.JOB_CANCELLED])


class RlxError(Exception):
    """Base of the errors of rlx_client."""


class ConnectError(RlxError):
    """No address given and no usable topology, or a malformed address."""


class JobFileError(RlxError, ValueError):
    """A job file that cannot be read or parsed, or a dict that is not a JobSpec."""


class CurveError(RlxError):
    """No evaluation curve for the job, or one that cannot be read."""


class RpcError(RlxError):
    """The learner's error answer. code: a grpc.StatusCode; details: its message."""

    def __init__(self, message, code=None, details="", address=""):
        super().__init__(message)
        self.code = code
        self.details = details
        self.address = address


def state_name(state):
    """'RUNNING' for JOB_RUNNING (the name rlctl prints)."""
    name = job_pb2.JobState.Name(state)
    return name[len("JOB_"):] if name.startswith("JOB_") else name


def is_final(status_or_state):
    """Whether a JobStatus (or a JobState) is SUCCEEDED, FAILED or CANCELLED."""
    state = getattr(status_or_state, "state", status_or_state)
    return state in FINAL_STATES


# ---------------------------------------------------------------- topology

@dataclass
class ProcessRecord:
    """One process= line of topology.txt."""
    name: str
    pid: int            # -1 while none runs (backoff, exited)
    port: int           # gRPC port; 0 for actors
    metrics_port: int
    binary: str
    log: str
    restarts: int = 0
    state: str = "running"  # starting, running, backoff, exited, stopping, stopped
    last_exit: str = "-"    # -, exit:N, signal:N, timeout


@dataclass
class Topology:
    """<state_dir>/topology.txt as the supervisor of `rlctl up` writes it."""
    path: str
    supervisor: int = -1
    control_socket: str = ""
    learner_address: str = ""
    replay_address: str = ""
    out_dir: str = ""
    checkpoint_dir: str = ""
    processes: List[ProcessRecord] = field(default_factory=list)


def read_topology(state_dir=DEFAULT_STATE_DIR):
    """Parses <state_dir>/topology.txt. ConnectError when it is missing or malformed."""
    state_dir = os.fspath(state_dir)
    path = os.path.join(state_dir, "topology.txt")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        where = ("no state folder %s" % state_dir if not os.path.isdir(state_dir)
                 else "no topology file %s" % path)
        raise ConnectError(
            "%s: no running topology (start one with `rlctl up --state_dir=%s`, or pass "
            "address=HOST:PORT; a compose cluster's learner is HOST:%d)"
            % (where, state_dir, CLUSTER_LEARNER_PORT)) from None
    except OSError as e:
        raise ConnectError("cannot read topology file %s: %s" % (path, e.strerror)) from None
    t = Topology(path=os.path.abspath(path))
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")

        def bad(why):
            return ConnectError("%s:%d: bad line %r (%s)" % (path, number, raw, why))

        if not sep:
            raise bad("expected key=value")
        if key == "supervisor":
            try:
                t.supervisor = int(value)
            except ValueError:
                raise bad("supervisor is not a pid") from None
        elif key in ("control_socket", "learner_address", "replay_address", "out_dir",
                     "checkpoint_dir"):
            setattr(t, key, value)
        elif key == "process":
            f = value.split(" ")
            if len(f) not in (6, 9):
                raise bad("a process line has 6 or 9 fields, got %d" % len(f))
            try:
                p = ProcessRecord(name=f[0], pid=int(f[1]), port=int(f[2]),
                                  metrics_port=int(f[3]), binary=f[4], log=f[5])
                if len(f) == 9:
                    p.restarts, p.state, p.last_exit = int(f[6]), f[7], f[8]
            except ValueError:
                raise bad("PID, PORT, METRICS_PORT and RESTARTS are integers") from None
            t.processes.append(p)
        # Unknown keys are skipped (a newer rlctl may write more).
    return t


def _check_address(address):
    if not isinstance(address, str) or not address.strip():
        raise ConnectError("address must be a non-empty HOST:PORT string, got %r" % (address,))
    address = address.strip()
    if "://" in address or address.startswith(("unix:", "dns:", "ipv4:", "ipv6:")):
        return address  # a gRPC target URI: left to gRPC
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConnectError("address %r is not HOST:PORT (e.g. 127.0.0.1:%d)"
                           % (address, CLUSTER_LEARNER_PORT))
    return address


# ---------------------------------------------------------------- job files

def _parse_job_text(contents, origin):
    spec = job_pb2.JobSpec()
    if contents.lstrip().startswith("{"):
        try:
            json_format.Parse(contents, spec)
        except json_format.ParseError as e:
            raise JobFileError("malformed %s: job file (JSON): %s" % (origin, e)) from None
        return spec
    try:
        text_format.Parse(contents, spec)
    except text_format.ParseError as e:
        message = str(e)
        line, column = e.GetLine(), e.GetColumn()
        prefix = "%s:%s : " % (line, column)
        if line is not None and message.startswith(prefix):
            message = "line %d:%d: %s" % (line, column, message[len(prefix):])
        raise JobFileError("malformed %s: job file (text format): %s" % (origin, message)) from None
    return spec


def load_job(job):
    """A JobSpec from a job file path (text format, or JSON when the content
    starts with '{'; as `rlctl submit` reads it), a dict (JSON field names or
    proto field names), or a JobSpec (copied). JobFileError otherwise."""
    if isinstance(job, job_pb2.JobSpec):
        spec = job_pb2.JobSpec()
        spec.CopyFrom(job)
        return spec
    if isinstance(job, dict):
        spec = job_pb2.JobSpec()
        try:
            json_format.ParseDict(job, spec)
        except json_format.ParseError as e:
            raise JobFileError("invalid job dict: %s" % e) from None
        return spec
    if isinstance(job, (str, bytes, os.PathLike)):
        path = os.fsdecode(job)
        if os.path.isdir(path):
            raise JobFileError(
                "job file %s is a directory (give a text-format or JSON JobSpec file, e.g. "
                "jobs/cartpole_stream_ac.textproto)" % path)
        try:
            with open(path, encoding="utf-8") as f:
                contents = f.read()
        except OSError as e:
            raise JobFileError("cannot read job file %s: %s" % (path, e.strerror)) from None
        except UnicodeDecodeError as e:
            raise JobFileError("cannot read job file %s: not UTF-8 text (%s)" % (path, e)) from None
        if not contents.strip():
            raise JobFileError("job file %s is empty" % path)
        return _parse_job_text(contents, "job file %s" % path)
    raise JobFileError("a job is a job file path, a dict or a JobSpec, got %s"
                       % type(job).__name__)


# ---------------------------------------------------------------- progress

def _number(v, fmt="%.1f"):
    return fmt % v if v == v and v not in (float("inf"), float("-inf")) else "-"


def _progress_line(s, width=None):
    """'[#####-----]  50% name RUNNING | 3000/6000 steps (1200/s) | ...'"""
    total = s.spec.stop.max_env_steps
    fraction = None
    if s.state == job_pb2.JOB_SUCCEEDED:
        fraction = 1.0
    elif total > 0:
        fraction = min(1.0, s.env_steps / total)
    elif s.spec.stop.max_wall_seconds > 0 and s.started_unix > 0:
        end = s.finished_unix if s.finished_unix > 0 else time.time()
        fraction = min(1.0, max(0.0, (end - s.started_unix) / s.spec.stop.max_wall_seconds))
    steps = "%d/%d steps" % (s.env_steps, total) if total > 0 else "%d steps" % s.env_steps
    fields = [
        "%s %s" % (s.name, state_name(s.state)),
        "%s (%s/s)" % (steps, _number(s.env_steps_per_second, "%.0f")),
        "%d episodes" % s.episodes,
        "return %s" % _number(s.mean_return),
        "eval %s" % (_number(s.last_eval_return) if s.HasField("last_eval_return") else "-"),
        "v%d" % s.policy_version,
    ]
    line = " | ".join(fields)
    if fraction is not None:
        bar_width = 20
        done = int(round(fraction * bar_width))
        line = "[%s%s] %3d%% %s" % ("#" * done, "-" * (bar_width - done),
                                     int(fraction * 100), line)
    if width and len(line) > width:
        line = line[:max(0, width - 1)] + "~"
    return line


def _summary(s, curve_path):
    seconds = (s.finished_unix - s.started_unix
               if s.finished_unix > 0 and s.started_unix > 0 else float("nan"))
    lines = ["job %s %s%s" % (s.name, state_name(s.state), ": " + s.message if s.message else "")]
    summary = "  %d env steps in %s s, %d episodes" % (s.env_steps, _number(seconds), s.episodes)
    if s.HasField("best_eval_return"):
        summary += ", best eval %s" % _number(s.best_eval_return)
    if curve_path:
        summary += ", curve %s" % curve_path
    lines.append(summary)
    return "\n".join(lines)


# ---------------------------------------------------------------- client

def _numeric(value):
    if value is None:
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _read_file(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ConnectError("cannot read the %s %s: %s" % (what, path, e.strerror))


def _is_loopback(address):
    host = address.rsplit(":", 1)[0].strip("[]")
    if host in ("localhost", "::1"):
        return True
    parts = host.split(".")
    return (len(parts) == 4 and parts[0] == "127"
            and all(p.isdigit() and len(p) <= 3 for p in parts))


class _TokenInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds "authorization: Bearer TOKEN" to every call (plaintext loopback only;
    over TLS the token travels as gRPC call credentials)."""

    def __init__(self, token):
        self._header = ("authorization", "Bearer " + token)

    def _with_token(self, details):
        metadata = list(details.metadata or []) + [self._header]
        return details._replace(metadata=metadata) if hasattr(details, "_replace") else \
            _CallDetails(details.method, details.timeout, metadata, details.credentials,
                         getattr(details, "wait_for_ready", None),
                         getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready, compression):
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


def _make_channel(address, tls_ca, tls_cert, tls_key, tls_server_name, token_file):
    options = [("grpc.max_receive_message_length", -1)]
    token = None
    if token_file is not None:
        token = _read_file(token_file, "token file").decode("utf-8", "replace").strip()
        if len(token) < 16:
            raise ConnectError("the token file %s must hold a token of at least 16 characters"
                               % token_file)
    if (tls_cert is None) != (tls_key is None):
        raise ConnectError("tls_cert and tls_key go together")
    if tls_ca is not None:
        creds = grpc.ssl_channel_credentials(
            root_certificates=_read_file(tls_ca, "CA"),
            private_key=_read_file(tls_key, "private key") if tls_key else None,
            certificate_chain=_read_file(tls_cert, "certificate") if tls_cert else None)
        if token is not None:
            creds = grpc.composite_channel_credentials(
                creds, grpc.access_token_call_credentials(token))
        if tls_server_name:
            options.append(("grpc.ssl_target_name_override", tls_server_name))
        return grpc.secure_channel(address, creds, options=options)
    if tls_cert is not None or tls_server_name is not None:
        raise ConnectError("tls_cert, tls_key and tls_server_name need tls_ca")
    channel = grpc.insecure_channel(address, options=options)
    if token is not None:
        if not _is_loopback(address):
            raise ConnectError("a token is sent only over TLS or to a loopback address: "
                               "give tls_ca for %s" % address)
        channel = grpc.intercept_channel(channel, _TokenInterceptor(token))
    return channel


class Client:
    """A connection to one learner's JobService. Use connect() to make one.

    address: the learner's HOST:PORT. topology: the parsed topology.txt when
    the address came from an `rlctl up` state folder, else None. The tls_* and
    token_file arguments are rlctl's flags of the same names (connect()).
    """

    def __init__(self, address, topology=None, timeout=DEFAULT_RPC_TIMEOUT_S, tls_ca=None,
                 tls_cert=None, tls_key=None, tls_server_name=None, token_file=None):
        self.address = address
        self.topology = topology
        self.timeout = timeout
        self._channel = _make_channel(address, tls_ca, tls_cert, tls_key, tls_server_name,
                                      token_file)
        self._stub = job_pb2_grpc.JobServiceStub(self._channel)

    def __repr__(self):
        return "rlx_client.Client(%r)" % self.address

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._channel.close()

    def _error(self, e, what):
        code = e.code() if hasattr(e, "code") else None
        details = e.details() if hasattr(e, "details") else str(e)
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            message = "cannot reach the learner at %s: %s" % (self.address, details)
        else:
            message = "%s: %s%s" % (what, details,
                                    " (%s)" % code.name if code is not None else "")
        return RpcError(message, code=code, details=details, address=self.address)

    def _call(self, method, request, what):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as e:
            raise self._error(e, what) from None

    # -- JobService

    def submit(self, job):
        """Queues a job: a job file path (text-format or JSON JobSpec), a dict
        (json_format.ParseDict), or a JobSpec. Returns its JobStatus (.name).
        The learner validates it: RpcError INVALID_ARGUMENT names every bad
        field; ALREADY_EXISTS for a name in use."""
        spec = load_job(job)
        return self._call(self._stub.Submit, job_pb2.SubmitJobRequest(spec=spec),
                          "submitting job %s" % (spec.name or "(no name)"))

    def get(self, name):
        """The job's JobStatus (RpcError NOT_FOUND for an unknown name)."""
        return self._call(self._stub.Get, job_pb2.GetJobRequest(name=name), "job %s" % name)

    def list(self):
        """Every job the learner knows (queued, running, finished), as JobStatus messages."""
        return list(self._call(self._stub.List, job_pb2.ListJobsRequest(), "listing jobs").jobs)

    def cancel(self, name):
        """Stops a queued or running job (its checkpoint and curve are kept);
        returns its JobStatus."""
        return self._call(self._stub.Cancel, job_pb2.CancelJobRequest(name=name),
                          "cancelling job %s" % name)

    def watch(self, name, progress=True, interval_ms=None, file=None):
        """Follows the job until it ends and returns its final JobStatus.

        progress: a one-line progress bar on `file` (default sys.stderr),
        redrawn in place on a terminal, one line per update otherwise, then a
        two-line summary as `rlctl watch` prints it. interval_ms: between
        updates (default 500 on a terminal or without progress, 5000 for
        progress into a file or pipe, as rlctl). The stream has no deadline;
        Ctrl-C stops watching (the job goes on) and raises KeyboardInterrupt.
        RpcError when the learner cannot be reached or does not know the job;
        RlxError when the stream ends before the job does (e.g. the learner
        restarted: watch again)."""
        out = file if file is not None else sys.stderr
        tty = bool(progress) and hasattr(out, "isatty") and out.isatty()
        if interval_ms is None:
            interval_ms = 5000 if progress and not tty else 500
        request = job_pb2.WatchJobRequest(name=name, interval_ms=int(interval_ms))
        width = shutil.get_terminal_size((100, 20)).columns - 1 if tty else None
        shown = None
        last = None

        def show(s, only_if_changed=False):
            nonlocal shown
            if not progress:
                return
            line = _progress_line(s, width)
            if only_if_changed and line == shown:
                return
            if tty:
                out.write("\r\x1b[K" + line)
            else:
                out.write(line + "\n")
            out.flush()
            shown = line

        call = self._stub.Watch(request)
        try:
            for status in call:
                last = status
                show(status)
        except grpc.RpcError as e:
            if tty and shown is not None:
                out.write("\n")
            raise self._error(e, "watching job %s" % name) from None
        except KeyboardInterrupt:
            call.cancel()
            if tty and shown is not None:
                out.write("\n")
            raise
        if last is None:
            raise RlxError("no status received for job %s" % name)
        if not is_final(last):
            if tty:
                out.write("\n")
            raise RlxError("the status stream of %s ended while it was %s (watch again)"
                           % (name, state_name(last.state)))
        # The last streamed status can predate the last evaluation report.
        try:
            fresh = self.get(name)
            if is_final(fresh):
                last = fresh
                show(last, only_if_changed=True)
        except RpcError:
            pass
        if progress:
            if tty:
                out.write("\n")
            out.write(_summary(last, self._curve_path(last)) + "\n")
            out.flush()
        return last

    # -- the evaluation curve

    def _curve_path(self, status):
        """As rlctl: JobStatus.curve_path (the evaluator's absolute path, set by
        its first report), else <out_dir>/<name>/eval_curve.csv of the local
        topology when that file exists; "" when neither."""
        if status.curve_path:
            return status.curve_path
        if self.topology is not None and self.topology.out_dir:
            local = os.path.join(self.topology.out_dir, status.name, "eval_curve.csv")
            if os.path.isfile(local):
                return local
        return ""

    def curve_path(self, name):
        """Where the job's evaluation curve is ("" when not known yet)."""
        return self._curve_path(self.get(name))

    def curve(self, name):
        """The job's evaluation curve (the evaluator's eval_curve.csv) as a list
        of dicts, one per evaluation, numbers converted: learner_step,
        policy_version, mean_return, min, max, episodes. [] while the file has
        only its header. CurveError when there is no curve yet or it cannot be
        read (the evaluator writes it on its own machine: with a cluster, read
        it there)."""
        status = self.get(name)
        path = self._curve_path(status)
        if not path:
            every = status.spec.eval.every_learner_steps
            why = ("the job asks for no evaluation (eval.every_learner_steps is 0)" if every <= 0
                   else "no evaluation has been reported yet (one every %d learner steps; "
                        "the job is %s at %d env steps)"
                        % (every, state_name(status.state), status.env_steps))
            raise CurveError("job %s has no evaluation curve: %s" % (name, why))
        try:
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                rows = [{k: _numeric(v) for k, v in row.items() if k is not None}
                        for row in reader]
                fields = reader.fieldnames
        except OSError as e:
            hint = ("" if self.topology is not None else
                    " (the evaluator writes it on its own machine: with a cluster, read it there)")
            raise CurveError("cannot read the evaluation curve of job %s at %s: %s%s"
                             % (name, path, e.strerror, hint)) from None
        if fields is not None and "learner_step" not in fields:
            raise CurveError("%s is not an evaluation curve (header %s)" % (path, ",".join(fields)))
        return rows


def connect(address=None, state_dir=None, timeout=DEFAULT_RPC_TIMEOUT_S, tls_ca=None,
            tls_cert=None, tls_key=None, tls_server_name=None, token_file=None):
    """A Client of a learner's JobService.

    address: the learner's HOST:PORT (a cluster's is HOST:50052). Without
    it, the learner of the `rlctl up` topology in state_dir (default .rlx, as
    rlctl): its <state_dir>/topology.txt, key learner_address. An address,
    when given, wins and state_dir is not read (as rlctl's --address).
    timeout: seconds allowed to each unary call (Watch has none).
    ConnectError without an address and a running topology, or for an
    address that is not HOST:PORT. The channel connects lazily: an
    unreachable learner shows as RpcError (UNAVAILABLE) on the first call.
    Security (docs/deploy.md, "Certificates and tokens"): tls_ca (PEM CA of
    the learner's certificate) turns TLS on; tls_cert/tls_key is the client
    certificate for mutual TLS; tls_server_name the name to check instead of
    the address's host; token_file the role token, sent over TLS or, without
    tls_ca, only to a loopback address. ConnectError for unreadable files.
    """
    security = dict(tls_ca=tls_ca, tls_cert=tls_cert, tls_key=tls_key,
                    tls_server_name=tls_server_name, token_file=token_file)
    if address is not None:
        return Client(_check_address(address), None, timeout, **security)
    topology = read_topology(DEFAULT_STATE_DIR if state_dir is None else state_dir)
    if not topology.learner_address:
        raise ConnectError("topology file %s has no learner_address (the topology is still "
                           "starting, or it is not a file of `rlctl up`)" % topology.path)
    return Client(_check_address(topology.learner_address), topology, timeout, **security)
