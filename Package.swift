// swift-tools-version:6.2
import PackageDescription

// Strictness every target shares (grpc-swift-2 sets the same two).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

func product(_ name: String, _ package: String) -> Target.Dependency { .product(name: name, package: package) }
let protobuf = product("SwiftProtobuf", "swift-protobuf")
let grpc: [Target.Dependency] = [
    product("GRPCCore", "grpc-swift-2"), product("GRPCNIOTransportHTTP2", "grpc-swift-nio-transport"),
    product("GRPCProtobuf", "grpc-swift-protobuf"),
]
let hummingbird = product("Hummingbird", "hummingbird")
let httpClient = product("AsyncHTTPClient", "async-http-client")
let lifecycle = product("ServiceLifecycle", "swift-service-lifecycle")
let logging = product("Logging", "swift-log")
let nio = product("NIOCore", "swift-nio")
let nioHTTP1 = product("NIOHTTP1", "swift-nio")
let yams = product("Yams", "Yams")

// The targets in the order a run's data flows through them, from the shared vocabulary up to the command line.
// Each may depend only on targets before it: `scripts/check-layers.py` (run by the test command) reads the
// dumped manifest and fails on any edge that points up this list.
let package = Package(
    name: "otelbench",
    platforms: [.macOS(.v15)],
    // The only product is the tool; every target below is `package`-visible to the others and to nobody else.
    products: [
        .executable(name: "otelbench", targets: ["otelbench"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
    ],
    targets: [
        // Generated once by scripts/generate-protos.sh (package visibility) and committed; never regenerated in CI.
        .target(name: "OTelBenchProtos", dependencies: [protobuf] + grpc),
        // PromQL's lexer, parser and syntax tree, and Prometheus' name rules (Prometheus' promql/parser).
        .target(name: "PromQLSyntax", swiftSettings: strictSettings),
        // The scenario model and loader, the taxonomy, and the typed words every target shares.
        .target(name: "Scenario", dependencies: ["PromQLSyntax", yams], swiftSettings: strictSettings),
        // The OpenTelemetry Collector configuration lint and its versioned component table (compiled-in data).
        .target(name: "CollectorLint", dependencies: ["Scenario", yams], swiftSettings: strictSettings),
        // The normalized telemetry model, its conversions, the store and the recording formats.
        .target(
            name: "Telemetry",
            dependencies: [
                "Scenario", "OTelBenchProtos", protobuf, product("DequeModule", "swift-collections"), product("CompressNIO", "compress-nio"), nio,
            ],
            swiftSettings: strictSettings
        ),
        // The engine over the store's metrics, the Prometheus view of OTLP, rule evaluation.
        .target(name: "PromQL", dependencies: ["PromQLSyntax", "Scenario", "Telemetry"], swiftSettings: strictSettings),
        // Receivers and sinks: OTLP gRPC/HTTP, Jaeger gRPC/Thrift, remote write, Elasticsearch.
        .target(
            name: "Intake",
            dependencies: [
                "Scenario", "Telemetry", "PromQLSyntax", "OTelBenchProtos", protobuf, hummingbird, lifecycle, logging, nio,
                // SinkRecording names Prometheus' own series by PrometheusView.
                "PromQL",
                product("UnixSignals", "swift-service-lifecycle"), product("CompressNIO", "compress-nio"),
                // The gRPC receivers inflate compressed messages themselves, in each HTTP/2 stream (GRPCMessageInflation).
                product("NIOHTTP2", "swift-nio-http2"), product("NIOHPACK", "swift-nio-http2"),
                // TLS for every receiver and sink (--tls-cert): HTTP through Hummingbird, gRPC through its transport.
                product("NIOSSL", "swift-nio-ssl"), product("HummingbirdTLS", "hummingbird"),
                // Connection limits and header/body timeouts sit beside NIO's HTTP/1 decoder (HTTPConnectionGuard).
                nioHTTP1,
            ] + grpc,
            swiftSettings: strictSettings
        ),
        // The Prometheus scraper, the exposition parser and its lints.
        .target(
            name: "Scrape",
            dependencies: ["Scenario", "Telemetry", "PromQLSyntax", "Intake", httpClient, lifecycle, logging, nio, nioHTTP1],
            swiftSettings: strictSettings
        ),
        // One fuzz target per input the program accepts, each through the receivers' and loaders' own parsers, with
        // invariants (scripts/fuzz.sh runs libFuzzer on them; Tests/FuzzRegressionTests replays their corpora).
        .target(
            name: "FuzzTargets",
            dependencies: [
                "Scenario", "PromQLSyntax", "Telemetry", "Intake", "Scrape", "OTelBenchProtos", protobuf, nio,
            ],
            swiftSettings: strictSettings
        ),
        // The read side: Prometheus' HTTP API, Jaeger's query API, the exposition of received metrics.
        .target(
            name: "Query",
            dependencies: ["Intake", "Scrape", "PromQL", "PromQLSyntax", "Scenario", "Telemetry", hummingbird, lifecycle, logging, nio],
            swiftSettings: strictSettings
        ),
        // The built-in cf_core services, instrumented with swift-otel.
        .target(
            name: "Services",
            dependencies: [
                "Scenario", product("OTel", "swift-otel"), product("Tracing", "swift-distributed-tracing"),
                product("Instrumentation", "swift-distributed-tracing"), product("CoreMetrics", "swift-metrics"),
                product("W3CTraceContext", "swift-w3c-trace-context"), hummingbird, httpClient, lifecycle, logging, nio, nioHTTP1, yams,
                product("HTTPTypes", "swift-http-types"), product("SQLiteNIO", "sqlite-nio"), product("DequeModule", "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        // Arrival schedules, the HTTP driver, the OTLP load generator.
        .target(
            name: "Workload",
            dependencies: [
                "Scenario", "Telemetry", "OTelBenchProtos", protobuf, httpClient, nio, product("CompressNIO", "compress-nio"),
                product("Histogram", "hdrhistogram-swift"),
                // The driver's own HTTP/1.1 connections (Driver/HTTP1ConnectionPool).
                product("NIOPosix", "swift-nio"), product("DequeModule", "swift-collections"),
                // https targets signed by a CA of the user's (--target-ca).
                product("NIOSSL", "swift-nio-ssl"),
            ] + grpc,
            swiftSettings: strictSettings
        ),
        // The rule book and every check.
        .target(
            name: "Checks",
            dependencies: [
                "Scenario", "CollectorLint", "Telemetry", "PromQL", "PromQLSyntax", "Workload", product("DequeModule", "swift-collections"),
                product("Histogram", "hdrhistogram-swift"),
            ],
            swiftSettings: strictSettings
        ),
        // summary.json, JUnit, Markdown, HTML, terminal: formatting only.
        .target(name: "Reporting", dependencies: ["Scenario", "Telemetry", "Workload", "Checks"], swiftSettings: strictSettings),
        // The run in stages: intake → services → drive → settle → judge → report.
        .target(
            name: "Harness",
            dependencies: [
                "Scenario", "Telemetry", "PromQL", "Intake", "Scrape", "Query", "Services", "Workload", "Checks", "Reporting", lifecycle, logging,
                product("UnixSignals", "swift-service-lifecycle"), hummingbird, httpClient,
                // The user's processes under test (Processes/RunningProcesses): spawned with default signal handling.
                product("Subprocess", "swift-subprocess"), product("SystemPackage", "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "otelbench",
            dependencies: [
                "Harness", "Scenario", "CollectorLint", "Telemetry", "Intake", "Services", "Workload", "Reporting",
                product("ArgumentParser", "swift-argument-parser"), lifecycle, logging, product("UnixSignals", "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // The test kit the test targets share: ports, child processes, in-process servers, the repository's paths.
        .target(
            name: "TestSupport",
            dependencies: [
                "Harness", "Intake", "Query", "Scenario", "Telemetry", "Workload", "OTelBenchProtos", protobuf, httpClient, hummingbird, lifecycle,
                logging, nio, nioHTTP1, product("CompressNIO", "compress-nio"),
            ] + grpc,
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(name: "ScenarioTests", dependencies: ["TestSupport", "Scenario", "PromQLSyntax"], swiftSettings: strictSettings),
        .testTarget(
            name: "TelemetryTests",
            dependencies: ["TestSupport", "Telemetry", "Scenario", "Workload", "OTelBenchProtos"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PromQLTests",
            dependencies: [
                "TestSupport", "PromQL", "PromQLSyntax", "Scenario", "Telemetry", "Intake", "Query", "Harness", "OTelBenchProtos", protobuf, httpClient, nio,
                nioHTTP1, lifecycle, logging,
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "IntakeTests",
            dependencies: [
                "TestSupport", "Intake", "Checks", "Scenario", "Workload", "Telemetry", "PromQLSyntax", "OTelBenchProtos", protobuf, httpClient,
                product("CompressNIO", "compress-nio"), lifecycle, logging, nio, nioHTTP1, product("NIOEmbedded", "swift-nio"),
                product("NIOHTTP2", "swift-nio-http2"), product("NIOHPACK", "swift-nio-http2"), product("HTTPTypes", "swift-http-types"),
            ] + grpc,
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ServicesTests",
            dependencies: ["TestSupport", "Services", "Intake", "Scenario", "Telemetry", httpClient, lifecycle, logging, nio, hummingbird],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WorkloadTests",
            dependencies: ["TestSupport", "Workload", "Intake", "Scenario", "Telemetry", "OTelBenchProtos", hummingbird, lifecycle, logging],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ChecksTests",
            dependencies: ["Checks", "Scenario", "Telemetry", "Workload", "TestSupport", "PromQL"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ScrapeTests",
            dependencies: ["TestSupport", "Scrape", "Intake", "Scenario", "Telemetry", "PromQLSyntax", hummingbird, lifecycle, logging, nio, nioHTTP1],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "QueryTests",
            dependencies: [
                "TestSupport", "Query", "Intake", "Scrape", "PromQL", "PromQLSyntax", "Scenario", "Telemetry", "Harness", "OTelBenchProtos", protobuf,
                httpClient, lifecycle, logging, nio, nioHTTP1,
            ],
            swiftSettings: strictSettings
        ),
        // Every shipped scenario in-process, against the verdicts taken before the layout change.
        .testTarget(
            name: "HarnessTests",
            dependencies: ["TestSupport", "Harness", "Checks", "Reporting", "Scenario", "Telemetry", "Workload", "Scrape"],
            exclude: ["Golden"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CollectorLintTests",
            dependencies: ["TestSupport", "CollectorLint", "Checks", "Scenario", "Telemetry"],
            swiftSettings: strictSettings
        ),
        // Every committed fuzz corpus file through its target, once (the fuzz campaigns' regression run).
        .testTarget(
            name: "FuzzRegressionTests",
            dependencies: ["FuzzTargets", "TestSupport", "Telemetry", "OTelBenchProtos", protobuf],
            exclude: ["Corpora"],
            swiftSettings: strictSettings
        ),
        // The built binary as users run it: few tests, each a whole command.
        .testTarget(
            name: "OTelBenchTests",
            dependencies: ["TestSupport", "Scenario", "Telemetry", "Workload", "OTelBenchProtos", protobuf, httpClient, nio],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Benchmarks stay out of the product and out of every ordinary build (as hummingbird and swift-otel gate
// theirs): `OTELBENCH_BENCHMARKS=1 swift run -c release otelbench-bench --help`.
if Context.environment["OTELBENCH_BENCHMARKS"] != nil {
    package.products.append(.executable(name: "otelbench-bench", targets: ["OTelBenchBenchmarks"]))
    package.targets.append(
        .executableTarget(
            name: "OTelBenchBenchmarks",
            dependencies: [
                "Harness", "Intake", "Query", "PromQL", "Scenario", "Services", "Telemetry", "Workload", "OTelBenchProtos", protobuf, httpClient,
                product("ArgumentParser", "swift-argument-parser"), lifecycle, logging,
            ],
            path: "Benchmarks/OTelBenchBenchmarks",
            swiftSettings: strictSettings
        )
    )
}

// The libFuzzer binary, only for scripts/fuzz.sh (which builds it with `-sanitize=fuzzer,address` into .build-fuzz):
// `OTELBENCH_FUZZ=1`; the target is chosen at run time by OTELBENCH_FUZZ_TARGET.
if Context.environment["OTELBENCH_FUZZ"] != nil {
    package.products.append(.executable(name: "otelbench-fuzz", targets: ["OTelBenchFuzz"]))
    package.targets.append(contentsOf: [
        .target(name: "CFuzzerDriver", path: "Fuzz/CFuzzerDriver"),
        .executableTarget(name: "OTelBenchFuzz", dependencies: ["FuzzTargets", "CFuzzerDriver"], path: "Fuzz/OTelBenchFuzz", swiftSettings: strictSettings),
    ])
}
