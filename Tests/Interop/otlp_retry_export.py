#!/usr/bin/env python3
"""Export batches of spans, one after another, with the real OpenTelemetry
Python SDK's OTLP span exporter, so that a test can watch how the exporter
reacts to an intake that refuses some of its requests (retries, backoff,
Retry-After / RetryInfo, non-retryable errors).

Usage (from the venv made by scripts/install-test-deps.sh):

    .venv-test/bin/python Tests/Interop/otlp_retry_export.py \\
        --protocol grpc|http --endpoint ENDPOINT --batches N [--timeout 30]

--endpoint: for grpc `HOST:PORT`, plaintext; for http a base URL (the exporter
posts to BASE/v1/traces). Batch i (from 1) holds one span named `retry-batch-i`,
so every batch has different bytes. Each export's result (SUCCESS or FAILURE)
is printed as one line `batch i: RESULT`; the exit status is 0 whatever the
results (a refused batch is what the test is about), 2 for usage errors.
"""

import argparse
import logging
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", choices=["grpc", "http"], required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--batches", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    resource = Resource.create({"service.name": f"retry-python-{args.protocol}", "service.instance.id": "interop"})
    if args.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        endpoint = args.endpoint.removeprefix("http://")
        exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=args.timeout)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=args.endpoint.rstrip("/") + "/v1/traces", timeout=args.timeout)

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("otelbench.retry-interop", "1.0.0")
    for index in range(1, args.batches + 1):
        memory.clear()
        with tracer.start_as_current_span(f"retry-batch-{index}"):
            pass
        result = exporter.export(memory.get_finished_spans())
        print(f"batch {index}: {result.name}", flush=True)
    exporter.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
