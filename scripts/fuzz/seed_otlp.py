"""OTLP seeds from the OpenTelemetry Python SDK (.venv-test): the exporters' own encoders, protobuf and OTLP/JSON."""
import base64
import gzip
import json
import os
import sys
import zlib

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common._internal.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common._internal._log_encoder import encode_logs
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import View, ExponentialBucketHistogramAggregation
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import SpanKind, Status, StatusCode, Link

out = sys.argv[1]


def write(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


resource = Resource.create({"service.name": "tasks", "service.version": "1.2.3", "deployment.environment": "fuzz"})

# Traces: a server span with a client child, events, links, attributes of every type, an error status.
exporter = InMemorySpanExporter()
provider = TracerProvider(resource=resource)
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("cf_core.services.tasks", "0.1.0")
with tracer.start_as_current_span("POST /tasks", kind=SpanKind.SERVER, attributes={"http.request.method": "POST", "http.response.status_code": 201, "url.path": "/tasks"}) as parent:
    parent.add_event("task.created", {"task.id": 42, "ratio": 0.5, "tags": ["a", "b"], "ok": True})
    with tracer.start_as_current_span("INSERT tasks", kind=SpanKind.CLIENT, links=[Link(parent.get_span_context(), {"link.kind": "follows"})]) as child:
        child.set_attribute("db.system", "sqlite")
        child.set_attribute("db.rows", [1, 2, 3])
        child.set_attribute("db.weights", [0.25, 1.5])
        child.set_status(Status(StatusCode.ERROR, "constraint failed"))
with tracer.start_as_current_span("GET /health/live", kind=SpanKind.SERVER):
    pass
spans = exporter.get_finished_spans()
traces = [encode_spans(spans), encode_spans(spans[:1]), encode_spans(spans[2:])]

# Metrics: a counter, an up-down counter, a gauge, a histogram and an exponential histogram.
reader = InMemoryMetricReader()
meters = MeterProvider(resource=resource, metric_readers=[reader], views=[View(instrument_name="queue_wait", aggregation=ExponentialBucketHistogramAggregation())])
meter = meters.get_meter("cf_core.services.tasks", "0.1.0")
requests = meter.create_counter("http_requests", unit="1", description="requests served")
active = meter.create_up_down_counter("active_requests")
latency = meter.create_histogram("rollback_duration", unit="s")
wait = meter.create_histogram("queue_wait", unit="ms")
meter.create_observable_gauge("test_coverage_percentage", callbacks=[lambda options: [__import__("opentelemetry.metrics", fromlist=["Observation"]).Observation(87.5, {"service": "tasks"})]], unit="%")
for i in range(5):
    requests.add(1, {"method": "POST", "code": str(200 + i)})
    active.add(1 if i % 2 else -1)
    latency.record(0.1 * (i + 1), {"phase": "restore", "operation": "db_restore"})
    wait.record(3.0 ** i)
metrics = [encode_metrics(reader.get_metrics_data())]
requests.add(7, {"method": "GET", "code": "404"})
metrics.append(encode_metrics(reader.get_metrics_data()))

# Logs.
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry import trace as trace_api
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry._logs import SeverityNumber

log_exporter = InMemoryLogRecordExporter()
loggers = LoggerProvider(resource=resource)
loggers.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
logger = loggers.get_logger("cf_core.services.migrations", "0.1.0")
context = trace_api.set_span_in_context(trace_api.NonRecordingSpan(spans[0].get_span_context()))
for severity, body in [(SeverityNumber.INFO, "migration 42 applied"), (SeverityNumber.ERROR, {"phase": "restore", "rows": 12}), (SeverityNumber.WARN, ["a", 1, 2.5])]:
    logger.emit(timestamp=1_700_000_000_000_000_000, context=context, severity_text=severity.name, severity_number=severity, body=body, attributes={"migration.id": 42, "ok": False}, event_name="migration.step")
logs_data = [encode_logs(log_exporter.get_finished_logs()), encode_logs(log_exporter.get_finished_logs()[:1])]

protobufs = {"otlp-traces": traces, "otlp-metrics": metrics, "otlp-logs": logs_data}
for target, messages in protobufs.items():
    for index, message in enumerate(messages):
        write(target, f"python-sdk-{index}.pb", message.SerializeToString())
write("otlp-traces", "empty.pb", b"")
write("otlp-metrics", "empty.pb", b"")
write("otlp-logs", "empty.pb", b"")


def hex_ids(value):
    """OTLP/JSON: trace and span ids as hex, not base64 (the OTLP specification's JSON encoding)."""
    if isinstance(value, dict):
        return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str) else hex_ids(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [hex_ids(v) for v in value]
    return value


for selector, (target, messages) in enumerate(protobufs.items()):
    for index, message in enumerate(messages):
        document = hex_ids(json_format.MessageToDict(message, use_integers_for_enums=True))
        write("otlp-json", f"python-sdk-{target[5:]}-{index}.json", bytes([selector]) + json.dumps(document).encode())

# Compressed bodies and gRPC streams of the same payloads, as the exporters send them (gzip; deflate = zlib).
payloads = [traces[0].SerializeToString(), metrics[0].SerializeToString(), logs_data[0].SerializeToString()]
for index, payload in enumerate(payloads):
    # control byte: bit 0 encoding (0 gzip, 1 deflate), the rest the limit (1 + 64 * value).
    limit_units = min(127, len(payload) // 64 + 1)
    write("http-body-inflation", f"gzip-{index}", bytes([limit_units << 1]) + gzip.compress(payload))
    write("http-body-inflation", f"deflate-{index}", bytes([(limit_units << 1) | 1]) + zlib.compress(payload))
    write("http-body-inflation", f"gzip-over-limit-{index}", bytes([2]) + gzip.compress(payload))
    units = min(84, len(payload) // 16 + 1)
    gz = gzip.compress(payload)
    frame = lambda flag, data: bytes([flag]) + len(data).to_bytes(4, "big") + data
    # byte 0: format (value % 3: gzip, deflate, none) and limit (1 + 16 * value // 3); byte 1: chunk size - 1.
    write("grpc-message-inflation", f"gzip-{index}", bytes([units * 3, 7]) + frame(1, gz) + frame(0, payload))
    write("grpc-message-inflation", f"deflate-{index}", bytes([units * 3 + 1, 255]) + frame(1, zlib.compress(payload)))
    write("grpc-message-inflation", f"identity-{index}", bytes([units * 3 + 2, 0]) + frame(0, payload))
    write("grpc-message-inflation", f"truncated-gzip-{index}", bytes([units * 3, 3]) + frame(1, gz[: len(gz) // 2]))
