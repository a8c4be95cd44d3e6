"""The committed generated code matches proto/xiangjiang.proto."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2

from proto import xiangjiang_pb2

PROTO_DIR = Path(__file__).resolve().parents[2] / "proto"


def _embedded_descriptor(py_source: str) -> descriptor_pb2.FileDescriptorProto:
    m = re.search(r"AddSerializedFile\((b'.*?')\)\n", py_source, re.S)
    assert m, "no serialized descriptor in generated code"
    return descriptor_pb2.FileDescriptorProto.FromString(ast.literal_eval(m.group(1)))


def test_generated_code_is_current(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"--python_out={tmp_path}",
            str(PROTO_DIR / "xiangjiang.proto"),
        ],
        check=True,
    )
    fresh = _embedded_descriptor((tmp_path / "xiangjiang_pb2.py").read_text())
    committed = _embedded_descriptor((PROTO_DIR / "xiangjiang_pb2.py").read_text())
    assert committed == fresh, "proto/xiangjiang_pb2.py is stale: run scripts/gen-proto and commit"
    # and the module actually imported is that code
    loaded = descriptor_pb2.FileDescriptorProto.FromString(xiangjiang_pb2.DESCRIPTOR.serialized_pb)
    assert loaded == committed


def test_pyi_lists_every_message() -> None:
    pyi = (PROTO_DIR / "xiangjiang_pb2.pyi").read_text()
    for name in xiangjiang_pb2.DESCRIPTOR.message_types_by_name:
        assert f"class {name}(" in pyi, f"{name} missing from xiangjiang_pb2.pyi: run scripts/gen-proto"
