"""rlx_client: submit, watch and inspect rlx jobs from Python.

    import rlx_client
    client = rlx_client.connect(state_dir=".rlx")      # or address="HOST:50052"
    status = client.submit("jobs/cartpole_stream_ac.textproto")
    final = client.watch(status.name)                   # progress line on stderr
    rows = client.curve(status.name)                    # the evaluation curve

See docs/python.md in the rlx repository.
"""
from rlx_client.client import (  # noqa: F401
    FINAL_STATES,
    Client,
    ConnectError,
    CurveError,
    JobFileError,
    ProcessRecord,
    RlxError,
    RpcError,
    Topology,
    connect,
    is_final,
    load_job,
    read_topology,
    state_name,
)
from rlx_client.client import job_pb2  # noqa: F401  (JobSpec, JobStatus, JobState, ...)

__version__ = "0.1.0"

__all__ = [
    "FINAL_STATES", "Client", "ConnectError", "CurveError", "JobFileError", "ProcessRecord",
    "RlxError", "RpcError", "Topology", "connect", "is_final", "job_pb2", "load_job",
    "read_topology", "state_name",
]
