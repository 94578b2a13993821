"""Remote-write, snappy and exposition seeds (.venv-remote-write): the OpenTelemetry Prometheus remote-write
exporter's WriteRequests (snappy blocks by python-snappy, as it sends them), and prometheus_client's own
exposition in the text format 0.0.4 and OpenMetrics."""
import os
import sys

import snappy
from opentelemetry.exporter.prometheus_remote_write import PrometheusRemoteWriteMetricsExporter
from opentelemetry.exporter.prometheus_remote_write.gen.remote_pb2 import WriteRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, Info, Enum, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

out = sys.argv[1]


def write(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


reader = InMemoryMetricReader()
provider = MeterProvider(resource=Resource.create({"service.name": "sprints", "job": "fuzz"}), metric_readers=[reader])
meter = provider.get_meter("cf_core.services.sprints")
counter = meter.create_counter("sprint_velocity_points")
histogram = meter.create_histogram("migration_phase_duration", unit="s")
gauge = meter.create_up_down_counter("open_sprints")
for i in range(4):
    counter.add(i + 1, {"team": f"t{i % 2}"})
    histogram.record(0.5 * i, {"phase": "apply"})
    gauge.add(1)
exporter = PrometheusRemoteWriteMetricsExporter(endpoint="http://127.0.0.1:1/api/v1/write")
series = exporter._translate_data(reader.get_metrics_data())
requests = [WriteRequest(timeseries=series), WriteRequest(timeseries=series[:1]), WriteRequest()]
for index, request in enumerate(requests):
    body = request.SerializeToString()
    write("remote-write", f"python-exporter-{index}.pb", body)
    block = snappy.compress(body)
    # The snappy target's first byte is its limit in units of 64 bytes.
    write("snappy", f"python-snappy-{index}", bytes([min(255, len(body) // 64 + 1)]) + block)
write("snappy", "over-limit", bytes([0]) + snappy.compress(b"x" * 1000))
write("snappy", "repeats", bytes([64]) + snappy.compress(b"abcabcabcabc" * 100 + bytes(range(256))))

registry = CollectorRegistry()
requests_total = Counter("http_requests", "Requests served.", ["method", "code"], registry=registry)
requests_total.labels("POST", "201").inc(3)
requests_total.labels("GET", "200").inc()
Gauge("queue_depth", "Items waiting, with \"quotes\" and \\ backslashes\nand a newline.", registry=registry).set(-2.5)
latency = Histogram("rollback_duration_seconds", "Rollback time.", ["operation"], buckets=[0.1, 1, 10, float("inf")], registry=registry)
latency.labels("db_restore").observe(0.7)
latency.labels("db_restore").observe(12)
Summary("request_size_bytes", "Request sizes.", registry=registry).observe(512)
Info("build", "Build information.", registry=registry).info({"version": "1.2.3", "revision": "abc"})
Enum("migration_state", "Migration state.", states=["pending", "running", "done"], registry=registry).state("running")
write("exposition-text", "prometheus-client.txt", generate_latest(registry))
write("exposition-openmetrics", "prometheus-client.txt", generate_openmetrics(registry))
