"""Write the bodies the real opentelemetry-exporter-prometheus-remote-write sends, one file each, instead of sending them.

Run with .venv-remote-write's python: remote_write_capture.py DIRECTORY. Writes DIRECTORY/body-N.snappy (snappy
block format, as the exporter compresses them) for a counter, a gauge and a histogram with several label sets,
some of them not ASCII. Exits 1 when nothing was captured.
"""

import os
import sys

from opentelemetry.exporter.prometheus_remote_write import PrometheusRemoteWriteMetricsExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource


def main() -> int:
    directory = sys.argv[1]
    exporter = PrometheusRemoteWriteMetricsExporter(endpoint="http://127.0.0.1:9/api/v1/write", timeout=1)
    bodies = []

    def capture(message, headers):
        bodies.append(message)
        return MetricExportResult.SUCCESS

    exporter._send_message = capture
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=Resource.create({"service.name": "shop", "host.name": "höst-1"}), metric_readers=[reader])
    meter = provider.get_meter("interop.remote_write_capture")
    requests = meter.create_counter("shop_requests", description="requests served")
    latency = meter.create_histogram("shop_latency", unit="ms")
    depth = meter.create_up_down_counter("shop_queue_depth")
    for round_ in range(3):
        for index in range(40):
            route = f"/item/{index}" if index % 7 else f"/café/{index}"
            requests.add(index + 1, {"route": route, "method": "GET" if index % 2 else "POST"})
            latency.record(index * 3.5 + round_, {"route": route})
        depth.add(round_ + 1)
        provider.force_flush()
    provider.shutdown()
    for index, body in enumerate(bodies):
        with open(os.path.join(directory, f"body-{index}.snappy"), "wb") as file:
            file.write(body)
    print(f"bodies: {len(bodies)}")
    return 0 if bodies else 1


if __name__ == "__main__":
    sys.exit(main())
