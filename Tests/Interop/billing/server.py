#!/usr/bin/env python3
"""billing: a small HTTP service of "a user's own", for tests of `services.processes`.

It is instrumented the way such a service usually is: the OpenTelemetry Python SDK,
configured entirely from the standard OTEL_* environment variables the run sets
(OTEL_EXPORTER_OTLP_ENDPOINT and _PROTOCOL, OTEL_SERVICE_NAME,
OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_SCHEDULE_DELAY, OTEL_METRIC_EXPORT_INTERVAL,
OTEL_TRACES_SAMPLER, OTEL_PROPAGATORS), and the WSGI server instrumentation
(opentelemetry-instrumentation-wsgi) around a plain wsgiref server.

    python3 server.py --port PORT [--crash-after N] [--ignore-term]

Endpoints:
  GET  /health            200 "ok" (readiness)
  POST /invoices          201 {"id": N}; records billing_invoice_duration_seconds
                          (histogram, {route, status}) and billing_invoices_total
                          (counter, {status}); calls nothing else
  GET  /invoices/{id}     200 or 404

--crash-after N: exit with status 3 after N requests (a service that crashes).
--ignore-term: ignore SIGTERM (a service that will not stop; it is killed).
On SIGTERM (and SIGINT) it stops serving, then flushes its spans and metrics.
"""

import argparse
import json
import os
import signal
import socketserver
import sys
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf") == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
else:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--crash-after", type=int, default=0)
    parser.add_argument("--ignore-term", action="store_true")
    args = parser.parse_args()

    resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    tracer_provider = TracerProvider(resource=resource)  # OTEL_TRACES_SAMPLER
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # OTEL_BSP_*, OTEL_EXPORTER_OTLP_*
    trace.set_tracer_provider(tracer_provider)
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())],  # OTEL_METRIC_EXPORT_INTERVAL
        views=[
            View(
                instrument_name="billing_invoice_duration_seconds",
                aggregation=ExplicitBucketHistogramAggregation([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]),
            )
        ],
    )
    metrics.set_meter_provider(meter_provider)
    meter = metrics.get_meter("billing")
    duration = meter.create_histogram("billing_invoice_duration_seconds", unit="s", description="Time to create an invoice")
    created = meter.create_counter("billing_invoices_total", unit="1", description="Invoices created")
    tracer = trace.get_tracer("billing")

    invoices = {}
    lock = threading.Lock()
    served = [0]

    def app(environ, start_response):
        with lock:
            served[0] += 1
            if args.crash_after and served[0] > args.crash_after:
                print(f"billing: crashing after {args.crash_after} requests", file=sys.stderr, flush=True)
                os._exit(3)
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        if path == "/health":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if method == "POST" and path == "/invoices":
            started = time.perf_counter()
            with tracer.start_as_current_span("billing.create_invoice"):
                time.sleep(0.002)
                with lock:
                    number = len(invoices) + 1
                    invoices[number] = True
            duration.record(time.perf_counter() - started, {"route": "/invoices", "status": "created"})
            created.add(1, {"status": "created"})
            start_response("201 Created", [("Content-Type", "application/json")])
            return [json.dumps({"id": number}).encode()]
        if method == "GET" and path.startswith("/invoices/"):
            with lock:
                found = invoices.get(int(path.rsplit("/", 1)[1]) if path.rsplit("/", 1)[1].isdigit() else -1)
            start_response("200 OK" if found else "404 Not Found", [("Content-Type", "application/json")])
            return [b"{}"]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    # The middleware's own http.server.* metrics are left out (a no-op meter provider): the service's
    # taxonomy lists the metrics the team chose.
    middleware = OpenTelemetryMiddleware(app, meter_provider=metrics.NoOpMeterProvider())
    server = make_server("127.0.0.1", args.port, middleware, server_class=ThreadingServer, handler_class=QuietHandler)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, signal.SIG_IGN if args.ignore_term else stop)
    signal.signal(signal.SIGINT, stop)
    print(f"billing: serving on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    tracer_provider.shutdown()  # flushes the spans
    meter_provider.shutdown()  # exports the metrics once more
    print("billing: stopped, telemetry flushed", flush=True)


if __name__ == "__main__":
    main()
