import ArgumentParser
import Foundation
import Intake
import Logging
import OTelBenchProtos
import Scenario
import ServiceLifecycle
import SwiftProtobuf
import Telemetry

/// Spans per second into the Jaeger sinks (gRPC `PostSpans`, Thrift over HTTP), measured in the same run as
/// the same spans sent as OTLP to our OTLP receivers and as the decode-only rates of the three encodings.
///
/// There is no Jaeger collector to measure against on this machine (Debian packages none), so the peers are
/// our own OTLP receivers taking the same spans over the same transport and load generator, and the
/// single-thread decode-only rates, as `bench intake` does.
struct BenchJaeger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jaeger",
        abstract: "Spans/s into the Jaeger gRPC and Thrift sinks vs. the same spans as OTLP, and decode-only.",
        discussion: """
            Builds one Jaeger batch of --spans spans (traces of 8) with --tags string tags each, and encodes the \
            same spans three ways: a jaeger.api_v2 PostSpansRequest (protobuf), a jaeger.thrift Batch (Thrift \
            binary) and an OTLP ExportTraceServiceRequest (the spans as our Jaeger conversion stores them). Sends \
            each over and over for --seconds, twice (a warm-up pass that fills the store to its 256 MiB limit, \
            then the measured pass): Thrift to POST /api/traces and OTLP/HTTP with wrk (HTTP/1.1), \
            PostSpans and OTLP/gRPC with h2load (HTTP/2, --connections connections x 4 streams), each into a \
            fresh store in this process. Reports spans/s accepted, CPU microseconds per span (getrusage of this \
            process), CPU %, the ratio to OTLP on the same transport, the decode-only rates (one thread) of \
            the three encodings with swift-protobuf and the api_v2 model, and the same with the receivers' own wire \
            decoders (decode and convert). Needs wrk and h2load (Debian: apt-get install wrk nghttp2-client).
            """
    )

    @Option(help: "Spans per batch.") var spans = 512
    @Option(help: "String tags per span.") var tags = 10
    @Option(help: "Seconds of load per path.") var seconds = 10
    @Option(help: "Concurrent connections of the load generators.") var connections = 8
    @Flag(help: "Measure only the single-thread decode rates (no load generators, no receivers).") var decodeOnly = false

    func validate() throws {
        guard (1...100_000).contains(spans) else { throw ValidationError("--spans must be 1...100000 (got \(spans))") }
        guard (0...1000).contains(tags) else { throw ValidationError("--tags must be 0...1000 (got \(tags))") }
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be 1...600 (got \(seconds))") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be 1...256 (got \(connections))") }
    }

    /// Each path's measurement.
    struct Figures {
        var paths: [LoadPath: BenchLoad.Measurement]
        /// CPU per span of a Jaeger path over that of OTLP on the same transport (Thrift/HTTP against OTLP/HTTP,
        /// gRPC PostSpans against OTLP/gRPC).
        func cpuRatio(_ jaeger: LoadPath) -> Double? {
            let otlp: LoadPath = jaeger == .thrift ? .otlpHTTP : .otlpGRPC
            guard let ours = paths[jaeger], let peer = paths[otlp], peer.cpuMicrosecondsPerSpan > 0 else { return nil }
            return ours.cpuMicrosecondsPerSpan / peer.cpuMicrosecondsPerSpan
        }
    }

    func run() async throws {
        _ = try await measure()
    }

    /// Measures the four paths and the decode-only rates, printing each as it is measured.
    func measure() async throws -> Figures {
        let batch = Self.batch(spans: spans, tags: tags)
        var postSpans = Jaeger_ApiV2_PostSpansRequest()
        postSpans.batch = batch
        let protobufBody: [UInt8] = try postSpans.serializedBytes()
        let thriftBody = JaegerThriftEncoding.batch(batch)
        let converted = JaegerConversion.spans(batch, channel: .jaegerGRPC)
        guard converted.problems.isEmpty else { throw BenchmarkError("bench payload is invalid: \(converted.problems.prefix(3))") }
        let otlpBody: [UInt8] = try SinkRecording.traces(converted.spans).serializedBytes()
        // The Thrift body must carry exactly the spans the protobuf one does, or the comparison means nothing.
        let fromThrift = try JaegerConversion.spans(JaegerThriftBatch.decode(thriftBody), channel: .jaegerGRPC).spans
        guard fromThrift == converted.spans else { throw BenchmarkError("bench payload: the Thrift encoding does not decode to the same spans") }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-bench-jaeger-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.writeLoadFiles(folder: folder, thrift: thriftBody, otlp: otlpBody, protobuf: protobufBody)

        print("payload: \(spans) spans x \(tags) tags; \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print(
            "  jaeger.thrift Batch \(thriftBody.count) B (\(thriftBody.count / spans) B/span), PostSpansRequest \(protobufBody.count) B (\(protobufBody.count / spans) B/span), OTLP \(otlpBody.count) B (\(otlpBody.count / spans) B/span)"
        )
        let decodeSeconds = min(5, seconds)
        let decodeOTLP = try Self.decodeRate(seconds: decodeSeconds) {
            try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: otlpBody).resourceSpans[0].scopeSpans[0].spans.count
        }
        let decodeProtobuf = try Self.decodeRate(seconds: decodeSeconds) {
            try Jaeger_ApiV2_PostSpansRequest(serializedBytes: protobufBody).batch.spans.count
        }
        let decodeThrift = try Self.decodeRate(seconds: decodeSeconds) { try JaegerThriftBatch.decode(thriftBody).spans.count }
        print(
            String(
                format: "decode-only, 1 thread: OTLP protobuf %.0f spans/s, Jaeger protobuf %.0f spans/s, Jaeger Thrift %.0f spans/s",
                decodeOTLP,
                decodeProtobuf,
                decodeThrift
            )
        )

        // What the receivers run on each request: decode and convert straight from the bytes, into the store's spans.
        let wireOTLP = try Self.decodeRate(seconds: decodeSeconds) { try OTLPTraceWireDecoder.traces(otlpBody, channel: .otlpGRPC).batch.spans.count }
        let wireProtobuf = try Self.decodeRate(seconds: decodeSeconds) { try JaegerProtoWireDecoder.spans(protobufBody, channel: .jaegerGRPC).spans.count }
        let wireThrift = try Self.decodeRate(seconds: decodeSeconds) { try JaegerThriftDecoder.spans(thriftBody, channel: .jaegerThrift).spans.count }
        print(
            String(
                format:
                    "receivers' wire decoders, 1 thread: OTLP %.0f spans/s (%.2f us), Jaeger protobuf %.0f (%.2f us, %.2fx OTLP's), Jaeger Thrift %.0f (%.2f us, %.2fx)",
                wireOTLP,
                1e6 / wireOTLP,
                wireProtobuf,
                1e6 / wireProtobuf,
                wireOTLP / wireProtobuf,
                wireThrift,
                1e6 / wireThrift,
                wireOTLP / wireThrift
            )
        )

        if decodeOnly { return Figures(paths: [:]) }
        let wrk = try BenchIntake.tool("wrk", package: "wrk")
        let h2load = try BenchIntake.tool("h2load", package: "nghttp2-client")

        let paths: [LoadPath] = [.thrift, .otlpHTTP, .jaegerGRPC, .otlpGRPC]
        var results: [LoadPath: BenchLoad.Measurement] = [:]
        for path in paths {
            let passes = try await measure(path, folder: folder, wrk: wrk, h2load: h2load)
            let measured = passes.steady
            results[path] = measured
            print(
                String(
                    format:
                        "%@: %.0f spans/s accepted, %.2f us CPU per span (%.0f%% CPU), %d rejected requests; store at its limit: %d traces evicted, %.0f MiB retained (warm-up pass: %.2f us CPU per span)",
                    path.name,
                    measured.spansPerSecond,
                    measured.cpuMicrosecondsPerSpan,
                    measured.cpuPercent,
                    measured.rejected,
                    measured.evictedTraces,
                    Double(measured.retainedBytes) / 1_048_576,
                    passes.coldStart.cpuMicrosecondsPerSpan
                )
            )
        }
        for (jaeger, otlp) in [(LoadPath.thrift, LoadPath.otlpHTTP), (.jaegerGRPC, .otlpGRPC)] {
            guard let ours = results[jaeger], let peer = results[otlp], peer.spansPerSecond > 0 else { continue }
            print(
                String(
                    format: "ratio: %@ / %@ = %.2fx spans/s, %.2fx CPU per span; %.2fx OTLP decode-only",
                    jaeger.name,
                    otlp.name,
                    ours.spansPerSecond / peer.spansPerSecond,
                    ours.cpuMicrosecondsPerSpan / max(peer.cpuMicrosecondsPerSpan, 1e-9),
                    ours.spansPerSecond / decodeOTLP
                )
            )
        }
        return Figures(paths: results)
    }

    /// A load path: which receiver, which tool.
    enum LoadPath: Hashable {
        case thrift, otlpHTTP, jaegerGRPC, otlpGRPC

        var name: String {
            switch self {
            case .thrift: "Jaeger Thrift/HTTP (wrk)"
            case .otlpHTTP: "OTLP/HTTP (wrk)"
            case .jaegerGRPC: "Jaeger gRPC PostSpans (h2load)"
            case .otlpGRPC: "OTLP/gRPC (h2load)"
            }
        }
    }

    /// Runs one path's load against a fresh receiver and a fresh store (``BenchLoad``: warm-up, then measured).
    private func measure(_ path: LoadPath, folder: URL, wrk: URL, h2load: URL) async throws -> BenchLoad.Passes {
        var logger = Logger(label: "otelbench.bench")
        logger.logLevel = .error
        let store = TelemetryStore(limits: BenchLoad.storeLimits)
        let loopback = ReceiverConfiguration.loopback(port: 0)
        let service: any Service
        let bound: BoundAddress
        switch path {
        case .thrift:
            let sink = JaegerThriftHTTPSink(configuration: loopback, store: store, logger: logger)
            (service, bound) = (sink, sink.boundAddress)
        case .jaegerGRPC:
            let sink = JaegerGRPCSink(configuration: loopback, store: store, logger: logger)
            (service, bound) = (sink, sink.boundAddress)
        case .otlpHTTP:
            let receiver = OTLPHTTPReceiver(configuration: loopback, ingestor: OTLPIngestor(store: store, logger: logger), logger: logger)
            (service, bound) = (receiver, receiver.boundAddress)
        case .otlpGRPC:
            let receiver = OTLPGRPCReceiver(configuration: loopback, ingestor: OTLPIngestor(store: store, logger: logger), logger: logger)
            (service, bound) = (receiver, receiver.boundAddress)
        }
        return try await BenchLoad.measure(service: service, bound: bound, store: store, logger: logger) { port in
            switch path {
            case .thrift, .otlpHTTP:
                let script = path == .thrift ? "thrift.lua" : "otlp.lua"
                let target = path == .thrift ? "/api/traces" : "/v1/traces"
                try await BenchIntake.run(
                    wrk,
                    [
                        "-t2", "-c\(connections)", "-d\(seconds)s", "-s", folder.appendingPathComponent(script).path, "http://127.0.0.1:\(port)\(target)",
                    ],
                    output: FileHandle.nullDevice
                )
            case .jaegerGRPC, .otlpGRPC:
                let body = path == .jaegerGRPC ? "postspans.grpc" : "otlp.grpc"
                let method = path == .jaegerGRPC ? "/jaeger.api_v2.CollectorService/PostSpans" : "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                try await BenchIntake.run(
                    h2load,
                    [
                        "-D", "\(seconds)", "-c", "\(connections)", "-m", "4", "-t", "2", "-d", folder.appendingPathComponent(body).path,
                        "-H", "content-type: application/grpc", "-H", "te: trailers", "http://127.0.0.1:\(port)\(method)",
                    ],
                    output: FileHandle.nullDevice
                )
            }
        }
    }

    /// The bodies and wrk scripts the load generators send.
    static func writeLoadFiles(folder: URL, thrift: [UInt8], otlp: [UInt8], protobuf: [UInt8]) throws {
        func grpcFramed(_ message: [UInt8]) -> Data {
            // 1 byte "not compressed", 4 bytes big-endian length, then the message.
            Data([0] + withUnsafeBytes(of: UInt32(message.count).bigEndian) { Array($0) } + message)
        }
        try Data(thrift).write(to: folder.appendingPathComponent("thrift.bin"))
        try Data(otlp).write(to: folder.appendingPathComponent("otlp.bin"))
        try grpcFramed(protobuf).write(to: folder.appendingPathComponent("postspans.grpc"))
        try grpcFramed(otlp).write(to: folder.appendingPathComponent("otlp.grpc"))
        for (script, body, type) in [("thrift.lua", "thrift.bin", "application/x-thrift"), ("otlp.lua", "otlp.bin", "application/x-protobuf")] {
            try Data(
                """
                wrk.method = "POST"
                wrk.headers["Content-Type"] = "\(type)"
                local f = io.open("\(folder.path)/\(body)", "rb"); wrk.body = f:read("*all"); f:close()
                """.utf8
            ).write(to: folder.appendingPathComponent(script))
        }
    }

    /// Decodes repeatedly on this thread for about `seconds`; `decode` returns the spans it decoded.
    static func decodeRate(seconds: Int, _ decode: () throws -> Int) throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .seconds(seconds)
        var decoded = 0
        while clock.now < deadline {
            for _ in 0..<10 { decoded += try decode() }
        }
        return Double(decoded) / (clock.now - start).inSeconds
    }

    /// One process, `spans` spans in traces of 8 (a server root and its internal children), `tags` string tags
    /// each, ids and times as a client would send them.
    static func batch(spans count: Int, tags: Int) -> Jaeger_ApiV2_Batch {
        var random = SystemRandomNumberGenerator()
        let startMicros = Int64(Date().timeIntervalSince1970 * 1e6)
        var batch = Jaeger_ApiV2_Batch()
        batch.process.serviceName = "otelbench-bench"
        batch.process.tags = [stringTag("hostname", "bench-1"), stringTag("client-uuid", "6f1a2b3c4d5e")]
        var traceID = Data()
        var rootID = Data()
        batch.spans = (0..<count).map { index in
            var span = Jaeger_ApiV2_Span()
            let bytes = { (size: Int) in Data((0..<size).map { _ in UInt8.random(in: 1...255, using: &random) }) }
            if index % 8 == 0 {
                traceID = bytes(16)
                rootID = bytes(8)
                span.spanID = rootID
                span.operationName = "GET /tasks"
                span.tags.append(stringTag("span.kind", "server"))
            } else {
                span.spanID = bytes(8)
                span.operationName = "repository.load"
                var parent = Jaeger_ApiV2_SpanRef()
                parent.traceID = traceID
                parent.spanID = rootID
                parent.refType = .childOf
                span.references = [parent]
            }
            span.traceID = traceID
            span.flags = 1
            // Whole microseconds: Thrift carries no finer time.
            let micros = startMicros + Int64(index)
            span.startTime = Google_Protobuf_Timestamp(seconds: micros / 1_000_000, nanos: Int32(micros % 1_000_000) * 1000)
            span.duration = Google_Protobuf_Duration(seconds: 0, nanos: 250_000)
            span.tags += (0..<tags).map { stringTag("attribute.\($0)", "value-\($0)-\(index % 100)") }
            return span
        }
        return batch
    }

    private static func stringTag(_ key: String, _ value: String) -> Jaeger_ApiV2_KeyValue {
        var tag = Jaeger_ApiV2_KeyValue()
        tag.key = key
        tag.vType = .string
        tag.vStr = value
        return tag
    }
}

/// Load against one receiver in this process, as `bench intake` and `bench jaeger` measure it: spans stored per
/// wall second, and this process's CPU time (getrusage) per span, in the store's steady state.
///
/// Steady state means the store at its memory limit, evicting the oldest traces as fast as new spans come, with a
/// heap already grown to that size: as a long run is. So the load runs twice into the same store: a warm-up pass
/// (reported as `coldStart`) that grows the heap, fills the store and absorbs the teardown of the previous path's
/// store, then the measured pass. A fresh, unbounded store instead charges every span the page faults of a heap
/// that only grows (about 1 KB resident per span) but never the freeing of what it keeps, and the next path the
/// freeing of all of it (perf showed 2 CPU-seconds of it inside the next path's pass). The steady pass costs more
/// than the warm-up one: every span it stores is eventually evicted and freed, as in a long run.
enum BenchLoad {
    /// What one pass measured.
    struct Measurement {
        var spansPerSecond: Double
        var cpuMicrosecondsPerSpan: Double
        var cpuPercent: Double
        /// Requests counted as refused; with h2load, these include the streams it cuts at its deadline.
        var rejected: Int
        /// Traces the store evicted during the pass: more than 0 once the store is at its limit.
        var evictedTraces: Int
        /// What the store counted as retained at the end of the pass.
        var retainedBytes: Int
    }

    /// The warm-up pass and the measured one.
    struct Passes {
        /// The first pass, into an empty store on a heap not yet grown: not steady state, shown for comparison.
        var coldStart: Measurement
        /// The second pass, into the store the first one filled: the figure.
        var steady: Measurement
    }

    /// The store's limit in the benchmarks: small enough that the warm-up pass fills it (about 200k spans of 10
    /// attributes), as the product's default (1 GiB) fills in a long run.
    static let storeLimits = TelemetryStore.Limits(maxRetainedBytes: 256 << 20)

    /// Runs `service`, waits until it listens, runs `load` against its port twice (warm-up, then measured), and
    /// measures each pass.
    static func measure(
        service: any Service,
        bound: BoundAddress,
        store: TelemetryStore,
        logger: Logger,
        load: @escaping @Sendable (Int) async throws -> Void
    ) async throws -> Passes {
        let group = ServiceGroup(services: [service], logger: logger)
        return try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            let port = try await bound.value().port
            let coldStart = try await pass(store: store) { try await load(port) }
            let steady = try await pass(store: store) { try await load(port) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return Passes(coldStart: coldStart, steady: steady)
        }
    }

    /// One run of `load`, measured by the store's counts before and after.
    private static func pass(store: TelemetryStore, _ load: () async throws -> Void) async throws -> Measurement {
        let before = store.totals
        let cpuBefore = BenchIntake.cpuSeconds()
        let start = ContinuousClock.now
        try await load()
        let wall = (ContinuousClock.now - start).inSeconds
        let cpu = BenchIntake.cpuSeconds() - cpuBefore
        let after = store.totals
        let spans = after.spans - before.spans
        return Measurement(
            spansPerSecond: Double(spans) / wall,
            cpuMicrosecondsPerSpan: spans > 0 ? cpu / Double(spans) * 1e6 : 0,
            cpuPercent: cpu / wall * 100,
            rejected: after.rejectedRequests - before.rejectedRequests,
            evictedTraces: after.evictedTraces - before.evictedTraces,
            retainedBytes: after.retainedBytes
        )
    }
}

/// Encodes a Jaeger batch as a jaeger.thrift `Batch` in the Thrift binary protocol, as the Jaeger clients send
/// it to `POST /api/traces`: the benchmark's Thrift body. Covers what the benchmark's batch uses and the rest
/// of the model (references, typed tags, logs), with the first `CHILD_OF` reference also as `parentSpanId`.
enum JaegerThriftEncoding {
    private enum TType {
        static let bool: UInt8 = 2, double: UInt8 = 4, i32: UInt8 = 8, i64: UInt8 = 10, string: UInt8 = 11, `struct`: UInt8 = 12, list: UInt8 = 15
    }

    private struct Writer {
        var bytes: [UInt8] = []
        mutating func field(_ type: UInt8, _ id: Int16) {
            bytes.append(type)
            integer(UInt64(UInt16(bitPattern: id)), size: 2)
        }
        mutating func stop() { bytes.append(0) }
        mutating func i32(_ value: Int32) { integer(UInt64(UInt32(bitPattern: value)), size: 4) }
        mutating func i64(_ value: Int64) { integer(UInt64(bitPattern: value), size: 8) }
        mutating func binary<Bytes: Collection>(_ value: Bytes) where Bytes.Element == UInt8 {
            i32(Int32(value.count))
            bytes += value
        }
        mutating func list(_ type: UInt8, count: Int) {
            bytes.append(type)
            i32(Int32(count))
        }
        mutating func integer(_ value: UInt64, size: Int) {
            for index in (0..<size).reversed() { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
        }
    }

    static func batch(_ batch: Jaeger_ApiV2_Batch) -> [UInt8] {
        var writer = Writer()
        writer.field(TType.struct, 1)
        process(batch.process, into: &writer)
        writer.field(TType.list, 2)
        writer.list(TType.struct, count: batch.spans.count)
        for span in batch.spans { self.span(span, into: &writer) }
        writer.stop()
        return writer.bytes
    }

    private static func process(_ process: Jaeger_ApiV2_Process, into writer: inout Writer) {
        writer.field(TType.string, 1)
        writer.binary(Array(process.serviceName.utf8))
        writer.field(TType.list, 2)
        tags(process.tags, into: &writer)
        writer.stop()
    }

    /// The 16-byte trace id as Thrift's (high, low) pair of signed 64-bit integers.
    private static func halves(_ id: Data) -> (high: Int64, low: Int64) {
        let bytes = Array(id)
        let value = { (slice: ArraySlice<UInt8>) in Int64(bitPattern: slice.reduce(0) { $0 << 8 | UInt64($1) }) }
        return bytes.count == 16 ? (value(bytes[0..<8]), value(bytes[8..<16])) : (0, value(bytes[...]))
    }

    private static func span(_ span: Jaeger_ApiV2_Span, into writer: inout Writer) {
        let trace = halves(span.traceID)
        writer.field(TType.i64, 1)
        writer.i64(trace.low)
        writer.field(TType.i64, 2)
        writer.i64(trace.high)
        writer.field(TType.i64, 3)
        writer.i64(halves(span.spanID).low)
        writer.field(TType.i64, 4)
        writer.i64(span.references.first { $0.refType == .childOf }.map { halves($0.spanID).low } ?? 0)
        writer.field(TType.string, 5)
        writer.binary(Array(span.operationName.utf8))
        if !span.references.isEmpty {
            writer.field(TType.list, 6)
            writer.list(TType.struct, count: span.references.count)
            for reference in span.references {
                let referenced = halves(reference.traceID)
                writer.field(TType.i32, 1)
                writer.i32(reference.refType == .childOf ? 0 : 1)
                writer.field(TType.i64, 2)
                writer.i64(referenced.low)
                writer.field(TType.i64, 3)
                writer.i64(referenced.high)
                writer.field(TType.i64, 4)
                writer.i64(halves(reference.spanID).low)
                writer.stop()
            }
        }
        writer.field(TType.i32, 7)
        writer.i32(Int32(bitPattern: span.flags))
        writer.field(TType.i64, 8)
        writer.i64(span.startTime.seconds * 1_000_000 + Int64(span.startTime.nanos / 1000))
        writer.field(TType.i64, 9)
        writer.i64(span.duration.seconds * 1_000_000 + Int64(span.duration.nanos / 1000))
        writer.field(TType.list, 10)
        tags(span.tags, into: &writer)
        if !span.logs.isEmpty {
            writer.field(TType.list, 11)
            writer.list(TType.struct, count: span.logs.count)
            for log in span.logs {
                writer.field(TType.i64, 1)
                writer.i64(log.timestamp.seconds * 1_000_000 + Int64(log.timestamp.nanos / 1000))
                writer.field(TType.list, 2)
                tags(log.fields, into: &writer)
                writer.stop()
            }
        }
        writer.stop()
    }

    private static func tags(_ tags: [Jaeger_ApiV2_KeyValue], into writer: inout Writer) {
        writer.list(TType.struct, count: tags.count)
        for tag in tags {
            writer.field(TType.string, 1)
            writer.binary(Array(tag.key.utf8))
            writer.field(TType.i32, 2)
            switch tag.vType {
            case .bool:
                writer.i32(2)
                writer.field(TType.bool, 5)
                writer.bytes.append(tag.vBool ? 1 : 0)
            case .int64:
                writer.i32(3)
                writer.field(TType.i64, 6)
                writer.i64(tag.vInt64)
            case .float64:
                writer.i32(1)
                writer.field(TType.double, 4)
                writer.integer(tag.vFloat64.bitPattern, size: 8)
            case .binary:
                writer.i32(4)
                writer.field(TType.string, 7)
                writer.binary(tag.vBinary)
            default:
                writer.i32(0)
                writer.field(TType.string, 3)
                writer.binary(Array(tag.vStr.utf8))
            }
            writer.stop()
        }
    }
}
