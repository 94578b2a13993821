#!/usr/bin/env bash
# generate-protos.sh — regenerate the Swift code in Sources/OTelBenchProtos/Generated/.
#
# The output is committed; CI never runs this script (nor any protobuf build
# plugin). Run it by hand after changing a pinned version below, then commit the
# result together with the change to this script.
#
# Usage:
#   scripts/generate-protos.sh
#
# Environment (all optional):
#   PROTOC_GEN_SWIFT=PATH          an already-built protoc-gen-swift (must be 1.39.0)
#   PROTOC_GEN_GRPC_SWIFT_2=PATH   an already-built protoc-gen-grpc-swift-2 (must be 2.4.1)
#   PROTOS_WORK_DIR=DIR            scratch directory (default /tmp/otelbench-protos):
#                                  plugin clones and builds, the Python venv, descriptor
#                                  sets and the raw protoc output live here
#   SWIFT_PACKAGES_GIT=BASE        where to clone the plugins' sources from: BASE/apple/
#                                  swift-protobuf.git, BASE/grpc/grpc-swift-protobuf.git
#                                  (default /opt/swift-packages when present, else
#                                  https://github.com)
#   VERIFY_BUILD=1                 also compile the output in a throwaway package under
#                                  PROTOS_WORK_DIR before installing it (slow: builds
#                                  grpc-swift-2 and swift-protobuf from scratch)
#
# What it does:
#   1. Builds the protoc plugins from source at the exact versions Package.swift and
#      Package.resolved use (generated code must match the runtime libraries), unless
#      given through the variables above. Release builds on 2 cores
#      (measured here: about 1.5 min each).
#   2. Makes a Python venv and installs (without dependencies) the PyPI packages
#      whose *_pb2.py modules carry the .proto files' descriptors, so no .proto file
#      is downloaded: opentelemetry-proto, opentelemetry-exporter-jaeger-proto-grpc,
#      opentelemetry-exporter-prometheus-remote-write.
#   3. scripts/protos/collect_descriptors.py reads the serialized FileDescriptorProtos
#      from those modules (without importing them: the Jaeger ones come from an old
#      protoc) and writes one FileDescriptorSet per group, dependencies included
#      (gogo.proto, google/api, protoc-gen-swagger options, well-known types).
#   4. protoc (Debian package protobuf-compiler) runs with --descriptor_set_in and
#      generates only the files named below; imports such as gogo.proto are not
#      generated, and google/protobuf/* types map to SwiftProtobuf's own
#      (Google_Protobuf_Timestamp, ...).
#   5. Replaces every *.swift file in Sources/OTelBenchProtos/Generated/ with the
#      new output.
#
# Groups generated:
#   OTLP        opentelemetry-proto: common, resource, trace, metrics, logs, and the
#               collector services Trace/Metrics/LogsService (messages + grpc-swift-2
#               server and client stubs)
#   Jaeger      api_v2 model.proto and collector.proto (messages + CollectorService
#               server and client stubs)
#   Prometheus  remote write types.proto and remote.proto (messages only)
#
# Swift type names follow the proto package: Opentelemetry_Proto_Trace_V1_Span,
# Jaeger_ApiV2_Span, Prometheus_WriteRequest. File names follow the proto path
# (FileNaming=PathToUnderscores), so two protos of the same base name cannot collide.
set -euo pipefail

# ---- Pinned versions ---------------------------------------------------------------
SWIFT_PROTOBUF_VERSION=1.39.0          # protoc-gen-swift; runtime in Package.resolved
GRPC_SWIFT_PROTOBUF_VERSION=2.4.1      # protoc-gen-grpc-swift-2; runtime in Package.resolved
GRPC_SWIFT_2_VERSION=2.4.3             # GRPCCodeGen, linked into protoc-gen-grpc-swift-2
OTEL_PROTO_VERSION=1.45.2              # PyPI opentelemetry-proto (opentelemetry-proto v1.x protos)
JAEGER_PROTO_GRPC_VERSION=1.21.0       # PyPI opentelemetry-exporter-jaeger-proto-grpc (last release)
PROM_REMOTE_WRITE_VERSION=0.66b1       # PyPI opentelemetry-exporter-prometheus-remote-write
PYTHON_PROTOBUF_VERSION=6.33.6         # PyPI protobuf, only to parse/serialize descriptors

# ---- Paths ---------------------------------------------------------------------------
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="$REPO_ROOT/Sources/OTelBenchProtos/Generated"
COLLECT="$REPO_ROOT/scripts/protos/collect_descriptors.py"
WORK="${PROTOS_WORK_DIR:-/tmp/otelbench-protos}"
if [[ -z "${SWIFT_PACKAGES_GIT:-}" ]]; then
    if [[ -d /opt/swift-packages/apple/swift-protobuf.git ]]; then
        SWIFT_PACKAGES_GIT=/opt/swift-packages
    else
        SWIFT_PACKAGES_GIT=https://github.com
    fi
fi
mkdir -p "$WORK"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'generate-protos: %s\n' "$*" >&2; exit 1; }

# ---- 0. protoc -------------------------------------------------------------------------
if ! command -v protoc >/dev/null 2>&1; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing protoc (Debian protobuf-compiler)"
        apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null
    else
        die "protoc not found: install Debian's protobuf-compiler"
    fi
fi
log "$(protoc --version)"

# ---- 1. Plugins ------------------------------------------------------------------------
# clone_at URL TAG DIR
clone_at() {
    if [[ -d "$3/.git" ]] && [[ "$(git -C "$3" describe --tags --exact-match 2>/dev/null)" == "$2" ]]; then
        return
    fi
    rm -rf "$3"
    local depth=()
    [[ "$1" == *://* ]] && depth=(--depth 1)   # local clones ignore --depth
    git -c advice.detachedHead=false clone --quiet "${depth[@]}" --branch "$2" "$1" "$3"
}

# time_build NAME: run the rest of the arguments, report how long it took
time_build() {
    local name=$1 start end
    shift
    start=$(date +%s)
    "$@"
    end=$(date +%s)
    log "$name built in $((end - start)) s"
}

build_protoc_gen_swift() {
    local src="$WORK/swift-protobuf-$SWIFT_PROTOBUF_VERSION"
    local scratch="$WORK/build-swift-protobuf-$SWIFT_PROTOBUF_VERSION"
    clone_at "$SWIFT_PACKAGES_GIT/apple/swift-protobuf.git" "$SWIFT_PROTOBUF_VERSION" "$src"
    log "building protoc-gen-swift $SWIFT_PROTOBUF_VERSION (release; log in $scratch.log)"
    (cd "$src" && swift build -c release --product protoc-gen-swift --scratch-path "$scratch") \
        >"$scratch.log" 2>&1 || { tail -n 40 "$scratch.log" >&2; die "protoc-gen-swift build failed"; }
    PROTOC_GEN_SWIFT="$scratch/release/protoc-gen-swift"
}

build_protoc_gen_grpc_swift_2() {
    local src="$WORK/grpc-swift-protobuf-$GRPC_SWIFT_PROTOBUF_VERSION"
    local scratch="$WORK/build-grpc-swift-protobuf-$GRPC_SWIFT_PROTOBUF_VERSION"
    clone_at "$SWIFT_PACKAGES_GIT/grpc/grpc-swift-protobuf.git" "$GRPC_SWIFT_PROTOBUF_VERSION" "$src"
    log "building protoc-gen-grpc-swift-2 $GRPC_SWIFT_PROTOBUF_VERSION (release; log in $scratch.log)"
    (
        cd "$src"
        # grpc-swift-protobuf only says "from:"; pin its dependencies to the project's.
        swift package --scratch-path "$scratch" resolve
        swift package --scratch-path "$scratch" resolve swift-protobuf --version "$SWIFT_PROTOBUF_VERSION"
        swift package --scratch-path "$scratch" resolve grpc-swift-2 --version "$GRPC_SWIFT_2_VERSION"
        swift build -c release --product protoc-gen-grpc-swift-2 --scratch-path "$scratch"
    ) >"$scratch.log" 2>&1 || { tail -n 40 "$scratch.log" >&2; die "protoc-gen-grpc-swift-2 build failed"; }
    PROTOC_GEN_GRPC_SWIFT_2="$scratch/release/protoc-gen-grpc-swift-2"
}

if [[ -z "${PROTOC_GEN_SWIFT:-}" ]]; then
    time_build protoc-gen-swift build_protoc_gen_swift
fi
if [[ -z "${PROTOC_GEN_GRPC_SWIFT_2:-}" ]]; then
    time_build protoc-gen-grpc-swift-2 build_protoc_gen_grpc_swift_2
fi
[[ -x "$PROTOC_GEN_SWIFT" ]] || die "not executable: $PROTOC_GEN_SWIFT"
[[ -x "$PROTOC_GEN_GRPC_SWIFT_2" ]] || die "not executable: $PROTOC_GEN_GRPC_SWIFT_2"

# Both plugins answer --version with "NAME VERSION".
check_version() {
    local got
    got="$("$1" --version 2>&1 | head -n 1)"
    [[ "$got" == *" $2" ]] || die "$1 reports '$got'; need version $2"
    log "$got"
}
check_version "$PROTOC_GEN_SWIFT" "$SWIFT_PROTOBUF_VERSION"
check_version "$PROTOC_GEN_GRPC_SWIFT_2" "$GRPC_SWIFT_PROTOBUF_VERSION"

# ---- 2. Python venv with the descriptor-carrying packages ------------------------------
VENV="$WORK/venv"
VENV_STAMP="$VENV/.otelbench-protos"
WANT_STAMP="protobuf==$PYTHON_PROTOBUF_VERSION opentelemetry-proto==$OTEL_PROTO_VERSION opentelemetry-exporter-jaeger-proto-grpc==$JAEGER_PROTO_GRPC_VERSION opentelemetry-exporter-prometheus-remote-write==$PROM_REMOTE_WRITE_VERSION"
if [[ ! -f "$VENV_STAMP" ]] || [[ "$(cat "$VENV_STAMP")" != "$WANT_STAMP" ]]; then
    log "creating Python venv $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "protobuf==$PYTHON_PROTOBUF_VERSION"
    # --no-deps: only the *_pb2.py files are wanted, not the SDKs, grpcio or snappy.
    # shellcheck disable=SC2086
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps \
        "opentelemetry-proto==$OTEL_PROTO_VERSION" \
        "opentelemetry-exporter-jaeger-proto-grpc==$JAEGER_PROTO_GRPC_VERSION" \
        "opentelemetry-exporter-prometheus-remote-write==$PROM_REMOTE_WRITE_VERSION"
    printf '%s' "$WANT_STAMP" >"$VENV_STAMP"
fi
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
OTLP_ROOT="$SITE/opentelemetry/proto"
JAEGER_ROOT="$SITE/opentelemetry/exporter/jaeger/proto/grpc/gen"
PROM_ROOT="$SITE/opentelemetry/exporter/prometheus_remote_write/gen"

# ---- 3. Descriptor sets ----------------------------------------------------------------
# Proto paths exactly as recorded in each pb2 module's descriptor.
OTLP_MESSAGES=(
    opentelemetry/proto/common/v1/common.proto
    opentelemetry/proto/resource/v1/resource.proto
    opentelemetry/proto/trace/v1/trace.proto
    opentelemetry/proto/metrics/v1/metrics.proto
    opentelemetry/proto/logs/v1/logs.proto
)
OTLP_SERVICES=(
    opentelemetry/proto/collector/trace/v1/trace_service.proto
    opentelemetry/proto/collector/metrics/v1/metrics_service.proto
    opentelemetry/proto/collector/logs/v1/logs_service.proto
)
JAEGER_MESSAGES=(model.proto)
JAEGER_SERVICES=(collector.proto)
PROM_MESSAGES=(
    opentelemetry/exporter/prometheus_remote_write/gen/types.proto
    opentelemetry/exporter/prometheus_remote_write/gen/remote.proto
)

SETS="$WORK/sets"
rm -rf "$SETS"
mkdir -p "$SETS"
log "descriptor set: OTLP"
"$VENV/bin/python" "$COLLECT" --root "$OTLP_ROOT" --out "$SETS/otlp.pb" \
    "${OTLP_MESSAGES[@]}" "${OTLP_SERVICES[@]}"
log "descriptor set: Jaeger"
"$VENV/bin/python" "$COLLECT" --root "$JAEGER_ROOT" --out "$SETS/jaeger.pb" \
    "${JAEGER_MESSAGES[@]}" "${JAEGER_SERVICES[@]}"
log "descriptor set: Prometheus remote write"
"$VENV/bin/python" "$COLLECT" --root "$PROM_ROOT" --out "$SETS/prometheus.pb" \
    "${PROM_MESSAGES[@]}"

# ---- 4. protoc -------------------------------------------------------------------------
GEN="$WORK/generated"
rm -rf "$GEN"
mkdir -p "$GEN"

SWIFT_OPT="Visibility=Package,FileNaming=PathToUnderscores"
GRPC_OPT="Visibility=Package,Server=true,Client=true,FileNaming=PathToUnderscores"

# messages SET FILE...
messages() {
    local set=$1
    shift
    protoc --descriptor_set_in="$set" \
        --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
        --swift_out="$GEN" --swift_opt="$SWIFT_OPT" \
        "$@"
}
# services SET FILE...
services() {
    local set=$1
    shift
    protoc --descriptor_set_in="$set" \
        --plugin=protoc-gen-grpc-swift-2="$PROTOC_GEN_GRPC_SWIFT_2" \
        --grpc-swift-2_out="$GEN" --grpc-swift-2_opt="$GRPC_OPT" \
        "$@"
}

log "protoc: OTLP"
messages "$SETS/otlp.pb" "${OTLP_MESSAGES[@]}" "${OTLP_SERVICES[@]}"
services "$SETS/otlp.pb" "${OTLP_SERVICES[@]}"
log "protoc: Jaeger"
messages "$SETS/jaeger.pb" "${JAEGER_MESSAGES[@]}" "${JAEGER_SERVICES[@]}"
services "$SETS/jaeger.pb" "${JAEGER_SERVICES[@]}"
log "protoc: Prometheus remote write"
messages "$SETS/prometheus.pb" "${PROM_MESSAGES[@]}"

# Every output must be a top-level .swift file with a unique name (the target's
# sources are one flat module, and SwiftPM refuses two files of the same name).
if find "$GEN" -mindepth 2 -print -quit | grep -q .; then
    die "protoc wrote into subdirectories of $GEN; check FileNaming"
fi
dupes="$(find "$GEN" -name '*.swift' -printf '%f\n' | tr '[:upper:]' '[:lower:]' | sort | uniq -d)"
[[ -z "$dupes" ]] || die "duplicate generated file names: $dupes"
count="$(find "$GEN" -name '*.swift' | wc -l)"
[[ "$count" -eq 16 ]] || die "expected 16 generated files (8 + 3 OTLP, 2 + 1 Jaeger, 2 Prometheus), got $count"

# ---- Optional: compile the output in a throwaway package -------------------------------
if [[ "${VERIFY_BUILD:-0}" == 1 ]]; then
    VERIFY="$WORK/verify"
    log "VERIFY_BUILD: compiling the output in $VERIFY"
    rm -rf "$VERIFY/Sources"
    mkdir -p "$VERIFY/Sources/OTelBenchProtos"
    cp "$GEN"/*.swift "$VERIFY/Sources/OTelBenchProtos/"
    cat >"$VERIFY/Package.swift" <<EOF
// swift-tools-version:6.2
import PackageDescription

// Mirrors the OTelBenchProtos target of $REPO_ROOT/Package.swift.
let package = Package(
    name: "verify-protos",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "$SWIFT_PROTOBUF_VERSION"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "$GRPC_SWIFT_2_VERSION"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "$GRPC_SWIFT_PROTOBUF_VERSION"),
    ],
    targets: [
        .target(
            name: "OTelBenchProtos",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
EOF
    [[ -f "$REPO_ROOT/Package.resolved" ]] && cp "$REPO_ROOT/Package.resolved" "$VERIFY/Package.resolved"
    start=$(date +%s)
    (cd "$VERIFY" && swift build --scratch-path "$WORK/verify-build") >"$WORK/verify-build.log" 2>&1 \
        || { grep -E 'error:' "$WORK/verify-build.log" | head -n 40 >&2; die "generated code does not compile (log: $WORK/verify-build.log)"; }
    log "VERIFY_BUILD: compiled in $(($(date +%s) - start)) s"
fi

# ---- 5. Install ------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
find "$OUT_DIR" -maxdepth 1 -name '*.swift' -delete
cp "$GEN"/*.swift "$OUT_DIR/"
log "wrote $count files to ${OUT_DIR#"$REPO_ROOT"/}:"
(cd "$OUT_DIR" && ls -1 ./*.swift | sed 's|^\./|    |') >&2
