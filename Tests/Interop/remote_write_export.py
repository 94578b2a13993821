"""Send a counter, a gauge and a histogram with the real opentelemetry-exporter-prometheus-remote-write.

Run with .venv-remote-write's python: remote_write_export.py URL (e.g. http://127.0.0.1:9090/api/v1/write).
Exits 1 when an export reports failure.
"""

import sys

from opentelemetry.exporter.prometheus_remote_write import PrometheusRemoteWriteMetricsExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource


def main() -> int:
    exporter = PrometheusRemoteWriteMetricsExporter(endpoint=sys.argv[1], timeout=10)
    results = []
    original_export = exporter.export

    def recording_export(metrics_data, *args, **kwargs):
        result = original_export(metrics_data, *args, **kwargs)
        results.append(result)
        return result

    exporter.export = recording_export
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=Resource.create({"service.name": "shop"}), metric_readers=[reader])
    meter = provider.get_meter("interop.remote_write")
    requests = meter.create_counter("shop_requests", description="requests served")
    requests.add(3, {"route": "/cart"})
    requests.add(4, {"route": "/pay"})
    meter.create_up_down_counter("shop_queue_depth").add(7)
    latency = meter.create_histogram("shop_latency", unit="ms")
    for value in (3, 30, 300):
        latency.record(value, {"route": "/cart"})
    provider.force_flush()
    provider.shutdown()
    failures = [result for result in results if result is not MetricExportResult.SUCCESS]
    print(f"exports: {len(results)}, failures: {len(failures)}")
    return 1 if failures or not results else 0


if __name__ == "__main__":
    sys.exit(main())
