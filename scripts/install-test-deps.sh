#!/usr/bin/env bash
# Install what the interop tests need besides the Swift toolchain:
#   - curl (Debian package)
#   - a virtualenv at $REPO/.venv-test with the real OpenTelemetry Python SDK
#     and OTLP exporters pinned in Tests/Interop/requirements.txt
#   - Debian's prometheus (2.42: prometheus + promtool), the peer of the Prometheus sinks
#   - Debian's chromium, which renders the HTML report in a test
#   - Debian's wrk and nghttp2-client (h2load, nghttp): outside senders for scripts/overload.sh, and the gRPC
#     early-refusal test (RequestsInFlightTests)
#   - Debian's nginx: the driver benchmark's neutral endpoint
#   - $REPO/.venv-jaeger: the Jaeger exporters (1.21.0, protobuf 3), Tests/Interop/requirements-jaeger.txt
#   - $REPO/.venv-remote-write: the Prometheus remote-write exporter and cramjam (snappy oracle),
#     Tests/Interop/requirements-remote-write.txt
#   - $REPO/.venv-elasticsearch: the official Elasticsearch Python client, Tests/Interop/requirements-elasticsearch.txt
#   - kubectl (Debian's kubernetes-client, if missing) and $REPO/.venv-kubernetes: kubernetes-validate,
#     Tests/Interop/requirements-kubernetes.txt (the deploy/kubernetes manifest test)
# Idempotent: a re-run with everything in place makes no network call.
# Needs root for apt (only when something is missing). Reaches only Debian's
# apt repositories and PyPI.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv-test"
REQ="$REPO/Tests/Interop/requirements.txt"
STAMP="$VENV/.requirements.installed"
PYTHON="${PYTHON:-python3}"

log() { echo "install-test-deps: $*" >&2; }

# Can this interpreter make a venv with pip in it? (Debian's /usr/bin/python3
# needs python3-venv for ensurepip; pyenv builds have it.)
can_venv() {
  command -v "$1" >/dev/null 2>&1 && "$1" -c 'import venv, ensurepip' >/dev/null 2>&1
}

apt_pkgs=()
command -v curl >/dev/null 2>&1 || apt_pkgs+=(curl)
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || apt_pkgs+=(prometheus)
# Headless Chromium renders report.html in the report test.
command -v chromium >/dev/null 2>&1 || apt_pkgs+=(chromium)
# wrk (HTTP/1.1) and h2load (HTTP/2, gRPC): the outside senders of scripts/overload.sh.
command -v wrk >/dev/null 2>&1 || apt_pkgs+=(wrk)
command -v h2load >/dev/null 2>&1 || apt_pkgs+=(nghttp2-client)
# nginx: a neutral endpoint for the driver benchmark (otelbench-bench driver); it lives in /usr/sbin.
[ -x /usr/sbin/nginx ] || apt_pkgs+=(nginx)
if ! can_venv "$PYTHON"; then
  # Fall back to Debian's python3 with python3-venv.
  dpkg -s python3 >/dev/null 2>&1 || apt_pkgs+=(python3)
  dpkg -s python3-venv >/dev/null 2>&1 || apt_pkgs+=(python3-venv)
  PYTHON=/usr/bin/python3
fi

if ((${#apt_pkgs[@]})); then
  log "apt-get install ${apt_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi
can_venv "$PYTHON" || { log "error: $PYTHON cannot create a virtualenv"; exit 1; }

# The stamp records the requirements and the interpreter the venv was built
# with; anything different (or a broken venv) means reinstall.
want_stamp="$(cat "$REQ"; echo "# python: $("$PYTHON" -c 'import sys; print(sys.version.split()[0], sys.base_prefix)')")"
if [[ -x "$VENV/bin/python" && -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$want_stamp" ]] &&
   "$VENV/bin/python" -c 'import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.grpc.trace_exporter, opentelemetry.exporter.otlp.proto.http.trace_exporter' >/dev/null 2>&1; then
  :
else
  log "creating $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$REQ"
  printf '%s\n' "$want_stamp" >"$STAMP"
fi

# One more venv per set of peers whose pins clash with the OTLP venv (protobuf 3 for Jaeger,
# protobuf 5/6 for remote write). Same stamp logic: reinstall only when the requirements change.
extra_venv() {
  local venv="$1" req="$2" probe="$3"
  local stamp="$venv/.requirements.installed"
  local want
  want="$(cat "$req"; echo "# python: $("$PYTHON" -c 'import sys; print(sys.version.split()[0], sys.base_prefix)')")"
  if [[ -x "$venv/bin/python" && -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$want" ]] &&
     "$venv/bin/python" -c "$probe" >/dev/null 2>&1; then
    return
  fi
  log "creating $venv"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$req"
  printf '%s\n' "$want" >"$stamp"
}
extra_venv "$REPO/.venv-jaeger" "$REPO/Tests/Interop/requirements-jaeger.txt" \
  'import opentelemetry.exporter.jaeger.proto.grpc, opentelemetry.exporter.jaeger.thrift'
extra_venv "$REPO/.venv-remote-write" "$REPO/Tests/Interop/requirements-remote-write.txt" \
  'import opentelemetry.exporter.prometheus_remote_write, cramjam, prometheus_client'
extra_venv "$REPO/.venv-elasticsearch" "$REPO/Tests/Interop/requirements-elasticsearch.txt" \
  'import elasticsearch, elasticsearch.helpers'

# --- Kubernetes manifests (deploy/kubernetes; Tests/OTelBenchTests/KubernetesManifestTests.swift) ---
# kubectl renders them (`kubectl kustomize`, no cluster), from Debian's kubernetes-client when it is missing;
# kubernetes-validate checks them against the API schemas, in .venv-kubernetes
# (Tests/Interop/requirements-kubernetes.txt). Nothing is fetched when both are in place.
if ! command -v kubectl >/dev/null 2>&1; then
  log "apt-get install kubernetes-client (kubectl)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
fi
# The manifests need kustomize v4.5 or later inside kubectl (kubectl 1.24+: replacements, labels); Debian 12's
# kubernetes-client is 1.20 (kustomize v2), so say so here rather than leave it to the test's failure.
if ! kubectl version --client 2>/dev/null | grep -qE 'Kustomize Version: v([5-9]|4\.[5-9])'; then
  log "warning: $(command -v kubectl) embeds no kustomize v4.5+ ($(kubectl version --client 2>&1 | tr '\n' ' ')): KubernetesManifestTests will fail; install kubectl 1.24 or later"
fi
extra_venv "$REPO/.venv-kubernetes" "$REPO/Tests/Interop/requirements-kubernetes.txt" \
  'import kubernetes_validate, yaml'
echo "install-test-deps: $(kubectl version --client 2>/dev/null | head -1); kubernetes-validate $("$REPO/.venv-kubernetes/bin/kubernetes-validate" --version 2>&1) in .venv-kubernetes"
# --- end Kubernetes manifests ---

pinned="$(grep -E '^opentelemetry-(sdk|exporter-otlp-proto-grpc|exporter-otlp-proto-http)==' "$REQ" | tr '\n' ' ')"
echo "install-test-deps: ${pinned}in $VENV ($("$VENV/bin/python" -V 2>&1)); curl at $(command -v curl)"
echo "install-test-deps: $(prometheus --version 2>&1 | head -1); Jaeger exporters in .venv-jaeger; remote-write exporter and cramjam in .venv-remote-write; Elasticsearch client in .venv-elasticsearch"
