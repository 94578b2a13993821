import Foundation
import OTelBenchProtos
import Scenario
import Synchronization
import Testing
import Workload

@testable import Telemetry

/// The recording formats of the Collector's `file` exporter: JSON lines, and length-prefixed JSON or protobuf,
/// each compressed per message or not; and the reader that reads them all, a chunk at a time.
@Suite struct RecordingFormatTests {
    /// Every format with every compression.
    static let layouts: [(RecordingFormat, RecordingCompression)] = RecordingFormat.allCases.flatMap { format in
        RecordingCompression.allCases.map { (format, $0) }
    }

    // MARK: Round trips

    @Test(arguments: RecordingFormat.allCases, RecordingCompression.allCases)
    func everyLayoutRoundTripsEverySignalInOrder(format: RecordingFormat, compression: RecordingCompression) throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("run").path
            var factory = OTLPPayloadFactory(seed: 11)
            let requests: [RecordedRequest] = [
                .traces(factory.traces(spanCount: 3)), .metrics(factory.metrics(seriesCount: 2)), .logs(factory.logs(count: 2)),
                .traces(factory.traces(spanCount: 1)), .logs(factory.logs(count: 1)), .metrics(factory.metrics(seriesCount: 1)),
                .traces(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()),
            ]
            let writer = try RecordingWriter(path: path, format: format, compression: compression)
            for request in requests { try writer.append(request) }
            try writer.close()
            #expect(writer.requestCount == requests.count)
            #expect(writer.requestCount == requests.count)

            switch format {
            case .json:
                #expect(writer.paths == [path])
                let result = try RecordingReader.forEach(path: path) { _ in }
                #expect(result == RecordingReadResult(requestCount: requests.count))
                try expectSame(try RecordingReader.read(path: path), requests)
                let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
                if compression == .none {
                    #expect(bytes.first == UInt8(ascii: "{"))
                    #expect(bytes.filter { $0 == 0x0a }.count == requests.count, "one line per request")
                } else {
                    #expect(entries(bytes).count == requests.count)
                    #expect(entries(bytes).allSatisfy { EntryCodec.detect(bytes[$0.payload]) == Self.detected(compression) })
                }
            case .proto:
                let expectedPaths = [Signal.traces, .metrics, .logs].map { "\(path).\($0.rawValue).binpb" }
                #expect(writer.paths == expectedPaths, "one file per signal, in the order each first arrived")
                #expect(!FileManager.default.fileExists(atPath: path))
                for (signal, file) in zip([Signal.traces, .metrics, .logs], expectedPaths) {
                    let expected = requests.filter { $0.signal == signal }
                    let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
                    #expect(entries(bytes).count == expected.count)
                    if compression != .none {
                        #expect(entries(bytes).allSatisfy { EntryCodec.detect(bytes[$0.payload]) == Self.detected(compression) })
                    }
                    try expectSame(try RecordingReader.read(path: file), expected)
                }
            }
        }
    }

    @Test func protoFilesAreCreatedWithTheirFirstRequest() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("run").path
            var factory = OTLPPayloadFactory(seed: 12)
            let writer = try RecordingWriter(path: path, format: .proto)
            #expect(writer.paths.isEmpty)
            try writer.append(.logs(factory.logs(count: 1)))
            #expect(writer.paths == ["\(path).logs.binpb"])
            #expect(FileManager.default.fileExists(atPath: "\(path).logs.binpb"))
            #expect(!FileManager.default.fileExists(atPath: "\(path).traces.binpb"))
            try writer.close()
            try writer.close()
            #expect(throws: RecordingError.self) { try writer.append(.logs(factory.logs(count: 1))) }
        }
    }

    @Test func appendingToAnExistingRecordingKeepsWhatItHeld() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("run.zst").path
            var factory = OTLPPayloadFactory(seed: 13)
            let first: RecordedRequest = .traces(factory.traces(spanCount: 2))
            let second: RecordedRequest = .logs(factory.logs(count: 2))
            for request in [first, second] {
                let writer = try RecordingWriter(path: path, format: .json, compression: .zstd)
                try writer.append(request)
                try writer.close()
            }
            try expectSame(try RecordingReader.read(path: path), [first, second])
        }
    }

    @Test func protobufInAFileWhoseNameSaysNoSignalIsRefused() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("run").path
            var factory = OTLPPayloadFactory(seed: 14)
            let writer = try RecordingWriter(path: path, format: .proto, compression: .gzip)
            try writer.append(.metrics(factory.metrics(seriesCount: 2)))
            try writer.close()
            let renamed = directory.appendingPathComponent("run.binpb").path
            try FileManager.default.moveItem(atPath: "\(path).metrics.binpb", toPath: renamed)
            #expect {
                try RecordingReader.read(path: renamed)
            } throws: { error in
                let text = "\(error)"
                return text.hasPrefix("\(renamed): entry 1 at byte offset 0") && text.contains("*.traces.binpb")
            }
            // The Collector's own naming, and a signal at the start of the name, are understood.
            #expect(RecordingReader.signal(named: "/data/otel.metrics.binpb") == .metrics)
            #expect(RecordingReader.signal(named: "/data/logs.pb") == .logs)
            #expect(RecordingReader.signal(named: "/data.traces.d/recording") == nil)
        }
    }

    // MARK: Cut and corrupt recordings

    @Test(arguments: RecordingFormat.allCases, RecordingCompression.allCases)
    func aCutRecordingReadsUpToTheCutAndSaysWhere(format: RecordingFormat, compression: RecordingCompression) throws {
        try withDirectory { directory in
            let (bytes, spans, name) = try Self.threeEntryRecording(in: directory, format: format, compression: compression)
            let lines = format == .json && compression == .none
            for (index, span) in spans.enumerated() {
                // Mid-prefix, just after the prefix, mid-message and one byte short (for lines: first byte, middle, last byte).
                let cuts =
                    lines
                    ? [span.start + 1, span.start + span.count / 2, span.end - 2] : [span.start + 2, span.start + 4, span.start + span.count / 2, span.end - 1]
                for cut in cuts {
                    let file = directory.appendingPathComponent("cut-\(index)-\(cut)-\(name)").path
                    try Data(bytes[..<cut]).write(to: URL(fileURLWithPath: file))
                    var seen = 0
                    let result = try RecordingReader.forEach(path: file) { _ in seen += 1 }
                    #expect(seen == index, "cut at byte \(cut) in entry \(index + 1)")
                    #expect(result.requestCount == index)
                    let truncation = try #require(result.truncation, "cut at byte \(cut) in entry \(index + 1) is reported")
                    #expect(truncation.hasPrefix(file))
                    #expect(truncation.contains("byte offset \(cut)"), "\(truncation)")
                    #expect(truncation.contains("\(index) requests read before it"), "\(truncation)")
                    if lines { #expect(truncation.hasPrefix("\(file):\(index + 1):")) }
                    #expect(try RecordingReader.read(path: file).count == index)
                }
                // Cut on the entry's boundary: whole entries, no truncation.
                let file = directory.appendingPathComponent("whole-\(index)-\(name)").path
                try Data(bytes[..<span.start]).write(to: URL(fileURLWithPath: file))
                #expect(try RecordingReader.forEach(path: file) { _ in } == RecordingReadResult(requestCount: index))
            }
            if lines {
                // A last line without its newline that still decodes is a whole request.
                let file = directory.appendingPathComponent("no-newline-\(name)").path
                try Data(bytes.dropLast()).write(to: URL(fileURLWithPath: file))
                #expect(try RecordingReader.forEach(path: file) { _ in } == RecordingReadResult(requestCount: 3))
            }
        }
    }

    @Test(arguments: RecordingFormat.allCases, RecordingCompression.allCases)
    func aCorruptEntryIsAnErrorThatSaysWhere(format: RecordingFormat, compression: RecordingCompression) throws {
        try withDirectory { directory in
            let (bytes, spans, name) = try Self.threeEntryRecording(in: directory, format: format, compression: compression)
            let lines = format == .json && compression == .none
            // The middle entry, and the last (whole, so not a cut).
            for index in [1, 2] {
                var corrupt = bytes
                let span = spans[index]
                // Keep the length prefix and the magic (or the JSON line's `{"`), spoil the rest.
                let first = span.start + (lines ? 2 : 8)
                let last = lines ? span.end - 1 : span.end
                for position in first..<last { corrupt[position] = 0xff }
                let file = directory.appendingPathComponent("corrupt-\(index)-\(name)").path
                try Data(corrupt).write(to: URL(fileURLWithPath: file))
                var seen = 0
                #expect {
                    _ = try RecordingReader.forEach(path: file) { _ in seen += 1 }
                } throws: { error in
                    let text = "\(error)"
                    return error is RecordingError
                        && (lines
                            ? text.hasPrefix("\(file):\(index + 1): ")
                            : text.hasPrefix("\(file): entry \(index + 1) at byte offset \(span.start) "))
                }
                #expect(seen == index, "the entries before the corrupt one were read")
            }
        }
    }

    @Test func aJSONLinesRecordingWithBlankLinesAndCRLFReads() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("crlf.jsonl").path
            try Data("\n  \n{\"resourceSpans\":[]}\r\n\r\n{\"resourceLogs\":[]}\r\n   ".utf8).write(to: URL(fileURLWithPath: path))
            let result = try RecordingReader.forEach(path: path) { _ in }
            #expect(result == RecordingReadResult(requestCount: 2))
            let empty = directory.appendingPathComponent("empty").path
            try Data().write(to: URL(fileURLWithPath: empty))
            #expect(try RecordingReader.forEach(path: empty) { _ in } == RecordingReadResult(requestCount: 0))
        }
    }

    // MARK: Limits

    @Test func anOversizedDeclaredLengthIsRefusedBeforeItIsRead() throws {
        try withDirectory { directory in
            // 0x10000001 is one byte over 256 MiB; 0x7fffffff is 2 GiB. Neither is allocated: the file is 12 bytes.
            for prefix: [UInt8] in [[0x10, 0x00, 0x00, 0x01], [0x7f, 0xff, 0xff, 0xff]] {
                let path = directory.appendingPathComponent("huge.traces.binpb").path
                try Data(prefix + [0x0a, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x0a, 0x00]).write(to: URL(fileURLWithPath: path))
                #expect {
                    try RecordingReader.read(path: path)
                } throws: { error in
                    "\(error)".hasPrefix("\(path): entry 1 at byte offset 0 declares") && "\(error)".contains("256 MiB")
                }
            }
            // Exactly at the limit is allowed, so the same short file is a cut, not an error.
            let path = directory.appendingPathComponent("limit.traces.binpb").path
            try Data([0x10, 0x00, 0x00, 0x00, 0x0a, 0x00]).write(to: URL(fileURLWithPath: path))
            let result = try RecordingReader.forEach(path: path) { _ in }
            #expect(result.truncation?.contains("declares 268435456 bytes but only 2 follow") == true)
            #expect(result.largestBuffer < 2 * RecordingReader.chunkSize)
        }
    }

    @Test func anOversizedDecompressedSizeIsRefusedBeforeItIsInflated() throws {
        try withDirectory { directory in
            var factory = OTLPPayloadFactory(seed: 15)
            let message = try RecordedRequest.traces(factory.traces(spanCount: 1)).protobufBytes()

            // A zstd frame header declaring 1 TiB: magic, single-segment with an 8-byte content size, then a raw block.
            var zstdFrame: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd, 0xe0]
            withUnsafeBytes(of: (UInt64(1) << 40).littleEndian) { zstdFrame.append(contentsOf: $0) }
            zstdFrame += [0x01, 0x00, 0x00]

            // A real gzip member whose ISIZE trailer claims 4 GiB - 16.
            var gzipMember = try EntryCodec.compress(message, with: .gzip, zstd: nil)
            gzipMember.replaceSubrange((gzipMember.count - 4)..., with: [0xf0, 0xff, 0xff, 0xff])

            for (name, frame) in [("zstd", zstdFrame), ("gzip", gzipMember)] {
                let path = directory.appendingPathComponent("\(name).traces.binpb").path
                try Data(Self.prefixed(frame)).write(to: URL(fileURLWithPath: path))
                #expect {
                    try RecordingReader.read(path: path)
                } throws: { error in
                    "\(error)".hasPrefix("\(path): entry 1 at byte offset 0") && "\(error)".contains("over the 256 MiB limit per entry")
                }
            }
        }
    }

    @Test func aGzipMemberCutInsideAWholeEntryIsCaughtByItsTrailer() throws {
        try withDirectory { directory in
            var factory = OTLPPayloadFactory(seed: 16)
            let message = try RecordedRequest.traces(factory.traces(spanCount: 20)).protobufBytes()
            let member = try EntryCodec.compress(message, with: .gzip, zstd: nil)
            // The prefix agrees with the shortened member, so only the gzip trailer can tell.
            let path = directory.appendingPathComponent("short.traces.binpb").path
            try Data(Self.prefixed(Array(member.prefix(member.count / 2)))).write(to: URL(fileURLWithPath: path))
            #expect {
                try RecordingReader.read(path: path)
            } throws: { error in
                "\(error)".hasPrefix("\(path): entry 1 at byte offset 0") && "\(error)".contains("gzip")
            }
        }
    }

    // MARK: Real gzip and zstd

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zstd") && FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip")),
        arguments: RecordingFormat.allCases,
        [RecordingCompression.gzip, .zstd]
    )
    func framesAreWhatTheCommandLineToolsDecompress(format: RecordingFormat, compression: RecordingCompression) throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("one").path
            var factory = OTLPPayloadFactory(seed: 17)
            let request = RecordedRequest.logs(factory.logs(count: 3))
            let writer = try RecordingWriter(path: path, format: format, compression: compression)
            try writer.append(request)
            try writer.close()
            let file = try #require(writer.paths.first)
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
            let length = bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            #expect(length == bytes.count - 4)
            let tool = compression == .zstd ? "/usr/bin/zstd" : "/usr/bin/gzip"
            let decompressed = try Self.run(tool, ["-d", "-c"], input: Array(bytes.dropFirst(4)))
            let expected = try format == .json ? request.jsonBytes() : request.protobufBytes()
            #expect(decompressed == expected)
        }
    }

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zstd") && FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip")),
        arguments: ["/usr/bin/zstd", "/usr/bin/gzip"]
    )
    func framesTheCommandLineToolsWriteAreRead(tool: String) throws {
        try withDirectory { directory in
            var factory = OTLPPayloadFactory(seed: 18)
            let traces = RecordedRequest.traces(factory.traces(spanCount: 4))
            let json = RecordedRequest.metrics(factory.metrics(seriesCount: 3))
            // From a pipe, zstd does not know the size, so its frame does not declare it.
            let protoFrame = try Self.run(tool, ["-c"], input: try traces.protobufBytes())
            let jsonFrame = try Self.run(tool, ["-c"], input: try json.jsonBytes())
            let protoPath = directory.appendingPathComponent("cli.traces.binpb").path
            try Data(Self.prefixed(protoFrame) + Self.prefixed(protoFrame)).write(to: URL(fileURLWithPath: protoPath))
            try expectSame(try RecordingReader.read(path: protoPath), [traces, traces])
            let jsonPath = directory.appendingPathComponent("cli.json").path
            try Data(Self.prefixed(jsonFrame)).write(to: URL(fileURLWithPath: jsonPath))
            try expectSame(try RecordingReader.read(path: jsonPath), [json])
        }
    }

    // MARK: Large recordings

    @Test(arguments: [RecordingFormat.proto, .json])
    func aLargeRecordingIsReadAnEntryAtATime(format: RecordingFormat) throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("large").path
            // One span of few fields and a bytes attribute: a few hundred bytes that decode quickly in a debug
            // build (strings are validated as UTF-8 a scalar at a time there).
            var span = Opentelemetry_Proto_Trace_V1_Span()
            span.traceID = Data(1...16)
            span.spanID = Data(1...8)
            span.name = "GET /tasks"
            span.attributes = [
                .with {
                    $0.key = "payload"
                    $0.value.bytesValue = Data(repeating: 0x5a, count: 320)
                }
            ]
            var traces = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
            traces.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = [span] }] }]
            let request = RecordedRequest.traces(traces)
            // Written as the writer would, without encoding 20,000 requests in a debug build.
            let file = format == .json ? path : "\(path).traces.binpb"
            let entry = try format == .json ? request.jsonBytes() + [0x0a] : Self.prefixed(request.protobufBytes())
            let count = 20_000
            var chunk: [UInt8] = []
            for _ in 0..<1000 { chunk += entry }
            let data = Data(chunk)
            FileManager.default.createFile(atPath: file, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            for _ in 0..<(count / 1000) { try handle.write(contentsOf: data) }
            try handle.close()
            let size = try #require(FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
            #expect(size == entry.count * count)
            #expect(size > 4 * RecordingReader.chunkSize)

            var seen = 0
            var spans = 0
            let result = try RecordingReader.forEach(path: file) { read in
                seen += 1
                if case .traces(let traces) = read { spans += traces.resourceSpans[0].scopeSpans[0].spans.count }
            }
            #expect(result == RecordingReadResult(requestCount: count))
            #expect(seen == count)
            #expect(spans == count)
            // Never more than a chunk and an entry held at once, however long the file.
            // (A chunk appended to a partial entry can double the buffer's capacity once.)
            #expect(result.largestBuffer <= 3 * RecordingReader.chunkSize, "held \(result.largestBuffer) bytes of a \(size)-byte file")
        }
    }

    @Test(arguments: [(RecordingFormat.json, RecordingCompression.none), (.proto, .zstd), (.json, .gzip)])
    func anEntryLargerThanAChunkIsReadWhole(format: RecordingFormat, compression: RecordingCompression) throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("big").path
            var span = Opentelemetry_Proto_Trace_V1_Span()
            span.traceID = Data(1...16)
            span.spanID = Data(1...8)
            span.attributes = [
                .with {
                    $0.key = "payload"
                    $0.value.bytesValue = Data((0..<(3 * RecordingReader.chunkSize)).map { UInt8(truncatingIfNeeded: $0 * 7) })
                }
            ]
            var traces = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
            traces.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = [span] }] }]
            var factory = OTLPPayloadFactory(seed: 21)
            let requests: [RecordedRequest] = [.traces(factory.traces(spanCount: 1)), .traces(traces), .traces(factory.traces(spanCount: 2))]
            let writer = try RecordingWriter(path: path, format: format, compression: compression)
            for request in requests { try writer.append(request) }
            try writer.close()
            let file = try #require(writer.paths.first)
            var read: [RecordedRequest] = []
            let result = try RecordingReader.forEach(path: file) { read.append($0) }
            #expect(result == RecordingReadResult(requestCount: 3))
            try expectSame(read, requests)
        }
    }

    @Test func appendsFromManyThreadsAreAllRecorded() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("threads").path
            let writer = try RecordingWriter(path: path, format: .proto, compression: .gzip)
            let failures = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                var factory = OTLPPayloadFactory(seed: UInt64(thread + 1))
                for index in 0..<40 {
                    let request: RecordedRequest = index % 2 == 0 ? .traces(factory.traces(spanCount: 20)) : .logs(factory.logs(count: 5))
                    do { try writer.append(request) } catch { failures.withLock { $0 += 1 } }
                }
            }
            try writer.close()
            #expect(failures.withLock { $0 } == 0)
            #expect(writer.requestCount == 320)
            #expect(try RecordingReader.read(path: "\(path).traces.binpb").count == 160)
            #expect(try RecordingReader.read(path: "\(path).logs.binpb").count == 160)
        }
    }

    // MARK: Helpers

    /// Writes three requests (for `proto`, all traces; for `json`, one of each signal) and returns the file's
    /// bytes, each entry's byte range (`start` at its length prefix or the start of its line, `end` past its
    /// newline or last byte), and a file name that keeps the signal (for protobuf).
    private static func threeEntryRecording(
        in directory: URL,
        format: RecordingFormat,
        compression: RecordingCompression
    ) throws -> ([UInt8], [(start: Int, end: Int, count: Int)], String) {
        var factory = OTLPPayloadFactory(seed: 20)
        let requests: [RecordedRequest] =
            format == .proto
            ? [.traces(factory.traces(spanCount: 2)), .traces(factory.traces(spanCount: 3)), .traces(factory.traces(spanCount: 2))]
            : [.traces(factory.traces(spanCount: 2)), .metrics(factory.metrics(seriesCount: 3)), .logs(factory.logs(count: 2))]
        let path = directory.appendingPathComponent("three-\(format)-\(compression)").path
        let writer = try RecordingWriter(path: path, format: format, compression: compression)
        for request in requests { try writer.append(request) }
        try writer.close()
        let file = try #require(writer.paths.first)
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
        var spans: [(start: Int, end: Int, count: Int)] = []
        if format == .json, compression == .none {
            var start = 0
            for (index, byte) in bytes.enumerated() where byte == 0x0a {
                spans.append((start, index + 1, index + 1 - start))
                start = index + 1
            }
        } else {
            spans = entries(bytes).map { ($0.start, $0.payload.upperBound, $0.payload.upperBound - $0.start) }
        }
        #expect(spans.count == 3)
        return (bytes, spans, URL(fileURLWithPath: file).lastPathComponent)
    }

    private static func detected(_ compression: RecordingCompression) -> EntryCodec.Detected {
        switch compression {
        case .none: .plain
        case .gzip: .gzip
        case .zstd: .zstd
        }
    }

    private static func prefixed(_ bytes: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { Array($0) } + bytes
    }

    /// Runs `tool` with `input` on its standard input and returns its standard output.
    private static func run(_ tool: String, _ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Small inputs and outputs: both fit the pipes' buffers, so writing all before reading cannot block.
        try stdin.fileHandleForWriting.write(contentsOf: input)
        try stdin.fileHandleForWriting.close()
        let output = try stdout.fileHandleForReading.readToEnd() ?? Data()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(tool) \(arguments.joined(separator: " "))")
        return Array(output)
    }
}

/// The length-prefixed entries of a file: where each starts (its prefix) and its payload's range.
private func entries(_ bytes: [UInt8]) -> [(start: Int, payload: Range<Int>)] {
    var result: [(start: Int, payload: Range<Int>)] = []
    var offset = 0
    while offset + 4 <= bytes.count {
        let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
        result.append((offset, (offset + 4)..<(offset + 4 + length)))
        offset += 4 + length
    }
    return result
}

/// Whether two lists of requests hold the same requests, signal by signal, in the same order.
private func expectSame(_ read: [RecordedRequest], _ expected: [RecordedRequest], sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(read.count == expected.count, sourceLocation: sourceLocation)
    for (index, (got, want)) in zip(read, expected).enumerated() {
        let same =
            switch (got, want) {
            case (.traces(let got), .traces(let want)): got == want
            case (.metrics(let got), .metrics(let want)): got == want
            case (.logs(let got), .logs(let want)): got == want
            default: false
            }
        #expect(same, "request \(index + 1) read back differs: \(got) != \(want)", sourceLocation: sourceLocation)
    }
}

/// Runs `body` with a fresh temporary directory, removed afterwards.
private func withDirectory(_ body: (URL) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recording-formats-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try body(directory)
}
