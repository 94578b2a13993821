"""Jaeger seeds from the OpenTelemetry Jaeger exporters 1.21 (.venv-jaeger): Thrift binary batches as the
collector HTTP client sends them, and protobuf PostSpansRequests as the gRPC client sends them."""
import os
import sys

from thrift.protocol import TBinaryProtocol
from thrift.transport import TTransport
from opentelemetry.exporter.jaeger.thrift import JaegerExporter as ThriftExporter
from opentelemetry.exporter.jaeger.proto.grpc import JaegerExporter as GRPCExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Link

out = sys.argv[1]


def write(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


memory = InMemorySpanExporter()
provider = TracerProvider(resource=Resource.create({"service.name": "projects", "host.name": "fuzz"}))
provider.add_span_processor(SimpleSpanProcessor(memory))
tracer = provider.get_tracer("cf_core.services.projects")
with tracer.start_as_current_span("POST /projects/create_with_tasks", kind=SpanKind.SERVER, attributes={"http.method": "POST", "http.status_code": 201, "ratio": 0.25, "ok": True}) as parent:
    parent.add_event("validated", {"fields": 3})
    with tracer.start_as_current_span("POST /tasks", kind=SpanKind.CLIENT, links=[Link(parent.get_span_context())]) as child:
        child.set_status(Status(StatusCode.ERROR, "timeout"))
spans = memory.get_finished_spans()


class CapturingCollector:
    """Stands in for the exporter's HTTP collector client: keeps the Thrift bytes it would POST."""

    def __init__(self):
        self.bodies = []

    def submit(self, batch):
        buffer = TTransport.TMemoryBuffer()
        batch.write(TBinaryProtocol.TBinaryProtocol(buffer))
        self.bodies.append(buffer.getvalue())


collector = CapturingCollector()
thrift = ThriftExporter(collector_endpoint="http://127.0.0.1:1/api/traces")
thrift._collector = collector
type(thrift)._collector_http_client = property(lambda self: self._collector)
thrift.export(spans)
thrift.export(spans[:1])
thrift.export(spans[1:])
for index, body in enumerate(collector.bodies):
    write("jaeger-thrift", f"python-exporter-{index}.thrift", body)


class CapturingStub:
    def __init__(self):
        self.requests = []

    def PostSpans(self, request, timeout=None):
        self.requests.append(request.SerializeToString())


stub = CapturingStub()
grpc = GRPCExporter(collector_endpoint="127.0.0.1:1", insecure=True)
grpc._grpc_client = stub
type(grpc)._collector_grpc_client = property(lambda self: self._grpc_client)
grpc.export(spans)
grpc.export(spans[1:])
for index, body in enumerate(stub.requests):
    write("jaeger-proto", f"python-exporter-{index}.pb", body)
write("jaeger-proto", "empty.pb", b"")
