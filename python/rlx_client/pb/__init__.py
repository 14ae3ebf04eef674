"""Message and service modules generated from the rlx repository's proto/*.proto.

They are written here while the package is built (setup.py runs protoc with
Debian's grpc_python_plugin) and are not part of the repository: import them
from an installed rlx_client (`pip install ./python`), e.g.

    from rlx_client.pb import job_pb2, job_pb2_grpc

Modules: job_pb2 (+ job_pb2_grpc: JobServiceStub), learner_pb2, replay_pb2,
preference_pb2, tensor_pb2 (each with its *_pb2_grpc), health_pb2 (the
grpc.health.v1 messages: importing it in a process that also imports the
grpcio-health-checking package registers the same symbols twice).
"""
