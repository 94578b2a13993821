#!/usr/bin/env python3
"""Export one span with the real OpenTelemetry Python SDK's OTLP exporter, configured for TLS and a token the
way a user configures it: through the SDK's standard environment variables.

Usage (from the venv made by scripts/install-test-deps.sh):

    OTEL_EXPORTER_OTLP_CERTIFICATE=ca.pem \\
    OTEL_EXPORTER_OTLP_HEADERS='authorization=Bearer%20TOKEN' \\
    .venv-test/bin/python Tests/Interop/otlp_tls_export.py \\
        --protocol grpc|http --endpoint https://127.0.0.1:4317 --span-name NAME [--timeout 10]

The exporter reads OTEL_EXPORTER_OTLP_CERTIFICATE (the CA to trust),
OTEL_EXPORTER_OTLP_CLIENT_KEY and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE (mutual
TLS) and OTEL_EXPORTER_OTLP_HEADERS itself. --endpoint: for grpc https://HOST:PORT
(http:// makes a plain-text channel); for http a base URL, posted to BASE/v1/traces.

Prints `trace_id HEX` and exits 0 when the export succeeded; prints
`otlp_tls_export: failed: ...` to stderr and exits 1 when it did not (the
exporter gives up on a refusal at once, and retries a broken connection until
--timeout); usage errors exit 2.
"""
import argparse
import logging
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", choices=["grpc", "http"], required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--span-name", required=True)
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()

    # The exporters log why an export failed (the status, the TLS error): keep it on stderr for the test's message.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "tls-interop"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("otlp_tls_export").start_as_current_span(args.span_name) as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
    spans = memory.get_finished_spans()

    if args.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=args.endpoint, timeout=args.timeout)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=args.endpoint.rstrip("/") + "/v1/traces", timeout=args.timeout)
    try:
        result = exporter.export(spans)
    except Exception as error:  # a TLS failure can surface as an exception instead of a result
        print(f"otlp_tls_export: failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        exporter.shutdown()
    if result != SpanExportResult.SUCCESS:
        print(f"otlp_tls_export: failed: export result {result.name}", file=sys.stderr)
        return 1
    print(f"trace_id {trace_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
