#!/usr/bin/env bash
# Writes the fuzz targets' seed corpora from real payloads into DIR (default: the committed corpora,
# Tests/FuzzRegressionTests/Corpora): the OpenTelemetry Python SDK's OTLP (protobuf, JSON, gzip/deflate, gRPC
# framing), the Jaeger exporters' Thrift and protobuf, the remote-write exporter's WriteRequests and snappy blocks,
# prometheus_client's and Prometheus 2.42's own exposition, the Elasticsearch client's _bulk bodies, and the shipped
# scenarios, rule file and PromQL. Needs the virtual environments of scripts/install-test-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-Tests/FuzzRegressionTests/Corpora}"
mkdir -p "$out"
.venv-test/bin/python scripts/fuzz/seed_otlp.py "$out"
PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python .venv-jaeger/bin/python scripts/fuzz/seed_jaeger.py "$out"
.venv-remote-write/bin/python scripts/fuzz/seed_remote_write.py "$out"
.venv-elasticsearch/bin/python scripts/fuzz/seed_elasticsearch.py "$out"
bash scripts/fuzz/seed_prometheus.sh "$out"
.venv-test/bin/python scripts/fuzz/seed_text.py "$out"
