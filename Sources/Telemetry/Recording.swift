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

/// Appends every received export request to a file as OTLP/JSON, one request per line: the format of the
/// OpenTelemetry Collector's `file` exporter (`{"resourceSpans":[...]}`, `{"resourceMetrics":[...]}`,
/// `{"resourceLogs":[...]}`), so the Collector's `otlpjsonfile` receiver and other tools can read it back.
///
/// Lines are buffered and written in 64 KiB chunks; ``close()`` writes the rest.
package final class RecordingWriter: Sendable {
    private struct State {
        var handle: FileHandle?
        var buffer: [UInt8] = []
        var lines = 0
    }

    /// The file written to.
    package let path: String
    private let state: Mutex<State>
    private static let chunkSize = 64 * 1024

    /// Opens `path` for appending, creating it if needed.
    ///
    /// - Throws: ``RecordingError`` naming the path when it cannot be opened.
    package init(path: String) throws {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw RecordingError(message: "cannot create recording file \(path): check that its folder exists and is writable")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw RecordingError(message: "cannot open recording file \(path) for writing")
        }
        handle.seekToEndOfFile()
        self.state = Mutex(State(handle: handle))
    }

    /// Appends one request as a line of OTLP/JSON.
    package func append(_ request: RecordedRequest) throws {
        var line: [UInt8]
        switch request {
        case .traces(let message): line = try OTLPJSON.encode(message)
        case .metrics(let message): line = try OTLPJSON.encode(message)
        case .logs(let message): line = try OTLPJSON.encode(message)
        }
        line.append(UInt8(ascii: "\n"))
        let full: [UInt8]? = state.withLock { state in
            state.lines += 1
            state.buffer.append(contentsOf: line)
            guard state.buffer.count >= Self.chunkSize else { return nil }
            defer { state.buffer.removeAll(keepingCapacity: true) }
            return state.buffer
        }
        if let full { try write(full) }
    }

    /// Lines appended so far.
    package var lineCount: Int { state.withLock { $0.lines } }

    /// Writes what is buffered and closes the file. Appending after closing throws.
    package func close() throws {
        let rest = state.withLock { state in
            defer { state.buffer.removeAll() }
            return state.buffer
        }
        try write(rest)
        try state.withLock { state in
            try state.handle?.synchronize()
            try state.handle?.close()
            state.handle = nil
        }
    }

    private func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try state.withLock { state in
            guard let handle = state.handle else { throw RecordingError(message: "recording \(path) is already closed") }
            try handle.write(contentsOf: bytes)
        }
    }
}

/// Reads a recording written by ``RecordingWriter`` or by the Collector's `file` exporter.
package enum RecordingReader {
    /// Every request in the file, in order.
    ///
    /// - Throws: ``RecordingError`` naming the file and line of the first line that is not an OTLP/JSON export request.
    package static func read(path: String) throws -> [RecordedRequest] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecordingError(message: "cannot read recording file \(path): it does not exist or is not readable")
        }
        var requests: [RecordedRequest] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let bytes = Array(line)
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0d || $0 == 0x09 }) { continue }
            do {
                requests.append(try decodeLine(bytes))
            } catch {
                throw RecordingError(message: "\(path):\(index + 1): \(error)")
            }
        }
        return requests
    }

    /// Decodes one line, deciding the signal by its top-level key.
    static func decodeLine(_ bytes: [UInt8]) throws -> RecordedRequest {
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        if text.contains("\"resourceSpans\"") || text.contains("\"resource_spans\"") {
            return .traces(try OTLPJSON.decode(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest.self, from: bytes))
        }
        if text.contains("\"resourceMetrics\"") || text.contains("\"resource_metrics\"") {
            return .metrics(try OTLPJSON.decode(Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest.self, from: bytes))
        }
        if text.contains("\"resourceLogs\"") || text.contains("\"resource_logs\"") {
            return .logs(try OTLPJSON.decode(Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.self, from: bytes))
        }
        throw RecordingError(message: "line does not start with resourceSpans, resourceMetrics or resourceLogs")
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
