#!/usr/bin/env python3
"""Build a protobuf FileDescriptorSet from the *_pb2.py modules of installed packages.

Used by scripts/generate-protos.sh; not run by CI.

Every protoc-generated *_pb2.py module embeds the exact serialized
FileDescriptorProto of its .proto file: as `AddSerializedFile(b'...')` in modern
modules, or as `serialized_pb=_b('...')` in ones made by an old protoc (such as
the Jaeger modules of opentelemetry-exporter-jaeger-proto-grpc 1.21.0). This
script reads that literal from the module's syntax tree without importing the
module, so old and new modules work under any protobuf runtime.

Dependencies that no module under the given roots provides and whose names start
with `google/protobuf/` (the well-known types, descriptor.proto) are taken from
the installed `protobuf` package itself.

Usage:
  collect_descriptors.py --root DIR [--root DIR ...] --out SET.pb PROTO [PROTO ...]

PROTO is a file's proto path as recorded in its descriptor (for example
`opentelemetry/proto/collector/trace/v1/trace_service.proto`). The set holds
those files and everything they import, dependencies first. It is checked by
loading it into a fresh DescriptorPool.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool


def _literal_bytes(node: ast.AST) -> bytes | None:
    """Return the bytes of b'...' or _b('...') (latin-1 encoded str), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        return node.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_b"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value.encode("latin1")
    return None


def serialized_file_descriptor(path: Path) -> bytes | None:
    """Find the serialized FileDescriptorProto embedded in a *_pb2.py module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        # Modern: descriptor_pool.Default().AddSerializedFile(b'...')
        if name == "AddSerializedFile" and node.args:
            data = _literal_bytes(node.args[0])
            if data is not None:
                return data
        # Old protoc: _descriptor.FileDescriptor(name=..., serialized_pb=_b('...'))
        if name == "FileDescriptor":
            for kw in node.keywords:
                if kw.arg == "serialized_pb":
                    data = _literal_bytes(kw.value)
                    if data is not None:
                        return data
    return None


def index_roots(roots: list[Path]) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    raw: dict[str, bytes] = {}
    for root in roots:
        if not root.is_dir():
            sys.exit(f"collect_descriptors: no such directory: {root}")
        for module in sorted(root.rglob("*_pb2.py")):
            data = serialized_file_descriptor(module)
            if data is None:
                print(f"collect_descriptors: warning: no descriptor in {module}", file=sys.stderr)
                continue
            fdp = descriptor_pb2.FileDescriptorProto.FromString(data)
            if fdp.name in raw and raw[fdp.name] != data:
                sys.exit(f"collect_descriptors: two different descriptors named {fdp.name!r}")
            raw[fdp.name] = data
            files[fdp.name] = fdp
    return files


def well_known(name: str) -> descriptor_pb2.FileDescriptorProto | None:
    """google/protobuf/X.proto from the installed protobuf package."""
    if not name.startswith("google/protobuf/") or not name.endswith(".proto"):
        return None
    module_name = name[: -len(".proto")].replace("/", ".") + "_pb2"
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    fdp = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(fdp)
    if fdp.name != name:
        return None
    return fdp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", action="append", type=Path, required=True, help="directory searched for *_pb2.py")
    parser.add_argument("--out", type=Path, required=True, help="FileDescriptorSet to write")
    parser.add_argument("protos", nargs="+", help="proto paths of the files to include")
    args = parser.parse_args()

    available = index_roots(args.root)
    ordered: list[descriptor_pb2.FileDescriptorProto] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(name: str, wanted_by: str | None) -> None:
        if name in done:
            return
        if name in visiting:
            sys.exit(f"collect_descriptors: import cycle through {name!r}")
        fdp = available.get(name) or well_known(name)
        if fdp is None:
            where = f" (imported by {wanted_by})" if wanted_by else ""
            known = "\n  ".join(sorted(available))
            sys.exit(f"collect_descriptors: no descriptor for {name!r}{where}; found:\n  {known}")
        visiting.add(name)
        for dep in fdp.dependency:
            visit(dep, name)
        visiting.discard(name)
        done.add(name)
        ordered.append(fdp)

    for proto in args.protos:
        visit(proto, None)

    # Check: the set must load, dependencies first, into an empty pool.
    pool = descriptor_pool.DescriptorPool()
    for fdp in ordered:
        pool.Add(fdp)
    for proto in args.protos:
        pool.FindFileByName(proto)

    out = descriptor_pb2.FileDescriptorSet(file=ordered)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(out.SerializeToString())
    for fdp in ordered:
        mark = "*" if fdp.name in args.protos else " "
        services = ", ".join(s.name for s in fdp.service)
        extra = f"  services: {services}" if services else ""
        print(f"  {mark} {fdp.name}  (package {fdp.package or '-'}){extra}")


if __name__ == "__main__":
    main()
