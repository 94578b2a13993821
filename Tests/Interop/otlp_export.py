#!/usr/bin/env python3
"""Send a fixed set of telemetry to an OTLP endpoint with the real OpenTelemetry
Python SDK and its OTLP exporters, then write a JSON manifest of exactly what
was sent, so an interop test can compare what arrived field by field.

Usage (from the venv made by scripts/install-test-deps.sh):

    .venv-test/bin/python Tests/Interop/otlp_export.py \\
        --protocol grpc --endpoint 127.0.0.1:4317 --manifest /tmp/m.json
    .venv-test/bin/python Tests/Interop/otlp_export.py \\
        --protocol http --endpoint http://127.0.0.1:4318 --manifest /tmp/m.json \\
        [--signals traces,metrics,logs] [--compression none|gzip] [--timeout 10]

--endpoint: for grpc `HOST:PORT` (or `http://HOST:PORT`), plaintext (insecure);
for http a base URL; the exporters post to BASE/v1/traces, BASE/v1/metrics and
BASE/v1/logs. Nothing else is contacted: OTEL_* environment variables are
ignored, and proxy environment variables are not used.

How it sends: the SDK pipelines (TracerProvider, MeterProvider, LoggerProvider)
produce the data into in-memory exporters/readers; then each selected signal is
sent with ONE call to the real OTLP exporter's export(), i.e. one
Export*ServiceRequest per signal (one resource, one scope). Each export result
must be SUCCESS (the exporter retries retryable failures until --timeout).
Signals are sent in the order traces, metrics, logs; the first failure stops
the run: the script prints an `otlp_export: error: ...` line to stderr and
exits 1 without writing the manifest (an old file at --manifest is removed at
start). Usage errors exit 2. The manifest is written (atomically) only after
every selected signal was exported successfully.

Manifest schema (JSON; all ids lowercase hex; all times unix nanoseconds as JSON
integers -- they exceed 2^53, decode them as Int64/UInt64, never as Double):

  {
    "protocol": "grpc" | "http",
    "endpoint": str,                  # as given on the command line
    "compression": "none" | "gzip",
    "signals": ["traces", "metrics", "logs"],   # the ones sent
    "run_id": str,                    # uuid4, also resource attr interop.run_id
    "sdk_version": str,               # opentelemetry-sdk version
    "resource": {"attributes": ATTRS},  # full resource as sent: the four set
                                        # here (service.name=interop-python,
                                        # service.version=1.2.3,
                                        # deployment.environment=test,
                                        # interop.run_id=RUN_ID) plus what the
                                        # SDK adds: telemetry.sdk.language,
                                        # telemetry.sdk.name, telemetry.sdk.version
                                        # and a random service.instance.id
    "scope": SCOPE,                   # the one scope used by all three signals
    "spans":   [SPAN, ...],           # [] when traces not sent; end order
    "metrics": [METRIC, ...],         # [] when metrics not sent
    "logs":    [LOG, ...]             # [] when logs not sent; emit order
  }

  ATTRS  = {key: VALUE, ...}
  VALUE  = {"type": "string"|"bool"|"int"|"double", "value": scalar}
         | {"type": "array", "element_type": "string"|"bool"|"int"|"double",
            "value": [scalar, ...]}
  SCOPE  = {"name": str, "version": str, "attributes": ATTRS}

  SPAN = {
    "trace_id": str (32 hex), "span_id": str (16 hex),
    "parent_span_id": str (16 hex, "" for none),
    "name": str,
    "kind": int,            # OTLP: INTERNAL=1 SERVER=2 CLIENT=3 PRODUCER=4 CONSUMER=5
    "start_time_unix_nano": int, "end_time_unix_nano": int,
    "attributes": ATTRS,
    "events": [{"name": str, "time_unix_nano": int, "attributes": ATTRS}],
    "links": [{"trace_id": str, "span_id": str, "trace_state": str,
               "attributes": ATTRS, "flags": int}],
    "status": {"code": int, "message": str},   # OTLP: UNSET=0 OK=1 ERROR=2
    "trace_state": str,     # W3C tracestate string ("" for none)
    "flags": int,           # OTLP Span.flags as this SDK sets them: 0x100
                            # (has-is-remote) | 0x200 if the parent is remote;
                            # the SDK does not put the trace flags in bits 0-7
    "scope": SCOPE
  }

  METRIC = {
    "name": str, "unit": str, "description": str,
    "type": "histogram" | "sum" | "gauge",
    "aggregation_temporality": int,   # histogram/sum: 2 (CUMULATIVE); gauge: absent
    "is_monotonic": bool,             # sum only
    "scope": SCOPE,
    "data_points": [POINT, ...]       # sorted by canonical attribute JSON
  }
  POINT (histogram) = {"attributes": ATTRS, "count": int, "sum": float,
                       "min": float, "max": float,
                       "bucket_counts": [int, ...],       # len(bounds)+1
                       "explicit_bounds": [float, ...]}
  POINT (sum/gauge) = {"attributes": ATTRS, "value_type": "int"|"double",
                       "value": int|float}   # as_int / as_double in OTLP
  Metric data point times (start/time) are chosen by the SDK and are not listed.

  LOG = {
    "time_unix_nano": int, "observed_time_unix_nano": int,
    "severity_number": int,   # INFO=9, ERROR=17
    "severity_text": str,
    "body": {"type": "string", "value": str},
    "attributes": ATTRS,
    "trace_id": str, "span_id": str,   # "" when not in a span
    "flags": int,                      # trace flags: 1 (sampled) or 0
    "event_name": str,                 # "" (not set)
    "scope": SCOPE
  }

Everything in the manifest is computed from the values this script recorded,
except the ids the SDK generated (span ids of local spans), which are read from
the finished spans, and the exception stack trace, which is rendered with the
same traceback call the SDK uses.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import uuid

# Ignore every OTEL_* variable (endpoints, headers, resource attributes,
# temporality...): the manifest must describe exactly what is sent, and only
# the endpoint given on the command line may be contacted.
for _name in list(os.environ):
    if _name.startswith("OTEL_"):
        del os.environ[_name]
# Never route through a proxy.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "*"

from importlib.metadata import version as _pkg_version  # noqa: E402

from opentelemetry import trace  # noqa: E402
from opentelemetry._logs import SeverityNumber  # noqa: E402
from opentelemetry.sdk._logs import LoggerProvider  # noqa: E402
from opentelemetry.sdk._logs.export import (  # noqa: E402
    InMemoryLogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import (  # noqa: E402
    InMemoryMetricReader,
    MetricExportResult,
)
from opentelemetry.sdk.metrics.view import (  # noqa: E402
    ExplicitBucketHistogramAggregation,
    View,
)
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    SimpleSpanProcessor,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import (  # noqa: E402
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

PROG = "otlp_export"

# ---------------------------------------------------------------------------
# The fixed content.

SCOPE_NAME = "otelbench.interop.python"
SCOPE_VERSION = "0.9.0"
SCOPE_ATTRIBUTES = {"interop.scope.kind": "python-sdk"}

TRACE_STATE = "vendor1=value1,vendor2=value2"

ROOT_NAME = "GET /tasks"
ROOT_ATTRIBUTES = {
    "http.request.method": "GET",
    "url.path": "/tasks",
    "http.route": "/tasks",
    "http.response.status_code": 200,
}

CHILD_NAME = "repository.load"
CHILD_ATTRIBUTES = {
    "attr.string": "hello",
    "attr.string_unicode": "tâche ✓ 任务",
    "attr.bool": True,
    "attr.int": 42,
    "attr.int_negative": -7,
    "attr.int_large": 1 << 40,
    "attr.double": 3.25,
    "attr.string_array": ["a", "b", "c"],
    "attr.bool_array": [True, False, True],
    "attr.int_array": [1, 2, 3],
    "attr.double_array": [1.5, -2.25],
}
EVENT_NAME = "cache.miss"
EVENT_ATTRIBUTES = {"cache.key": "tasks:all", "cache.shard": 3, "cache.hit_ratio": 0.5}
LINK_ATTRIBUTES = {"link.reason": "batch", "link.index": 0}

CLIENT_NAME = "db.query"
CLIENT_ATTRIBUTES = {"db.system.name": "postgresql", "db.operation.name": "SELECT"}
CLIENT_STATUS_MESSAGE = "boom"

# Offsets (ns) from a base time rounded down to a whole millisecond.
MS = 1_000_000
T_ROOT = (0, 50 * MS)
T_CHILD = (5 * MS, 40 * MS)
T_EVENT = 10 * MS
T_CLIENT = (12 * MS, 30 * MS)
T_EXCEPTION = 20 * MS
T_LOG_INFO = 8 * MS
T_LOG_ERROR = 31 * MS

HISTOGRAM_NAME = "request_duration_seconds"
HISTOGRAM_UNIT = "s"
HISTOGRAM_DESCRIPTION = "Duration of handled requests."
HISTOGRAM_BOUNDS = [0.005, 0.01, 0.05, 0.1, 0.5, 1.0]
HISTOGRAM_ATTRIBUTES = {"route": "/tasks"}
# bucket counts [2, 1, 3, 1, 0, 1, 2]: one empty bucket, one value exactly on a
# bound (0.1 lands in (0.05, 0.1]), two values in the overflow bucket.
HISTOGRAM_VALUES = [0.003, 0.004, 0.007, 0.02, 0.03, 0.04, 0.1, 0.75, 2.5, 3.0]

COUNTER_NAME = "tasks_created"
COUNTER_UNIT = "1"
COUNTER_DESCRIPTION = "Tasks created."
COUNTER_ADDS = [
    ({"status": "success"}, 1),
    ({"status": "success"}, 2),
    ({"status": "error"}, 1),
    ({"status": "success"}, 4),
]

GAUGE_NAME = "queue_depth"
GAUGE_UNIT = "{item}"
GAUGE_DESCRIPTION = "Items waiting in the queue."
GAUGE_ATTRIBUTES = {"queue": "tasks"}
GAUGE_SETS = [5, 12, 7]  # last value wins

LOG_INFO = {
    "body": "task created",
    "severity_number": SeverityNumber.INFO,
    "severity_text": "INFO",
    "attributes": {"task.id": "t-1"},
}
LOG_ERROR = {
    "body": "db failed",
    "severity_number": SeverityNumber.ERROR,
    "severity_text": "ERROR",
    "attributes": {"db.attempt": 3},
}

ALL_SIGNALS = ("traces", "metrics", "logs")

# ---------------------------------------------------------------------------
# Manifest helpers.


def _scalar_type(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    raise TypeError(f"unsupported attribute value {v!r}")


def attr_value(v) -> dict:
    if isinstance(v, (list, tuple)):
        types = {_scalar_type(x) for x in v}
        if len(types) != 1:
            raise TypeError(f"array attribute must be homogeneous and non-empty: {v!r}")
        return {"type": "array", "element_type": types.pop(), "value": list(v)}
    return {"type": _scalar_type(v), "value": v}


def attrs(d) -> dict:
    return {k: attr_value(v) for k, v in (d or {}).items()}


def hex_trace(i: int) -> str:
    return format(i, "032x") if i else ""


def hex_span(i: int) -> str:
    return format(i, "016x") if i else ""


def random_trace_id() -> int:
    return uuid.uuid4().int & ((1 << 128) - 1) or 1


def random_span_id() -> int:
    return (uuid.uuid4().int & ((1 << 64) - 1)) or 1


FLAG_HAS_IS_REMOTE = 0x100
FLAG_IS_REMOTE = 0x200

# ---------------------------------------------------------------------------


def die(msg: str, code: int = 1):
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    sys.exit(code)


def parse_args(argv):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--protocol", required=True, choices=["grpc", "http"])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--signals", default=",".join(ALL_SIGNALS))
    p.add_argument("--compression", default="none", choices=["none", "gzip"])
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per export (default 10)")
    a = p.parse_args(argv)
    sig = [s.strip() for s in a.signals.split(",") if s.strip()]
    bad = [s for s in sig if s not in ALL_SIGNALS]
    if bad or not sig:
        p.error(f"--signals: expected a comma-separated subset of {','.join(ALL_SIGNALS)}, got {a.signals!r}")
    a.signals = [s for s in ALL_SIGNALS if s in sig]
    if a.timeout <= 0:
        p.error("--timeout must be positive")
    ep = a.endpoint.strip().rstrip("/")
    if a.protocol == "grpc":
        if ep.startswith("https://"):
            p.error("--endpoint: only plaintext grpc (http:// or HOST:PORT) is supported")
        if not ep.startswith("http://"):
            ep = "http://" + ep
    else:
        if not (ep.startswith("http://") or ep.startswith("https://")):
            p.error("--endpoint: for http give a base URL such as http://127.0.0.1:4318")
    a.url = ep
    return a


def make_exporters(a):
    """The real OTLP exporters for the chosen protocol."""
    if a.protocol == "grpc":
        from grpc import Compression as GrpcCompression
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        common = dict(
            endpoint=a.url,
            insecure=True,
            timeout=a.timeout,
            compression=GrpcCompression.Gzip if a.compression == "gzip" else GrpcCompression.NoCompression,
            channel_options=(("grpc.enable_http_proxy", 0),),
        )
        return (
            OTLPSpanExporter(**common),
            OTLPMetricExporter(**common),
            OTLPLogExporter(**common),
        )

    import requests
    from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    def session():
        s = requests.Session()
        s.trust_env = False  # no proxies, no .netrc
        return s

    comp = HttpCompression.Gzip if a.compression == "gzip" else HttpCompression.NoCompression
    return (
        OTLPSpanExporter(endpoint=a.url + "/v1/traces", timeout=a.timeout, compression=comp, session=session()),
        OTLPMetricExporter(endpoint=a.url + "/v1/metrics", timeout=a.timeout, compression=comp, session=session()),
        OTLPLogExporter(endpoint=a.url + "/v1/logs", timeout=a.timeout, compression=comp, session=session()),
    )


def main(argv=None) -> int:
    a = parse_args(argv if argv is not None else sys.argv[1:])
    # A stale manifest must never be mistaken for this run's.
    try:
        os.remove(a.manifest)
    except FileNotFoundError:
        pass

    run_id = str(uuid.uuid4())
    sdk_version = _pkg_version("opentelemetry-sdk")
    own_resource = {
        "service.name": "interop-python",
        "service.version": "1.2.3",
        "deployment.environment": "test",
        "interop.run_id": run_id,
    }
    resource = Resource.create(own_resource)
    # Resource.create adds telemetry.sdk.* and (since SDK 1.4x) a random
    # service.instance.id; check them, then record the resource exactly as sent.
    sent_resource = dict(resource.attributes)
    required = dict(own_resource)
    required.update(
        {
            "telemetry.sdk.language": "python",
            "telemetry.sdk.name": "opentelemetry",
            "telemetry.sdk.version": sdk_version,
        }
    )
    wrong = {k: sent_resource.get(k) for k, v in required.items() if sent_resource.get(k) != v}
    extra = set(sent_resource) - set(required) - {"service.instance.id"}
    if wrong or extra:
        die(f"unexpected SDK resource {sent_resource!r}: wrong {wrong!r}, unexpected keys {sorted(extra)!r}")

    scope_m = {"name": SCOPE_NAME, "version": SCOPE_VERSION, "attributes": attrs(SCOPE_ATTRIBUTES)}
    base = time.time_ns() // MS * MS

    # ------------------------------------------------------------- traces
    span_sink = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(span_sink))
    tracer = tracer_provider.get_tracer(SCOPE_NAME, SCOPE_VERSION, attributes=SCOPE_ATTRIBUTES)

    trace_id = random_trace_id()
    remote_parent_id = random_span_id()
    remote_parent = SpanContext(
        trace_id=trace_id,
        span_id=remote_parent_id,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState.from_header([TRACE_STATE]),
    )
    link_ctx = SpanContext(
        trace_id=random_trace_id(),
        span_id=random_span_id(),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    parent_ctx = trace.set_span_in_context(NonRecordingSpan(remote_parent))

    root = tracer.start_span(
        ROOT_NAME, context=parent_ctx, kind=SpanKind.SERVER, attributes=ROOT_ATTRIBUTES, start_time=base + T_ROOT[0]
    )
    root_ctx = trace.set_span_in_context(root)
    child = tracer.start_span(
        CHILD_NAME,
        context=root_ctx,
        kind=SpanKind.INTERNAL,
        attributes=CHILD_ATTRIBUTES,
        links=[Link(link_ctx, LINK_ATTRIBUTES)],
        start_time=base + T_CHILD[0],
    )
    child.add_event(EVENT_NAME, EVENT_ATTRIBUTES, timestamp=base + T_EVENT)
    client = tracer.start_span(
        CLIENT_NAME,
        context=trace.set_span_in_context(child),
        kind=SpanKind.CLIENT,
        attributes=CLIENT_ATTRIBUTES,
        start_time=base + T_CLIENT[0],
    )
    try:
        raise RuntimeError(CLIENT_STATUS_MESSAGE)
    except RuntimeError as e:
        exc = e
    client.record_exception(exc, timestamp=base + T_EXCEPTION)
    client.set_status(Status(StatusCode.ERROR, CLIENT_STATUS_MESSAGE))
    client.end(end_time=base + T_CLIENT[1])
    child.end(end_time=base + T_CHILD[1])
    root.end(end_time=base + T_ROOT[1])

    finished_spans = list(span_sink.get_finished_spans())
    root_id = root.get_span_context().span_id
    child_id = child.get_span_context().span_id
    client_id = client.get_span_context().span_id

    exception_attributes = {
        "exception.type": "RuntimeError",
        "exception.message": CLIENT_STATUS_MESSAGE,
        "exception.stacktrace": "".join(traceback.format_exception(exc)),
        "exception.escaped": "False",
    }

    def span_m(name, span_id, parent_id, kind, times, attributes, events=(), links=(), status=(0, ""), remote=False):
        return {
            "trace_id": hex_trace(trace_id),
            "span_id": hex_span(span_id),
            "parent_span_id": hex_span(parent_id),
            "name": name,
            "kind": kind,
            "start_time_unix_nano": base + times[0],
            "end_time_unix_nano": base + times[1],
            "attributes": attrs(attributes),
            "events": list(events),
            "links": list(links),
            "status": {"code": status[0], "message": status[1]},
            "trace_state": TRACE_STATE,
            "flags": FLAG_HAS_IS_REMOTE | (FLAG_IS_REMOTE if remote else 0),
            "scope": scope_m,
        }

    # In the order the spans ended (the order they are exported in).
    spans_m = [
        span_m(
            CLIENT_NAME, client_id, child_id, 3, T_CLIENT, CLIENT_ATTRIBUTES,
            events=[{"name": "exception", "time_unix_nano": base + T_EXCEPTION,
                     "attributes": attrs(exception_attributes)}],
            status=(2, CLIENT_STATUS_MESSAGE),
        ),
        span_m(
            CHILD_NAME, child_id, root_id, 1, T_CHILD, CHILD_ATTRIBUTES,
            events=[{"name": EVENT_NAME, "time_unix_nano": base + T_EVENT, "attributes": attrs(EVENT_ATTRIBUTES)}],
            links=[{"trace_id": hex_trace(link_ctx.trace_id), "span_id": hex_span(link_ctx.span_id),
                    "trace_state": "", "attributes": attrs(LINK_ATTRIBUTES),
                    "flags": FLAG_HAS_IS_REMOTE | FLAG_IS_REMOTE}],
        ),
        span_m(ROOT_NAME, root_id, remote_parent_id, 2, T_ROOT, ROOT_ATTRIBUTES, remote=True),
    ]
    if [s.name for s in finished_spans] != [s["name"] for s in spans_m]:
        die(f"SDK finished spans {[s.name for s in finished_spans]!r}, expected {[s['name'] for s in spans_m]!r}")

    # ------------------------------------------------------------- metrics
    reader = InMemoryMetricReader()  # cumulative temporality for every instrument
    meter_provider = MeterProvider(
        metric_readers=[reader],
        resource=resource,
        views=[
            View(
                instrument_name=HISTOGRAM_NAME,
                aggregation=ExplicitBucketHistogramAggregation(boundaries=HISTOGRAM_BOUNDS),
            )
        ],
        exemplar_filter=AlwaysOffExemplarFilter(),
    )
    meter = meter_provider.get_meter(SCOPE_NAME, SCOPE_VERSION, attributes=SCOPE_ATTRIBUTES)
    histogram = meter.create_histogram(HISTOGRAM_NAME, unit=HISTOGRAM_UNIT, description=HISTOGRAM_DESCRIPTION)
    for v in HISTOGRAM_VALUES:
        histogram.record(v, attributes=HISTOGRAM_ATTRIBUTES)
    counter = meter.create_counter(COUNTER_NAME, unit=COUNTER_UNIT, description=COUNTER_DESCRIPTION)
    for at, amount in COUNTER_ADDS:
        counter.add(amount, attributes=at)
    gauge = meter.create_gauge(GAUGE_NAME, unit=GAUGE_UNIT, description=GAUGE_DESCRIPTION)
    for v in GAUGE_SETS:
        gauge.set(v, attributes=GAUGE_ATTRIBUTES)
    metrics_data = reader.get_metrics_data()

    # Expected values, computed from what was recorded.
    buckets = [0] * (len(HISTOGRAM_BOUNDS) + 1)
    h_sum = 0.0
    for v in HISTOGRAM_VALUES:
        i = 0
        while i < len(HISTOGRAM_BOUNDS) and v > HISTOGRAM_BOUNDS[i]:
            i += 1
        buckets[i] += 1  # bucket i holds (bounds[i-1], bounds[i]]
        h_sum += v
    counter_totals: dict = {}
    for at, amount in COUNTER_ADDS:
        key = json.dumps(at, sort_keys=True)
        counter_totals[key] = counter_totals.get(key, 0) + amount

    def number_point(at, value):
        return {"attributes": attrs(at), "value_type": "int" if isinstance(value, int) else "double", "value": value}

    metrics_m = [
        {
            "name": HISTOGRAM_NAME, "unit": HISTOGRAM_UNIT, "description": HISTOGRAM_DESCRIPTION,
            "type": "histogram", "aggregation_temporality": 2, "scope": scope_m,
            "data_points": [{
                "attributes": attrs(HISTOGRAM_ATTRIBUTES),
                "count": len(HISTOGRAM_VALUES), "sum": h_sum,
                "min": min(HISTOGRAM_VALUES), "max": max(HISTOGRAM_VALUES),
                "bucket_counts": buckets, "explicit_bounds": list(HISTOGRAM_BOUNDS),
            }],
        },
        {
            "name": COUNTER_NAME, "unit": COUNTER_UNIT, "description": COUNTER_DESCRIPTION,
            "type": "sum", "aggregation_temporality": 2, "is_monotonic": True, "scope": scope_m,
            "data_points": [number_point(json.loads(k), counter_totals[k]) for k in sorted(counter_totals)],
        },
        {
            "name": GAUGE_NAME, "unit": GAUGE_UNIT, "description": GAUGE_DESCRIPTION,
            "type": "gauge", "scope": scope_m,
            "data_points": [number_point(GAUGE_ATTRIBUTES, GAUGE_SETS[-1])],
        },
    ]
    sdk_metric_names = sorted(
        m.name for rm in metrics_data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    )
    if sdk_metric_names != sorted(m["name"] for m in metrics_m):
        die(f"SDK collected metrics {sdk_metric_names!r}, expected {sorted(m['name'] for m in metrics_m)!r}")

    # ------------------------------------------------------------- logs
    log_sink = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_sink))
    otel_logger = logger_provider.get_logger(SCOPE_NAME, SCOPE_VERSION, attributes=SCOPE_ATTRIBUTES)
    otel_logger.emit(
        timestamp=base + T_LOG_INFO, observed_timestamp=base + T_LOG_INFO + MS, context=root_ctx,
        severity_number=LOG_INFO["severity_number"], severity_text=LOG_INFO["severity_text"],
        body=LOG_INFO["body"], attributes=LOG_INFO["attributes"],
    )
    # Outside any span: no span was ever made current, so the current context
    # carries no span and the record gets no trace/span id.
    otel_logger.emit(
        timestamp=base + T_LOG_ERROR, observed_timestamp=base + T_LOG_ERROR + MS,
        severity_number=LOG_ERROR["severity_number"], severity_text=LOG_ERROR["severity_text"],
        body=LOG_ERROR["body"], attributes=LOG_ERROR["attributes"],
    )
    finished_logs = list(log_sink.get_finished_logs())

    def log_m(spec, t, in_span):
        return {
            "time_unix_nano": base + t,
            "observed_time_unix_nano": base + t + MS,
            "severity_number": int(spec["severity_number"].value),
            "severity_text": spec["severity_text"],
            "body": {"type": "string", "value": spec["body"]},
            "attributes": attrs(spec["attributes"]),
            "trace_id": hex_trace(trace_id) if in_span else "",
            "span_id": hex_span(root_id) if in_span else "",
            "flags": 1 if in_span else 0,
            "event_name": "",
            "scope": scope_m,
        }

    logs_m = [log_m(LOG_INFO, T_LOG_INFO, True), log_m(LOG_ERROR, T_LOG_ERROR, False)]
    if len(finished_logs) != len(logs_m):
        die(f"SDK produced {len(finished_logs)} log records, expected {len(logs_m)}")

    # ------------------------------------------------------------- export
    span_exporter, metric_exporter, log_exporter = make_exporters(a)
    failures = []
    try:
        # Stop at the first failure: each failing export may take --timeout.
        if "traces" in a.signals:
            r = span_exporter.export(finished_spans)
            if r is not SpanExportResult.SUCCESS:
                failures.append(f"traces: {r.name}")
        if "metrics" in a.signals and not failures:
            r = metric_exporter.export(metrics_data, timeout_millis=a.timeout * 1000)
            if r is not MetricExportResult.SUCCESS:
                failures.append(f"metrics: {r.name}")
        if "logs" in a.signals and not failures:
            r = log_exporter.export(finished_logs)
            if r is not LogRecordExportResult.SUCCESS:
                failures.append(f"logs: {r.name}")
    finally:
        for ex in (span_exporter, metric_exporter, log_exporter):
            try:
                ex.shutdown()
            except Exception:  # noqa: BLE001 - shutdown problems must not mask the result
                pass
        for provider in (tracer_provider, meter_provider, logger_provider):
            try:
                provider.shutdown()
            except Exception:  # noqa: BLE001
                pass

    if failures:
        die(f"OTLP/{a.protocol} export to {a.url} failed: " + "; ".join(failures))

    manifest = {
        "protocol": a.protocol,
        "endpoint": a.endpoint,
        "compression": a.compression,
        "signals": a.signals,
        "run_id": run_id,
        "sdk_version": sdk_version,
        "resource": {"attributes": attrs(sent_resource)},
        "scope": scope_m,
        "spans": spans_m if "traces" in a.signals else [],
        "metrics": metrics_m if "metrics" in a.signals else [],
        "logs": logs_m if "logs" in a.signals else [],
    }
    tmp = a.manifest + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, a.manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
