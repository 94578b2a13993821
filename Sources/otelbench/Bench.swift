import ArgumentParser
import Foundation
import Intake
import Logging
import OTelBenchProtos
import ServiceLifecycle
import SwiftProtobuf
import Telemetry
import Workload

/// `otelbench bench`: throughput measurements, run by hand on a release build.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput (run on a release build: swift build -c release).",
        subcommands: [BenchIntake.self]
    )
}

/// Spans per second the OTLP receivers take, against swift-protobuf's decode-only rate for the same payload.
struct BenchIntake: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Spans/s into OTLP/HTTP (load from wrk) and OTLP/gRPC (load from h2load) vs. decode-only.",
        discussion: """
            Sends one ExportTraceServiceRequest of --spans spans with --attributes string attributes each, over and \
            over, from wrk (HTTP/1.1) and h2load (HTTP/2, gRPC framing) to receivers in this process, which store \
            every span. Reports spans/s accepted, this process's CPU seconds per 10k spans (getrusage), resident \
            memory per stored span, and the same payload's decode-only rate on one thread in the same run. \
            Needs wrk and h2load (Debian: apt-get install wrk nghttp2-client).
            """
    )

    @Option(help: "Spans per request.") var spans = 512
    @Option(help: "String attributes per span.") var attributes = 10
    @Option(help: "Seconds of load per protocol.") var seconds = 10
    @Option(help: "Concurrent connections of the load generators.") var connections = 8
    @Option(help: "Write the results as JSON to this file.") var json: String?

    func validate() throws {
        guard spans > 0 else { throw ValidationError("--spans must be > 0 (got \(spans))") }
        guard attributes >= 0 else { throw ValidationError("--attributes must be >= 0 (got \(attributes))") }
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be 1...600 (got \(seconds))") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be 1...256 (got \(connections))") }
    }

    func run() async throws {
        let wrk = try Self.tool("wrk", package: "wrk")
        let h2load = try Self.tool("h2load", package: "nghttp2-client")
        var factory = OTLPPayloadFactory(seed: 42)
        let request = factory.traces(spanCount: spans, attributesPerSpan: attributes)
        let body: [UInt8] = try request.serializedBytes()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(body).write(to: folder.appendingPathComponent("body.bin"))
        // gRPC framing: 1 byte "not compressed", 4 bytes big-endian length, then the message.
        let length = UInt32(body.count).bigEndian
        try Data([0] + withUnsafeBytes(of: length) { Array($0) } + body).write(to: folder.appendingPathComponent("body.grpc"))
        try Data("""
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/x-protobuf"
            local f = io.open("\(folder.path)/body.bin", "rb"); wrk.body = f:read("*all"); f:close()
            """.utf8).write(to: folder.appendingPathComponent("post.lua"))

        Terminal.out("payload: \(spans) spans x \(attributes) attributes = \(body.count) bytes (\(body.count / spans) B/span); \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let decode = try Self.decodeOnly(body, spans: spans, seconds: min(5, seconds))
        Terminal.out(String(format: "decode-only (swift-protobuf, 1 thread): %.0f spans/s (%.2f us/span)", decode, 1e6 / decode))

        let bytesPerSpan = try Self.residentBytesPerStoredSpan(body)
        Terminal.out(String(format: "store: %.0f B resident per stored span (%d-attribute spans, 200k stored, RSS before/after)", bytesPerSpan, attributes))

        var results: [[String: Double]] = []
        for target in [LoadTarget.http, .grpc] {
            let measured = try await measure(target, folder: folder, wrk: wrk, h2load: h2load)
            results.append(measured.json(target: target, decodeRate: decode))
            Terminal.out(
                String(
                    format: "%@: %.0f spans/s accepted (%.2fx decode-only), %.3f CPU-s per 10k spans (%.0f%% CPU), %d rejected requests",
                    target.name, measured.spansPerSecond, measured.spansPerSecond / decode, measured.cpuPer10k,
                    measured.cpuPercent, measured.rejected
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
    }

    enum LoadTarget {
        case http
        case grpc
        var name: String { self == .http ? "OTLP/HTTP (wrk)" : "OTLP/gRPC (h2load)" }
    }

    struct Measurement {
        var spansPerSecond: Double
        var cpuPer10k: Double
        var cpuPercent: Double
        var rejected: Int

        func json(target: LoadTarget, decodeRate: Double) -> [String: Double] {
            [
                target == .http ? "httpSpansPerSecond" : "grpcSpansPerSecond": spansPerSecond,
                "ratioToDecodeOnly": spansPerSecond / decodeRate, "cpuSecondsPer10kSpans": cpuPer10k,
                "cpuPercent": cpuPercent, "rejectedRequests": Double(rejected),
            ]
        }
    }

    /// Runs one protocol's load against fresh receivers and a fresh store.
    private func measure(_ target: LoadTarget, folder: URL, wrk: URL, h2load: URL) async throws -> Measurement {
        var logger = Logger(label: "otelbench.bench")
        logger.logLevel = .error
        let store = TelemetryStore(limits: .init(maxStoredBytes: nil))
        let ingestor = OTLPIngestor(store: store, logger: logger)
        let loopback = ListenAddress(host: "127.0.0.1", port: 0)
        let grpc = OTLPGRPCReceiver(configuration: .init(address: loopback), ingestor: ingestor, logger: logger)
        let http = OTLPHTTPReceiver(configuration: .init(address: loopback), ingestor: ingestor, logger: logger)
        let group = ServiceGroup(services: [grpc, http], logger: logger)
        return try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            let grpcPort = try await grpc.boundAddress.value().port
            let httpPort = try await http.boundAddress.value().port
            let cpuBefore = Self.cpuSeconds()
            let start = ContinuousClock.now
            let arguments: [String]
            let tool: URL
            switch target {
            case .http:
                tool = wrk
                arguments = ["-t2", "-c\(connections)", "-d\(seconds)s", "-s", folder.appendingPathComponent("post.lua").path,
                             "http://127.0.0.1:\(httpPort)/v1/traces"]
            case .grpc:
                tool = h2load
                arguments = ["-D", "\(seconds)", "-c", "\(connections)", "-m", "4", "-t", "2",
                             "-d", folder.appendingPathComponent("body.grpc").path,
                             "-H", "content-type: application/grpc", "-H", "te: trailers",
                             "http://127.0.0.1:\(grpcPort)/opentelemetry.proto.collector.trace.v1.TraceService/Export"]
            }
            try await Self.run(tool, arguments)
            let elapsed = ContinuousClock.now - start
            let cpu = Self.cpuSeconds() - cpuBefore
            let totals = store.totals
            let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return Measurement(
                spansPerSecond: Double(totals.spans) / wall,
                cpuPer10k: totals.spans > 0 ? cpu / Double(totals.spans) * 10_000 : 0,
                cpuPercent: cpu / wall * 100,
                rejected: totals.rejectedRequests
            )
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
        return Double(decoded) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Stores 200k spans decoded from `body` in a fresh store and divides the growth of resident memory by them.
    static func residentBytesPerStoredSpan(_ body: [UInt8]) throws -> Double {
        let request = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: body)
        let perRequest = request.resourceSpans[0].scopeSpans[0].spans.count
        let store = TelemetryStore(limits: .init(maxStoredBytes: nil))
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
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func tool(_ name: String, package: String) throws -> URL {
        for folder in ["/usr/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
            return URL(fileURLWithPath: "\(folder)/\(name)")
        }
        throw UsageError("\(name) is not installed: the benchmark uses it as the load generator (Debian: apt-get install \(package))")
    }

    /// Runs a load generator to completion; its output is shown so its own numbers can be read beside ours.
    static func run(_ tool: URL, _ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        guard status == 0 else { throw UsageError("\(tool.lastPathComponent) exited with status \(status)") }
    }
}
