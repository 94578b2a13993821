import Foundation
package import OTelBenchProtos
package import Scenario
import Synchronization

/// One export request as a recording holds it.
package enum RecordedRequest: Sendable {
    case traces(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest)
    case metrics(Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest)
    case logs(Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest)
}

/// How a recording encodes each request, as the Collector's `file` exporter's `format` setting.
package enum RecordingFormat: String, Sendable, CaseIterable {
    /// OTLP/JSON (`{"resourceSpans":[...]}` and so on): one line per request when uncompressed, otherwise
    /// length-prefixed compressed messages; the JSON says its signal, so every signal shares one file.
    case json
    /// OTLP protobuf (`ExportTraceServiceRequest` and so on, the same bytes as `TracesData`), length-prefixed;
    /// protobuf does not say its signal, so each signal has its own file (`*.traces.binpb` and so on).
    case proto
}

/// Appends every received export request to a recording, in the formats of the OpenTelemetry Collector's
/// `file` exporter, so that the Collector's `otlpjsonfile` receiver and other tools read what otelbench
/// writes, and ``RecordingReader`` reads what the Collector writes.
///
/// The layout by ``RecordingFormat`` and ``RecordingCompression``:
///
/// - `json`, `none` (the default): one file at `path`, one request per line of OTLP/JSON, every signal
///   mixed in arrival order (`{"resourceSpans":[...]}`, `{"resourceMetrics":[...]}`, `{"resourceLogs":[...]}`).
/// - `json`, `gzip` or `zstd`: one file at `path`, every signal mixed; each request is one OTLP/JSON message
///   (no newline), compressed on its own (one gzip member, one zstd frame) and preceded by its length.
/// - `proto`, any compression: one file per signal, `<path>.traces.binpb`, `<path>.metrics.binpb`,
///   `<path>.logs.binpb`, each created with the first request of its signal (as a Collector with one `file`
///   exporter per pipeline writes them); each request is the protobuf `Export*ServiceRequest` (the same bytes
///   as `TracesData`, `MetricsData`, `LogsData`), compressed on its own when asked, preceded by its length.
///
/// "Preceded by its length" means 4 bytes, an unsigned 32-bit big-endian count of the bytes that follow,
/// then those bytes. No entry may exceed 256 MiB, as written or once decompressed.
///
/// Files are opened for appending. Entries are buffered per file and written in 64 KiB chunks; ``close()``
/// writes the rest. Appending from several threads at once is safe; each file keeps the order of its appends.
package final class RecordingWriter: Sendable {
    /// Which file of the recording an entry goes to.
    private enum FileKey: Hashable {
        case single
        case signal(Signal)
    }

    private struct OpenFile {
        var path: String
        var handle: FileHandle
        var buffer: [UInt8] = []
    }

    private struct State {
        var files: [FileKey: OpenFile] = [:]
        var paths: [String] = []
        var requests = 0
        var closed = false
        /// The first write that failed: from then on nothing more is written (the file ends at its last whole
        /// chunk, or is cut there, which the reader says).
        var failure: String?
    }

    /// The path the recording was opened with: the file itself for `json`, the stem of the per-signal files for `proto`.
    package let path: String
    /// How each request is encoded.
    package let format: RecordingFormat
    /// How each request is compressed.
    package let compression: RecordingCompression
    private let zstd: Zstd?
    private let state: Mutex<State>
    private static let chunkSize = 64 * 1024

    /// Opens a recording at `path` for appending.
    ///
    /// For `json` the file at `path` is created (if needed) and opened now; for `proto` each signal's file
    /// (`<path>.traces.binpb` and so on) is created with the first request of that signal.
    ///
    /// - Throws: ``RecordingError`` naming the path when it cannot be opened, or, for zstd, when the zstd
    ///   library cannot be loaded (install libzstd1, or choose gzip).
    package init(path: String, format: RecordingFormat = .json, compression: RecordingCompression = .none) throws {
        self.path = path
        self.format = format
        self.compression = compression
        self.zstd = compression == .zstd ? try Zstd.loaded() : nil
        var state = State()
        if format == .json {
            state.files[.single] = OpenFile(path: path, handle: try Self.open(path))
            state.paths = [path]
        }
        self.state = Mutex(state)
    }

    /// The file that `signal`'s requests go to in a `proto` recording at `path`: `<path>.<signal>.binpb`.
    package static func protoPath(_ path: String, signal: Signal) -> String { "\(path).\(signal.rawValue).binpb" }

    /// Appends one request.
    ///
    /// - Throws: ``RecordingError`` naming the file when it cannot be written, when the recording is closed,
    ///   or when the request is larger than an entry may be (256 MiB).
    package func append(_ request: RecordedRequest) throws {
        let message: [UInt8] =
            switch format {
            case .json: try request.jsonBytes()
            case .proto: try request.protobufBytes()
            }
        try write(message, signal: request.signal)
    }

    /// Appends one `Export…ServiceRequest` of `signal` from its protobuf bytes, which a receiver decoded, without
    /// decoding them again where it can: a `proto` recording holds the bytes as they came; a `json` one the
    /// OTLP/JSON of traces and logs transcoded from them (``OTLPJSONTranscoder``), and that of metrics from
    /// `decoded` (or the bytes decoded). Either way the same bytes as ``append(_:)`` writes for the decoded request,
    /// but for the order of fields sent out of order or twice in a `proto` recording (the same message still).
    ///
    /// - Throws: what ``append(_:)`` throws, and ``ProtobufWireError`` (or swift-protobuf's error) when the bytes are
    ///   not valid protobuf.
    package func appendProtobuf(_ bytes: [UInt8], signal: Signal, decoded: RecordedRequest? = nil) throws {
        let message: [UInt8]
        switch format {
        case .proto: message = bytes
        case .json where OTLPJSONTranscoder.transcodes(signal): message = try OTLPJSONTranscoder.json(bytes, signal: signal)
        case .json:
            message = try (decoded ?? .metrics(try Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest(serializedBytes: bytes))).jsonBytes()
        }
        try write(message, signal: signal)
    }

    /// Compresses one encoded request as the recording is compressed and appends it to its signal's file.
    private func write(_ encoded: [UInt8], signal: Signal) throws {
        let message = try EntryCodec.compress(encoded, with: compression, zstd: zstd)
        let key: FileKey = format == .json ? .single : .signal(signal)
        guard message.count <= EntryCodec.entryLimit else {
            let file = format == .json ? path : Self.protoPath(path, signal: signal)
            throw RecordingError(
                message:
                    "cannot record a \(signal.rawValue) request of \(message.count) bytes to \(file): an entry may hold at most \(EntryCodec.entryLimitText); lower the largest request accepted"
            )
        }
        let lines = format == .json && compression == .none
        try state.withLock { state in
            guard !state.closed else {
                throw RecordingError(message: "recording \(path) is already closed: append before calling close()")
            }
            // After a failed write (a full disk), nothing more: said once, by the append that failed.
            guard state.failure == nil else { return }
            var file: OpenFile
            if let open = state.files.removeValue(forKey: key) {
                file = open
            } else {
                let filePath = Self.protoPath(path, signal: signal)
                file = OpenFile(path: filePath, handle: try Self.open(filePath))
                state.paths.append(filePath)
            }
            defer { state.files[key] = file }
            state.requests += 1
            if lines {
                file.buffer.append(contentsOf: message)
                file.buffer.append(UInt8(ascii: "\n"))
            } else {
                withUnsafeBytes(of: UInt32(message.count).bigEndian) { file.buffer.append(contentsOf: $0) }
                file.buffer.append(contentsOf: message)
            }
            // Written under the lock, so that two full chunks never reach the file out of order.
            if file.buffer.count >= Self.chunkSize {
                do { try Self.flush(&file) } catch {
                    state.failure = "\(error) (after \(state.requests - 1) requests)"
                    throw error
                }
            }
        }
    }

    /// Why the recording stopped, if a write failed: nothing after that was recorded.
    package var failure: String? { state.withLock { $0.failure } }

    /// Requests appended so far, over every file.
    package var requestCount: Int { state.withLock { $0.requests } }

    /// The files written so far, in the order they were created: `[path]` for `json`, the files of the
    /// signals received so far for `proto`.
    package var paths: [String] { state.withLock { $0.paths } }

    /// Writes what is buffered and closes every file. Closing again does nothing; appending after closing throws.
    ///
    /// - Throws: ``RecordingError`` naming the first file that could not be written or closed (the others are
    ///   still written and closed).
    package func close() throws {
        try state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            var firstError: (any Error)?
            for var file in state.files.values.sorted(by: { $0.path < $1.path }) {
                do {
                    try Self.flush(&file)
                    do {
                        try file.handle.synchronize()
                        try file.handle.close()
                    } catch {
                        throw RecordingError(message: "cannot close recording file \(file.path): \(error); the file may be incomplete")
                    }
                } catch {
                    if firstError == nil { firstError = error }
                }
            }
            state.files.removeAll()
            if let firstError { throw firstError }
        }
    }

    /// Writes `file`'s buffer and empties it.
    private static func flush(_ file: inout OpenFile) throws {
        guard !file.buffer.isEmpty else { return }
        defer { file.buffer.removeAll(keepingCapacity: true) }
        do {
            try file.handle.write(contentsOf: file.buffer)
        } catch {
            throw RecordingError(message: "cannot write to recording file \(file.path): \(error); check that its disk has room and that it is writable")
        }
    }

    /// Opens `path` for appending, creating it if needed.
    private static func open(_ path: String) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw RecordingError(message: "cannot create recording file \(path): check that its folder exists and is writable")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw RecordingError(message: "cannot open recording file \(path) for writing: check its permissions")
        }
        do {
            try handle.seekToEnd()
        } catch {
            throw RecordingError(message: "cannot append to recording file \(path): \(error)")
        }
        return handle
    }
}

extension RecordedRequest {
    /// The signal of the request.
    package var signal: Signal {
        switch self {
        case .traces: .traces
        case .metrics: .metrics
        case .logs: .logs
        }
    }

    /// The request as OTLP/JSON; an empty request keeps its top-level key (`{"resourceSpans":[]}` rather
    /// than `{}`), so that the JSON still says its signal. Traces and logs are transcoded from their protobuf
    /// encoding (``OTLPJSONTranscoder``, several times faster than swift-protobuf's JSON encoder and its id rewrite);
    /// the bytes are ``generatedEncoderJSON()``'s either way.
    package func jsonBytes() throws -> [UInt8] {
        switch self {
        case .traces(let message): try OTLPJSONTranscoder.json(try message.serializedBytes() as [UInt8], signal: .traces)
        case .logs(let message): try OTLPJSONTranscoder.json(try message.serializedBytes() as [UInt8], signal: .logs)
        case .metrics: try generatedEncoderJSON()
        }
    }

    /// The request as OTLP/JSON written by swift-protobuf's JSON encoder (``OTLPJSON/encode(_:)``), an empty request
    /// with its top-level key: the reference the transcoder is held to, in the tests and the fuzz targets.
    package func generatedEncoderJSON() throws -> [UInt8] {
        let json =
            switch self {
            case .traces(let message): try OTLPJSON.encode(message)
            case .metrics(let message): try OTLPJSON.encode(message)
            case .logs(let message): try OTLPJSON.encode(message)
            }
        guard json == Array("{}".utf8) else { return json }
        return
            switch self
        {
        case .traces: Array(#"{"resourceSpans":[]}"#.utf8)
        case .metrics: Array(#"{"resourceMetrics":[]}"#.utf8)
        case .logs: Array(#"{"resourceLogs":[]}"#.utf8)
        }
    }

    /// The request as protobuf.
    func protobufBytes() throws -> [UInt8] {
        switch self {
        case .traces(let message): try message.serializedBytes()
        case .metrics(let message): try message.serializedBytes()
        case .logs(let message): try message.serializedBytes()
        }
    }
}

/// A recording file that could not be written or read; the message names the file.
package struct RecordingError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}

extension TelemetryStore {
    /// Stores a recorded request as if it had just arrived, on the ``IntakeChannel/recording`` channel.
    package func replay(_ request: RecordedRequest) {
        let (result, signal): (ConversionResult, Signal) =
            switch request {
            case .traces(let message): (OTLPConversion.traces(message, channel: .recording), .traces)
            case .metrics(let message): (OTLPConversion.metrics(message, channel: .recording), .metrics)
            case .logs(let message): (OTLPConversion.logs(message, channel: .recording), .logs)
            }
        store(result.batch, channel: .recording, signal: signal, rejectedItems: result.rejectedItems, reservedBytes: 0)
    }
}
