import Foundation
import OTelBenchProtos
import Scenario

/// What reading a recording found: how many requests it held, and whether it was cut short.
package struct RecordingReadResult: Sendable, Equatable {
    /// Results are equal when they read as many requests and say the same of a cut.
    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.requestCount == rhs.requestCount && lhs.truncation == rhs.truncation }

    /// The requests read (each handed to the reader's body), in file order.
    package var requestCount: Int
    /// Where the file ends in the middle of an entry, when it does (a recording cut by a crash or a full
    /// disk), with how many requests were read before the cut; nil when the file ends on an entry boundary.
    package var truncation: String?
    /// The most bytes the reader held at once (its read buffer): a chunk, or the largest entry plus a chunk.
    var largestBuffer = 0

    /// Whether the file ends in the middle of an entry.
    package var isTruncated: Bool { truncation != nil }

    package init(requestCount: Int, truncation: String? = nil) {
        self.requestCount = requestCount
        self.truncation = truncation
    }
}

/// Reads a recording written by ``RecordingWriter`` or by the Collector's `file` exporter, in any of their
/// formats (see ``RecordingWriter``), one entry at a time and in constant memory.
///
/// The format is read from the content: a file whose first byte other than whitespace is `{` is JSON lines;
/// any other is length-prefixed entries, each a zstd frame (28 B5 2F FD), a gzip member (1F 8B) or plain.
/// Plain or decompressed bytes that start with `{` are OTLP/JSON; others are protobuf, whose signal is
/// taken from the file's name (`.traces.`, `.metrics.` or `.logs.` in its last path component).
package enum RecordingReader {
    /// How much of the file is read at a time.
    static let chunkSize = 1 << 20

    /// Every request in the file, in order; a recording cut mid-entry gives the requests before the cut.
    ///
    /// This holds every request in memory; ``forEach(path:_:)`` does not, and says where a cut recording ends.
    ///
    /// - Throws: ``RecordingError`` as ``forEach(path:_:)`` does.
    package static func read(path: String) throws -> [RecordedRequest] {
        var requests: [RecordedRequest] = []
        _ = try forEach(path: path) { requests.append($0) }
        return requests
    }

    /// Hands every request in the file to `body`, in order, holding one entry (and one 1 MiB chunk of the
    /// file) at a time.
    ///
    /// A file that ends in the middle of an entry (a last line with no newline that does not decode, a length
    /// prefix with fewer bytes after it than it declares) is not an error: the entries before the cut are
    /// read and ``RecordingReadResult/truncation`` says where the cut is.
    ///
    /// - Throws: ``RecordingError`` naming the file, and the line or the entry and its byte offset, of the first
    ///   entry that is corrupt (anything but a cut last entry), larger than 256 MiB (as stored or decompressed), or protobuf
    ///   in a file whose name does not say its signal; or when the file cannot be read. Errors `body` throws
    ///   are passed on as they are.
    package static func forEach(path: String, _ body: (RecordedRequest) throws -> Void) throws -> RecordingReadResult {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw RecordingError(message: "cannot read recording file \(path): it does not exist or is not readable")
        }
        defer { try? handle.close() }
        var input = try ChunkedInput(handle: handle, path: path)
        var result: RecordingReadResult
        switch try input.firstNonWhitespace() {
        case nil: result = RecordingReadResult(requestCount: 0)
        case UInt8(ascii: "{"): result = try readLines(&input, path: path, body)
        default: result = try readEntries(&input, path: path, body)
        }
        result.largestBuffer = input.largestBuffer
        return result
    }

    /// JSON lines: one OTLP/JSON request per line; blank lines are skipped.
    private static func readLines(
        _ input: inout ChunkedInput,
        path: String,
        _ body: (RecordedRequest) throws -> Void
    ) throws -> RecordingReadResult {
        let signal = signal(named: path)
        var count = 0
        var line = 0
        // Bytes after the read position already searched for a newline.
        var searched = 0
        while true {
            if let newline = input.firstNewline(after: searched) {
                line += 1
                let bytes = input.bytes[input.start..<newline]
                if !isBlank(bytes) {
                    let request: RecordedRequest
                    do {
                        request = try decodeLine(bytes, signal: signal)
                    } catch {
                        throw RecordingError(message: "\(path):\(line): \(error)")
                    }
                    try body(request)
                    count += 1
                }
                input.consume(newline + 1 - input.start)
                searched = 0
                continue
            }
            searched = input.available
            guard searched <= EntryCodec.entryLimit else {
                throw RecordingError(
                    message:
                        "\(path):\(line + 1): line is longer than the \(EntryCodec.entryLimitText) limit per entry without a newline: the file is corrupt or not a JSON-lines recording"
                )
            }
            if try input.readChunk() { continue }
            // The end of the file: a last line without a newline is a request if it decodes, the cut otherwise.
            let rest = input.bytes[input.start...]
            if isBlank(rest) { return RecordingReadResult(requestCount: count) }
            line += 1
            let request: RecordedRequest
            do {
                request = try decodeLine(rest, signal: signal)
            } catch {
                return RecordingReadResult(
                    requestCount: count,
                    truncation:
                        "\(path):\(line): the recording ends mid-line at byte offset \(input.offset + rest.count): the last line (from byte offset \(input.offset)) has no newline and is not a whole OTLP/JSON request; \(count) requests read before it"
                )
            }
            try body(request)
            return RecordingReadResult(requestCount: count + 1)
        }
    }

    /// Length-prefixed entries: 4 bytes of big-endian length, then that many bytes.
    private static func readEntries(
        _ input: inout ChunkedInput,
        path: String,
        _ body: (RecordedRequest) throws -> Void
    ) throws -> RecordingReadResult {
        let signal = signal(named: path)
        var count = 0
        var entry = 0
        while true {
            guard try input.ensure(1) else { return RecordingReadResult(requestCount: count) }
            entry += 1
            let entryOffset = input.offset
            guard try input.ensure(4) else {
                return RecordingReadResult(
                    requestCount: count,
                    truncation:
                        "\(path): the recording ends mid-entry at byte offset \(entryOffset + input.available): entry \(entry) (at byte offset \(entryOffset)) has only \(input.available) of the 4 bytes of its length prefix; \(count) requests read before it"
                )
            }
            let length = input.bytes[input.start..<(input.start + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard length <= EntryCodec.entryLimit else {
                throw RecordingError(
                    message:
                        "\(path): entry \(entry) at byte offset \(entryOffset) declares \(length) bytes, over the \(EntryCodec.entryLimitText) limit per entry: the file is corrupt, or is not a recording (JSON lines start with `{`, other recordings with a 4-byte big-endian length)"
                )
            }
            guard try input.ensure(4 + length) else {
                let present = input.available - 4
                let kind = EntryCodec.detect(input.bytes[(input.start + 4)...]).frameName
                return RecordingReadResult(
                    requestCount: count,
                    truncation:
                        "\(path): the recording ends mid-entry at byte offset \(entryOffset + input.available): entry \(entry) (at byte offset \(entryOffset)) declares \(length) bytes but only \(present) follow (a cut \(kind)); \(count) requests read before it"
                )
            }
            let payload = input.bytes[(input.start + 4)..<(input.start + 4 + length)]
            let request: RecordedRequest
            do {
                request = try decodeEntry(payload, signal: signal, path: path)
            } catch {
                throw RecordingError(message: "\(path): entry \(entry) at byte offset \(entryOffset) (\(length) bytes): \(error)")
            }
            input.consume(4 + length)
            try body(request)
            count += 1
        }
    }

    /// One length-prefixed entry: decompressed if it is compressed, then OTLP/JSON or protobuf of `signal`.
    private static func decodeEntry(_ payload: ArraySlice<UInt8>, signal: Signal?, path: String) throws -> RecordedRequest {
        let kind = EntryCodec.detect(payload)
        let message = kind == .plain ? payload : try EntryCodec.decompress(payload)[...]
        if message.first == UInt8(ascii: "{") { return try decodeLine(message, signal: signal) }
        guard let signal else {
            let name = URL(fileURLWithPath: path).lastPathComponent
            throw RecordingError(
                message:
                    "it is protobuf\(kind == .plain ? "" : " (in a \(kind.frameName))"), which does not say its signal, and the file's name \(name) does not either: name the file *.traces.binpb, *.metrics.binpb or *.logs.binpb, as otelbench and a Collector with one file exporter per pipeline write them"
            )
        }
        let bytes = Array(message)
        do {
            switch signal {
            case .traces: return .traces(try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: bytes))
            case .metrics: return .metrics(try Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest(serializedBytes: bytes))
            case .logs: return .logs(try Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest(serializedBytes: bytes))
            }
        } catch {
            throw RecordingError(message: "it is not a protobuf \(signal.rawValue) export request (\(error)), as the file's name says it is")
        }
    }

    /// The signal a file's name gives its protobuf entries: `.traces.`, `.metrics.` or `.logs.` in its last
    /// path component (or at its start, as in `traces.binpb`); the one nearest the end when there are several.
    static func signal(named path: String) -> Signal? {
        let name = "." + URL(fileURLWithPath: path).lastPathComponent
        return Signal.allCases.compactMap { signal in name.range(of: ".\(signal.rawValue).", options: .backwards).map { (signal, $0.lowerBound) } }
            .max { $0.1 < $1.1 }?.0
    }

    /// Whether a line holds only spaces, tabs and carriage returns.
    private static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x0d || $0 == 0x09 || $0 == 0x0a }
    }

    /// Decodes one OTLP/JSON request, deciding the signal by its top-level key, or, for JSON without one
    /// (`{}`, an empty request), by `signal` (the file's name's) when there is one.
    static func decodeLine(_ bytes: ArraySlice<UInt8>, signal: Signal? = nil) throws -> RecordedRequest {
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        let keyed: Signal? =
            if text.contains("\"resourceSpans\"") || text.contains("\"resource_spans\"") {
                .traces
            } else if text.contains("\"resourceMetrics\"") || text.contains("\"resource_metrics\"") {
                .metrics
            } else if text.contains("\"resourceLogs\"") || text.contains("\"resource_logs\"") {
                .logs
            } else {
                nil
            }
        guard let decided = keyed ?? signal else {
            throw RecordingError(message: "the JSON does not start with resourceSpans, resourceMetrics or resourceLogs")
        }
        do {
            switch decided {
            case .traces: return .traces(try OTLPJSON.decode(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest.self, from: bytes))
            case .metrics: return .metrics(try OTLPJSON.decode(Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest.self, from: bytes))
            case .logs: return .logs(try OTLPJSON.decode(Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.self, from: bytes))
            }
        } catch let error as OTLPJSONError {
            throw error
        } catch {
            throw RecordingError(message: "it is not a valid OTLP/JSON \(decided.rawValue) export request (\(error))")
        }
    }

    /// Decodes one OTLP/JSON request, deciding the signal by its top-level key.
    static func decodeLine(_ bytes: [UInt8]) throws -> RecordedRequest { try decodeLine(bytes[...]) }
}

/// A file read a chunk at a time: the bytes not yet consumed are `bytes[start...]`, the first at `offset`.
private struct ChunkedInput {
    let handle: FileHandle
    let path: String
    private(set) var bytes: [UInt8] = []
    private(set) var start = 0
    /// The file offset of `bytes[start]`.
    private(set) var offset = 0
    private(set) var atEnd = false
    private(set) var largestBuffer = 0

    /// The file's size when it was opened (it may grow while it is read: only reservations use this).
    private let fileSize: Int

    init(handle: FileHandle, path: String) throws {
        self.handle = handle
        self.path = path
        do {
            fileSize = Int(try handle.seekToEnd())
            try handle.seek(toOffset: 0)
        } catch {
            throw RecordingError(message: "cannot read recording file \(path): \(error)")
        }
    }

    /// Bytes read and not consumed.
    var available: Int { bytes.count - start }

    /// Reads one more chunk after dropping the consumed bytes; false at the end of the file.
    mutating func readChunk() throws -> Bool {
        guard !atEnd else { return false }
        if start > 0 {
            bytes.removeSubrange(0..<start)
            start = 0
        }
        let chunk: Data?
        do {
            chunk = try handle.read(upToCount: RecordingReader.chunkSize)
        } catch {
            throw RecordingError(message: "cannot read recording file \(path) at byte offset \(offset + available): \(error)")
        }
        guard let chunk, !chunk.isEmpty else {
            atEnd = true
            return false
        }
        chunk.withUnsafeBytes { bytes.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
        largestBuffer = max(largestBuffer, bytes.capacity)
        return true
    }

    /// Reads until at least `count` bytes are available; false if the file ends first.
    mutating func ensure(_ count: Int) throws -> Bool {
        if count > RecordingReader.chunkSize, count > available {
            // One allocation for a large entry rather than a doubling per chunk; no larger than what the file
            // still holds, so that a length prefix alone cannot make the reader allocate.
            let unread = max(0, fileSize - (offset + available))
            let needed = available + min(count - available, unread) + RecordingReader.chunkSize
            if bytes.capacity - start < needed {
                bytes.removeSubrange(0..<start)
                start = 0
                bytes.reserveCapacity(needed)
            }
        }
        while available < count {
            guard try readChunk() else { return false }
        }
        return true
    }

    /// Moves the read position `count` bytes on.
    mutating func consume(_ count: Int) {
        start += count
        offset += count
    }

    /// The first byte other than whitespace, without consuming anything; nil if there is none.
    mutating func firstNonWhitespace() throws -> UInt8? {
        var index = start
        while true {
            while index < bytes.count {
                if ![0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { return bytes[index] }
                index += 1
            }
            let consumedBefore = start
            guard try readChunk() else { return nil }
            index -= consumedBefore
        }
    }

    /// The index in `bytes` of the first newline at least `skip` bytes after the read position.
    func firstNewline(after skip: Int) -> Int? {
        bytes.withUnsafeBufferPointer { buffer in
            let from = start + skip
            guard from < buffer.count, let base = buffer.baseAddress else { return nil }
            guard let found = memchr(base + from, 0x0a, buffer.count - from) else { return nil }
            return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
        }
    }
}
