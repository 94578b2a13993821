#!/usr/bin/env bash
# Exposition seeds from Prometheus 2.42's own /metrics (Debian's prometheus), in the text format 0.0.4 and in
# OpenMetrics, from a server started on a free loopback port and stopped again.
set -euo pipefail
out="$1"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
config="$data/prometheus.yml"
printf 'global:\n  scrape_interval: 1s\n' > "$config"
prometheus --config.file="$config" --storage.tsdb.path="$data/tsdb" --web.listen-address="127.0.0.1:$port" --log.level=error &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.1; done
mkdir -p "$out/exposition-text"
curl -sf "http://127.0.0.1:$port/metrics" -H 'Accept: text/plain; version=0.0.4' > "$out/exposition-text/prometheus-2.42-metrics.txt"
