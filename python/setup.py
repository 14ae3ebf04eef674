"""rlx_client: a Python client of the rlx learner's JobService.

Installs offline on Debian bookworm's python3-grpcio and python3-protobuf:

    /usr/bin/python3 -m venv --system-site-packages /tmp/v
    /tmp/v/bin/pip install --no-index ./python

There is deliberately no pyproject.toml: with one that declares a build
system, pip 23.0 builds in an isolated environment and downloads setuptools.
With a plain setup.py it uses the setuptools and wheel it can import (the
venv's own, python3-wheel through the system site packages).

The message and service modules (rlx_client/pb/*_pb2.py, *_pb2_grpc.py) are
generated while building, from the project's proto/*.proto (../proto next to
this folder, or $RLX_PROTO_DIR), with `protoc --python_out` and Debian's
grpc_python_plugin (package protobuf-compiler-grpc). They are not committed.
Each .proto is copied into a temporary tree as rlx_client/pb/NAME.proto with
`import "proto/` rewritten to `import "rlx_client/pb/`, so the generated
imports read `from rlx_client.pb import job_pb2` (the package name `proto`
would clash with the PyPI package of that name).
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from setuptools import setup
from setuptools.command.build_py import build_py as _build_py
from setuptools.command.develop import develop as _develop

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_PATH = os.path.join("rlx_client", "pb")  # also the .proto path prefix
IMPORT_RE = re.compile(r'(\bimport\s+(?:public\s+|weak\s+)?")proto/')


class GenerationError(RuntimeError):
    pass


def _find_proto_dir():
    configured = os.environ.get("RLX_PROTO_DIR")
    candidates = [configured] if configured else [os.path.join(HERE, "..", "proto")]
    for d in candidates:
        if d and glob.glob(os.path.join(d, "*.proto")):
            return os.path.abspath(d)
    raise GenerationError(
        "rlx_client: no .proto files in %s; build from a checkout of the rlx repository "
        "(pip install ./python from its root, which keeps ../proto reachable), or set "
        "RLX_PROTO_DIR to its proto/ folder" % (candidates[0],))


def _find_tool(env_name, names, package):
    configured = os.environ.get(env_name)
    if configured:
        if os.access(configured, os.X_OK):
            return configured
        raise GenerationError("rlx_client: %s=%s is not an executable" % (env_name, configured))
    for name in names:
        found = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if found:
            return found
    raise GenerationError(
        "rlx_client: %s not found (install the Debian package %s, e.g. with "
        "scripts/install-deps.sh, or set %s)" % (names[-1], package, env_name))


def generate(out_dir):
    """Writes the generated modules of every ../proto/*.proto into out_dir."""
    proto_dir = _find_proto_dir()
    protoc = _find_tool("PROTOC", ["protoc"], "protobuf-compiler")
    plugin = _find_tool("GRPC_PYTHON_PLUGIN",
                        ["/usr/bin/grpc_python_plugin", "grpc_python_plugin"],
                        "protobuf-compiler-grpc")
    protos = sorted(glob.glob(os.path.join(proto_dir, "*.proto")))
    with tempfile.TemporaryDirectory(prefix="rlx_client_gen_") as tmp:
        src = os.path.join(tmp, "src")
        gen = os.path.join(tmp, "gen")
        os.makedirs(os.path.join(src, PACKAGE_PATH))
        os.makedirs(gen)
        rel = []
        for path in protos:
            with open(path, encoding="utf-8") as f:
                text = IMPORT_RE.sub(r"\1rlx_client/pb/", f.read())
            name = os.path.join(PACKAGE_PATH, os.path.basename(path))
            with open(os.path.join(src, name), "w", encoding="utf-8") as f:
                f.write(text)
            rel.append(name)
        cmd = [protoc, "-I", src, "--python_out=" + gen, "--pyi_out=" + gen,
               "--grpc_python_out=" + gen, "--plugin=protoc-gen-grpc_python=" + plugin] + rel
        result = subprocess.run(cmd, cwd=src, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True)
        if result.returncode != 0:
            raise GenerationError("rlx_client: protoc failed (%s):\n%s"
                                  % (" ".join(cmd), result.stdout))
        os.makedirs(out_dir, exist_ok=True)
        written = []
        for path in sorted(glob.glob(os.path.join(gen, PACKAGE_PATH, "*"))):
            shutil.copy(path, os.path.join(out_dir, os.path.basename(path)))
            written.append(os.path.basename(path))
    print("rlx_client: generated %s in %s from %s"
          % (", ".join(w for w in written if w.endswith(".py")), out_dir, proto_dir))
    return written


class build_py(_build_py):
    """The usual build, plus the generated modules in the build tree."""

    def run(self):
        super().run()
        try:
            generate(os.path.join(self.build_lib, PACKAGE_PATH))
        except GenerationError as e:
            sys.exit(str(e))


class develop(_develop):
    """Editable installs (pip install -e): generate into the source tree
    (the generated files are git-ignored)."""

    def run(self):
        try:
            generate(os.path.join(HERE, PACKAGE_PATH))
        except GenerationError as e:
            sys.exit(str(e))
        super().run()


setup(
    name="rlx_client",
    version="0.1.0",
    description="Python client of the rlx learner's JobService (submit, watch, list, "
                "get, cancel jobs; read evaluation curves)",
    packages=["rlx_client", "rlx_client.pb"],
    python_requires=">=3.9",
    # Debian bookworm: python3-grpcio 1.51, python3-protobuf 4.21 (protoc 3.21).
    install_requires=["grpcio>=1.46", "protobuf>=3.20"],
    cmdclass={"build_py": build_py, "develop": develop},
)
