"""A protoc plugin that runs grpcio-tools' bundled compiler, for `buf generate`.

buf hands a plugin a CodeGeneratorRequest; this plugin writes the request's descriptors to a
file, runs `grpc_tools.protoc --descriptor_set_in=... --<name>_out=...` for each generator named
on its command line (python, pyi, grpc_python) and returns what it wrote. Generating with the
compiler that ships with grpcio-tools keeps the stubs in step with the pinned runtime versions
and needs no protoc binary on the machine.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc


def main() -> int:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        descriptors = root / "descriptors.binpb"
        descriptors.write_bytes(
            descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString()
        )
        out = root / "out"
        out.mkdir()
        args = ["protoc", f"--descriptor_set_in={descriptors}"]
        args += [f"--{name}_out={out}" for name in sys.argv[1:]]
        if protoc.main([*args, *request.file_to_generate]) != 0:
            response.error = f"grpc_tools.protoc failed for {list(request.file_to_generate)}"
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            response.file.add(name=str(path.relative_to(out)), content=path.read_text())
    sys.stdout.buffer.write(response.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
