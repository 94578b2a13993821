"""Export three spans of one trace with the real OpenTelemetry Jaeger exporters (1.21.0).

Run with .venv-jaeger's python (scripts/install-test-deps.sh). The trace id is given, span ids count up
from --first-span-id, so the calling test knows every id. Prints one JSON line with the ids it used;
exits 1 when the exporter reports a failure.

    jaeger_export.py --protocol grpc --endpoint 127.0.0.1:14250 --trace-id 0af7651916cd43dd8448eb211c80319c
    jaeger_export.py --protocol thrift --endpoint 127.0.0.1:14268 ...
"""

import argparse
import json
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, set_span_in_context


class FixedIds(IdGenerator):
    def __init__(self, trace_id: int, first_span_id: int):
        self.trace_id = trace_id
        self.next_span_id = first_span_id

    def generate_trace_id(self) -> int:
        return self.trace_id

    def generate_span_id(self) -> int:
        span_id = self.next_span_id
        self.next_span_id += 1
        return span_id


def exporter_for(protocol: str, endpoint: str):
    if protocol == "grpc":
        from opentelemetry.exporter.jaeger.proto.grpc import JaegerExporter

        return JaegerExporter(collector_endpoint=endpoint, insecure=True, timeout=10)
    from opentelemetry.exporter.jaeger.thrift import JaegerExporter

    return JaegerExporter(collector_endpoint=f"http://{endpoint}/api/traces", timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocol", choices=["grpc", "thrift"], required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--trace-id", required=True)
    parser.add_argument("--first-span-id", default="1000000000000001")
    parser.add_argument("--service", default="checkout")
    args = parser.parse_args()

    exporter = exporter_for(args.protocol, args.endpoint)
    failures = []
    original_export = exporter.export

    def recording_export(spans):
        result = original_export(spans)
        if result is not SpanExportResult.SUCCESS:
            failures.append(result)
        return result

    exporter.export = recording_export
    resource = Resource.create({"service.name": args.service, "deployment.environment": "interop", "host.cores": 2})
    provider = TracerProvider(resource=resource, id_generator=FixedIds(int(args.trace_id, 16), int(args.first_span_id, 16)))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("interop.jaeger", "1.2.3")

    root = tracer.start_span(
        "GET /checkout",
        kind=SpanKind.SERVER,
        attributes={"http.method": "GET", "http.status_code": 200, "sample.ratio": 0.25, "cache.hit": False},
    )
    root_context = set_span_in_context(root)
    query = tracer.start_span("SELECT orders", context=root_context, kind=SpanKind.CLIENT, attributes={"db.system": "postgresql"})
    query.add_event("retry", {"attempt": 2})
    query.set_status(Status(StatusCode.ERROR, "deadlock"))
    query.end()
    worker = tracer.start_span(
        "enqueue receipt", context=root_context, kind=SpanKind.PRODUCER, links=[Link(query.get_span_context())]
    )
    worker.end()
    root.end()
    provider.shutdown()

    print(json.dumps({
        "trace_id": format(root.get_span_context().trace_id, "032x"),
        "root": format(root.get_span_context().span_id, "016x"),
        "query": format(query.get_span_context().span_id, "016x"),
        "worker": format(worker.get_span_context().span_id, "016x"),
        "failures": [str(failure) for failure in failures],
    }))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
