import ArgumentParser
import AsyncHTTPClient
import Foundation
import Intake
import Logging
import OTelBenchProtos
import Query
import Scenario
import ServiceLifecycle
import Services
import SwiftProtobuf
import Telemetry
import Workload

/// `otelbench bench`: throughput measurements, run by hand on a release build.
/// `otelbench-bench`: throughput against the peers (wrk, h2load, Prometheus 2.42), outside the product.
///
/// Built only when `OTELBENCH_BENCHMARKS=1` is set (see `Package.swift`); run on a release build:
/// `OTELBENCH_BENCHMARKS=1 swift run -c release otelbench-bench intake`.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otelbench-bench",
        abstract: "Measure throughput (run on a release build: OTELBENCH_BENCHMARKS=1 swift run -c release otelbench-bench ...).",
        subcommands: [
            BenchTable.self, BenchIntake.self, BenchScaling.self, BenchDriver.self, BenchRemoteWrite.self, BenchJaeger.self, BenchQuery.self,
            BenchSoak.self,
        ]
    )
}

/// The benchmark's `print`: each line written at once (as the product's terminal output is), so that into a file
/// or pipe too its lines and the peers' own reports (wrk, h2load, written to the same output) keep their order;
/// Swift's `print` would hold them in stdio's buffer.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((items.map { "\($0)" }.joined(separator: separator) + terminator).utf8))
}

/// Spans per second the OTLP receivers take, against swift-protobuf's decode-only rate for the same payload.
struct BenchIntake: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Spans/s into OTLP/HTTP (load from wrk) and OTLP/gRPC (load from h2load) vs. decode-only.",
        discussion: """
            Sends one ExportTraceServiceRequest of --spans spans with --attributes string attributes each, over and \
            over, from wrk (HTTP/1.1) and h2load (HTTP/2, gRPC framing) to a receiver in this process, which \
            stores every span, for --seconds twice per protocol: a warm-up pass that fills the store to its 256 MiB \
            limit, then the measured pass, in the store's steady state (evicting as much as it takes in). Reports \
            spans/s accepted, this process's CPU seconds per 10k spans (getrusage), resident \
            memory per stored span, and the same payload's decode-only rate on one thread in the same run. \
            With --record json or proto, the receiver also records every request, as `otelbench run` does, to a \
            file in a temporary folder (deleted afterwards; the JSON of a 10 s pass takes a few GB). \
            Needs wrk and h2load (Debian: apt-get install wrk nghttp2-client).
            """
    )

    @Option(help: "Spans per request.") var spans = 512
    @Option(help: "String attributes per span.") var attributes = 10
    @Option(help: "Seconds of load per protocol.") var seconds = 10
    @Option(help: "Concurrent connections of the load generators.") var connections = 8
    @Option(help: "Write the results as JSON to this file.") var json: String?
    @Option(
        help:
            "Only decode and convert the payload --iterations times on one thread, with `generated` (swift-protobuf + OTLPConversion) or `wire` (OTLPTraceWireDecoder), or `stored` (wire, then into a store at the intake's limit, evicting as it fills), for a profiler; no load."
    )
    var profile: String?
    @Option(help: "Requests decoded by --profile.") var iterations = 20
    @Option(help: "Also record every request received: none, json or proto (as `otelbench run --record-format`).") var record = "none"

    func validate() throws {
        guard spans > 0 else { throw ValidationError("--spans must be > 0 (got \(spans))") }
        guard attributes >= 0 else { throw ValidationError("--attributes must be >= 0 (got \(attributes))") }
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be 1...600 (got \(seconds))") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be 1...256 (got \(connections))") }
        guard ["none", "json", "proto"].contains(record) else { throw ValidationError("--record must be none, json or proto (got \(record))") }
        guard profile == nil || ["generated", "wire", "stored"].contains(profile) else {
            throw ValidationError("--profile must be generated, wire or stored (got \(profile ?? ""))")
        }
    }

    /// What one run measured.
    struct Figures {
        /// swift-protobuf's decode-only rate on one thread, spans/s (the peer).
        var decodeOnlySpansPerSecond: Double
        var http: Measurement
        var grpc: Measurement
        var decodeOnlyMicrosecondsPerSpan: Double { 1e6 / decodeOnlySpansPerSecond }
    }

    func run() async throws {
        if let profile {
            try decodeForProfiler(profile)
            return
        }
        _ = try await measure()
    }

    /// The benchmark's payload: one request of --spans spans with --attributes attributes each.
    private func payload() throws -> [UInt8] {
        var factory = OTLPPayloadFactory(seed: 42)
        return try factory.traces(spanCount: spans, attributesPerSpan: attributes).serializedBytes()
    }

    /// --profile: decode and convert --iterations times on this thread, no load.
    private func decodeForProfiler(_ profile: String) throws {
        let body = try payload()
        var stored = 0
        let store = TelemetryStore(limits: BenchLoad.storeLimits)
        for _ in 0..<iterations {
            if profile == "stored" {
                let batch = try OTLPTraceWireDecoder.traces(body, channel: .otlpGRPC).batch
                store.store(batch, channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
                stored += batch.spans.count
            } else if profile == "wire" {
                stored += try OTLPTraceWireDecoder.traces(body, channel: .otlpGRPC).batch.spans.count
            } else {
                let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: body)
                stored += OTLPConversion.traces(decoded, channel: .otlpGRPC).batch.spans.count
            }
        }
        print("\(profile): \(stored) spans decoded and converted")
    }

    /// Runs the decode-only peer and both receivers, printing each figure as it is measured.
    func measure() async throws -> Figures {
        let body = try payload()
        let wrk = try Self.tool("wrk", package: "wrk")
        let h2load = try Self.tool("h2load", package: "nghttp2-client")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(body).write(to: folder.appendingPathComponent("body.bin"))
        // gRPC framing: 1 byte "not compressed", 4 bytes big-endian length, then the message.
        let length = UInt32(body.count).bigEndian
        try Data([0] + withUnsafeBytes(of: length) { Array($0) } + body).write(to: folder.appendingPathComponent("body.grpc"))
        try Data(
            """
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/x-protobuf"
            local f = io.open("\(folder.path)/body.bin", "rb"); wrk.body = f:read("*all"); f:close()
            """.utf8
        ).write(to: folder.appendingPathComponent("post.lua"))

        print(
            "payload: \(spans) spans x \(attributes) attributes = \(body.count) bytes (\(body.count / spans) B/span); \(ProcessInfo.processInfo.activeProcessorCount) cores; recording: \(record)"
        )
        let decode = try Self.decodeOnly(body, spans: spans, seconds: min(5, seconds))
        print(String(format: "decode-only (swift-protobuf, 1 thread): %.0f spans/s (%.2f us/span)", decode, 1e6 / decode))
        let generatedConverted = try Self.decodeAndConvert(body, wire: false, seconds: min(5, seconds))
        let wireConverted = try Self.decodeAndConvert(body, wire: true, seconds: min(5, seconds))
        print(
            String(
                format: "decode+convert (1 thread): swift-protobuf + OTLPConversion %.2f us/span, OTLPTraceWireDecoder %.2f us/span",
                1e6 / generatedConverted,
                1e6 / wireConverted
            )
        )

        let bytesPerSpan = try Self.residentBytesPerStoredSpan(body)
        print(String(format: "store: %.0f B resident per stored span (%d-attribute spans, 200k stored, RSS before/after)", bytesPerSpan, attributes))

        var results: [[String: Double]] = []
        var measurements: [LoadTarget: Measurement] = [:]
        for target in [LoadTarget.http, .grpc] {
            let passes = try await measure(target, folder: folder, wrk: wrk, h2load: h2load)
            let measured = Measurement(passes.steady)
            measurements[target] = measured
            results.append(measured.json(target: target, decodeRate: decode, coldStart: Measurement(passes.coldStart)))
            print(
                String(
                    format:
                        "%@: %.0f spans/s accepted (%.2fx decode-only), %.3f CPU-s per 10k spans (%.2f CPU-us/span, %.0f%% CPU), %d rejected requests; store at its limit: %d traces evicted, %.0f MiB retained (warm-up pass: %.2f CPU-us/span)",
                    target.name,
                    measured.spansPerSecond,
                    measured.spansPerSecond / decode,
                    measured.cpuPer10k,
                    measured.cpuPer10k * 100,
                    measured.cpuPercent,
                    measured.rejected,
                    passes.steady.evictedTraces,
                    Double(passes.steady.retainedBytes) / 1_048_576,
                    passes.coldStart.cpuMicrosecondsPerSpan
                )
            )
        }
        if let json {
            let document: [String: Any] = [
                "payload": ["spans": spans, "attributes": attributes, "bytes": body.count],
                "decodeOnlySpansPerSecond": decode, "cores": ProcessInfo.processInfo.activeProcessorCount,
                "residentBytesPerStoredSpan": bytesPerSpan,
                "results": results,
            ]
            try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: json))
        }
        return Figures(decodeOnlySpansPerSecond: decode, http: measurements[.http]!, grpc: measurements[.grpc]!)
    }

    enum LoadTarget: Hashable {
        case http
        case grpc
        var name: String { self == .http ? "OTLP/HTTP (wrk)" : "OTLP/gRPC (h2load)" }
    }

    struct Measurement {
        var spansPerSecond: Double
        var cpuPer10k: Double
        var cpuPercent: Double
        var rejected: Int

        init(_ pass: BenchLoad.Measurement) {
            spansPerSecond = pass.spansPerSecond
            cpuPer10k = pass.cpuMicrosecondsPerSpan / 100
            cpuPercent = pass.cpuPercent
            rejected = pass.rejected
        }

        func json(target: LoadTarget, decodeRate: Double, coldStart: Measurement) -> [String: Double] {
            [
                target == .http ? "httpSpansPerSecond" : "grpcSpansPerSecond": spansPerSecond,
                "ratioToDecodeOnly": spansPerSecond / decodeRate, "cpuSecondsPer10kSpans": cpuPer10k,
                "cpuPercent": cpuPercent, "rejectedRequests": Double(rejected),
                "warmUpPassCPUSecondsPer10kSpans": coldStart.cpuPer10k,
            ]
        }
    }

    /// Runs one protocol's load against a fresh receiver and a fresh store, in the store's steady state
    /// (``BenchLoad``: a warm-up pass fills the store to its limit, then the measured pass).
    private func measure(_ target: LoadTarget, folder: URL, wrk: URL, h2load: URL) async throws -> BenchLoad.Passes {
        var logger = Logger(label: "otelbench.bench")
        logger.logLevel = .error
        let store = TelemetryStore(limits: BenchLoad.storeLimits)
        let recorder: RecordingWriter? =
            switch record {
            case "json": try RecordingWriter(path: folder.appendingPathComponent("recording-\(target == .http ? "http" : "grpc").jsonl").path, format: .json)
            case "proto": try RecordingWriter(path: folder.appendingPathComponent("recording-\(target == .http ? "http" : "grpc")").path, format: .proto)
            default: nil
            }
        defer {
            try? recorder?.close()
            for path in recorder?.paths ?? [] { try? FileManager.default.removeItem(atPath: path) }
        }
        let ingestor = OTLPIngestor(store: store, recorder: recorder, logger: logger)
        let loopback = ListenAddress(host: "127.0.0.1", port: 0)
        let service: any Service
        let bound: BoundAddress
        switch target {
        case .http:
            let receiver = OTLPHTTPReceiver(configuration: .init(address: loopback), ingestor: ingestor, logger: logger)
            (service, bound) = (receiver, receiver.boundAddress)
        case .grpc:
            let receiver = OTLPGRPCReceiver(configuration: .init(address: loopback), ingestor: ingestor, logger: logger)
            (service, bound) = (receiver, receiver.boundAddress)
        }
        return try await BenchLoad.measure(service: service, bound: bound, store: store, logger: logger) { [connections, seconds] port in
            switch target {
            case .http:
                try await Self.run(
                    wrk,
                    [
                        "-t2", "-c\(connections)", "-d\(seconds)s", "-s", folder.appendingPathComponent("post.lua").path,
                        "http://127.0.0.1:\(port)/v1/traces",
                    ]
                )
            case .grpc:
                try await Self.run(
                    h2load,
                    [
                        "-D", "\(seconds)", "-c", "\(connections)", "-m", "4", "-t", "2",
                        "-d", folder.appendingPathComponent("body.grpc").path,
                        "-H", "content-type: application/grpc", "-H", "te: trailers",
                        "http://127.0.0.1:\(port)/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                    ]
                )
            }
        }
    }

    /// Decodes `body` repeatedly on this thread for about `seconds`; returns spans per second.
    static func decodeOnly(_ body: [UInt8], spans: Int, seconds: Int) throws -> Double {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(seconds)
        var decoded = 0
        let start = clock.now
        while clock.now < deadline {
            for _ in 0..<10 {
                let request = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: body)
                decoded += request.resourceSpans[0].scopeSpans[0].spans.count
            }
        }
        let elapsed = clock.now - start
        return Double(decoded) / elapsed.inSeconds
    }

    /// Decodes and converts `body` repeatedly on this thread for about `seconds`, as the OTLP receivers do (with
    /// ``OTLPTraceWireDecoder`` when `wire`, else swift-protobuf and ``OTLPConversion``); returns spans per second.
    static func decodeAndConvert(_ body: [UInt8], wire: Bool, seconds: Int) throws -> Double {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(seconds)
        var converted = 0
        let start = clock.now
        while clock.now < deadline {
            for _ in 0..<10 {
                if wire {
                    converted += try OTLPTraceWireDecoder.traces(body, channel: .otlpGRPC).batch.spans.count
                } else {
                    let request = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: body)
                    converted += OTLPConversion.traces(request, channel: .otlpGRPC).batch.spans.count
                }
            }
        }
        let elapsed = clock.now - start
        return Double(converted) / elapsed.inSeconds
    }

    /// Stores 200k spans decoded from `body` in a fresh store and divides the growth of resident memory by them.
    static func residentBytesPerStoredSpan(_ body: [UInt8]) throws -> Double {
        let request = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: body)
        let perRequest = request.resourceSpans[0].scopeSpans[0].spans.count
        let store = TelemetryStore(limits: .init(maxRetainedBytes: nil))
        let before = residentBytes()
        var stored = 0
        var factory = OTLPPayloadFactory(seed: 7)
        while stored < 200_000 {
            // Fresh ids each batch, as real traffic has; attribute values repeat as in the benchmark payload.
            var batch = request
            for index in batch.resourceSpans[0].scopeSpans[0].spans.indices {
                batch.resourceSpans[0].scopeSpans[0].spans[index].spanID = factory.randomBytes(8)
            }
            let result = OTLPConversion.traces(batch, channel: .otlpGRPC)
            store.store(result.batch, channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
            stored += perRequest
        }
        return Double(residentBytes() - before) / Double(store.totals.spans)
    }

    /// User + system CPU seconds of this process so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// Resident set size of this process, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The installed program `name` (in /usr/bin, /usr/local/bin or /usr/sbin), or an error naming the Debian package.
    static func tool(_ name: String, package: String) throws -> URL {
        for folder in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
            return URL(fileURLWithPath: "\(folder)/\(name)")
        }
        throw BenchmarkError("\(name) is not installed: the benchmark runs it as a peer (Debian: apt-get install \(package))")
    }

    /// Runs a load generator to completion; its output is shown so its own numbers can be read beside ours.
    static func run(_ tool: URL, _ arguments: [String], output: FileHandle? = nil) async throws {
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        if let output { process.standardOutput = output }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        guard status == 0 else { throw BenchmarkError("\(tool.lastPathComponent) exited with status \(status)") }
    }
}

/// Remote-write samples per second into our receiver and into Debian's Prometheus (its remote-write
/// receiver), same sender (wrk), same body, same run.
struct BenchRemoteWrite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote-write",
        abstract: "Remote-write samples/s into otelbench's receiver vs. Prometheus' own, same sender and payload.",
        discussion: """
            One WriteRequest of --series series with one sample each (snappy block format, literals only), POSTed \
            over and over by wrk to our receiver (in this process) and then to `prometheus \
            --web.enable-remote-write-receiver` started on a loopback port in a temporary folder. Both accept the \
            repeated identical samples (as duplicates). Needs wrk and prometheus (Debian packages).
            """
    )

    @Option(help: "Series (samples) per request.") var series = 1000
    @Option(help: "Seconds per receiver.") var seconds = 10
    @Option(help: "wrk connections.") var connections = 8

    func validate() throws {
        guard (1...100_000).contains(series) else { throw ValidationError("--series must be 1...100000 (got \(series))") }
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be 1...600 (got \(seconds))") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be 1...256 (got \(connections))") }
    }

    /// Samples per second into each receiver.
    struct Figures {
        var ours: Double
        var prometheus: Double
        var ratio: Double { prometheus > 0 ? ours / prometheus : 0 }
    }

    func run() async throws {
        _ = try await measure()
    }

    /// Sends to our receiver and then to Prometheus, printing each figure as it is measured.
    func measure() async throws -> Figures {
        let wrk = try BenchIntake.tool("wrk", package: "wrk")
        let prometheus = try BenchIntake.tool("prometheus", package: "prometheus")
        var request = Prometheus_WriteRequest()
        let timestamp = Int64(Date().timeIntervalSince1970 * 1000)
        request.timeseries = (0..<series).map { index in
            var one = Prometheus_TimeSeries()
            one.labels = [("__name__", "otelbench_bench_metric"), ("job", "bench"), ("series", String(format: "s%06d", index))].map {
                var label = Prometheus_Label()
                label.name = $0.0
                label.value = $0.1
                return label
            }
            var sample = Prometheus_Sample()
            sample.timestamp = timestamp
            sample.value = Double(index)
            one.samples = [sample]
            return one
        }
        let body = SnappyBlock.encodeLiterals(try request.serializedBytes())
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-bench-rw-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(body).write(to: folder.appendingPathComponent("body.bin"))
        try Data(
            """
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/x-protobuf"
            wrk.headers["Content-Encoding"] = "snappy"
            wrk.headers["X-Prometheus-Remote-Write-Version"] = "0.1.0"
            local f = io.open("\(folder.path)/body.bin", "rb"); wrk.body = f:read("*all"); f:close()
            """.utf8
        ).write(to: folder.appendingPathComponent("post.lua"))
        print("payload: \(series) series x 1 sample, \(body.count) bytes; \(ProcessInfo.processInfo.activeProcessorCount) cores")

        // Ours.
        var logger = Logger(label: "otelbench.bench")
        logger.logLevel = .error
        let store = TelemetryStore(limits: .init(maxRetainedBytes: nil))
        let receiver = RemoteWriteReceiver(configuration: .loopback(port: 0), store: store, readAPI: PrometheusQueryAPI(store: store), logger: logger)
        let group = ServiceGroup(services: [receiver], logger: logger)
        let ours: (Double, Int) = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await receiver.boundAddress.value().port
            let result = try await wrkRate(wrk, url: "http://127.0.0.1:\(port)/api/v1/write", folder: folder, name: "ours")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
        print(String(format: "otelbench remote-write receiver: %.0f samples/s (%.0f requests/s, %d non-2xx)", ours.0 * Double(series), ours.0, ours.1))

        // Prometheus, on a port found free just before.
        let (process, port) = try await Self.startPrometheus(prometheus, in: folder)
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let theirs = try await wrkRate(wrk, url: "http://127.0.0.1:\(port)/api/v1/write", folder: folder, name: "prometheus")
        print(String(format: "prometheus remote-write receiver: %.0f samples/s (%.0f requests/s, %d non-2xx)", theirs.0 * Double(series), theirs.0, theirs.1))
        print(String(format: "ratio: otelbench / prometheus = %.2fx", theirs.0 > 0 ? ours.0 / theirs.0 : 0))
        return Figures(ours: ours.0 * Double(series), prometheus: theirs.0 * Double(series))
    }

    /// Runs wrk against `url` with the prepared body; returns requests/s and the count of non-2xx answers.
    private func wrkRate(_ wrk: URL, url: String, folder: URL, name: String) async throws -> (Double, Int) {
        let output = folder.appendingPathComponent("wrk-\(name).txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        try await BenchIntake.run(
            wrk,
            ["-t2", "-c\(connections)", "-d\(seconds)s", "-s", folder.appendingPathComponent("post.lua").path, url],
            output: try FileHandle(forWritingTo: output)
        )
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n")
        let rate = lines.first { $0.hasPrefix("Requests/sec:") }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        let errors = lines.first { $0.contains("Non-2xx or 3xx responses:") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        return (rate, errors)
    }

    /// Starts Debian's Prometheus with its remote-write receiver on a free loopback port, with its TSDB in
    /// `folder`, and waits (at most 15 s) until it answers `/-/ready`. The caller terminates the process.
    static func startPrometheus(_ prometheus: URL, in folder: URL) async throws -> (process: Process, port: Int) {
        let port = try freePort()
        let process = Process()
        process.executableURL = prometheus
        process.arguments = [
            "--config.file=\(try emptyConfig(in: folder))", "--storage.tsdb.path=\(folder.appendingPathComponent("tsdb").path)",
            "--web.listen-address=127.0.0.1:\(port)", "--web.enable-remote-write-receiver", "--log.level=error",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<150 {
            try await Task.sleep(for: .milliseconds(100))
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/-/ready"), timeout: .seconds(1)),
                response.status == .ok
            {
                return (process, port)
            }
        }
        process.terminate()
        process.waitUntilExit()
        throw BenchmarkError("prometheus did not become ready on 127.0.0.1:\(port) within 15 s")
    }

    static func emptyConfig(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("prometheus.yml")
        try Data("global:\n  scrape_interval: 1m\n".utf8).write(to: path)
        return path.path
    }

    /// A loopback port that was free a moment ago (bound to 0 and released).
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw BenchmarkError("cannot open a socket to find a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        guard bound == 0 else { throw BenchmarkError("cannot bind a socket to find a free port") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A benchmark that cannot run: a missing peer, a peer that failed, a payload that does not round-trip.
struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
