import Foundation
import OTelBenchProtos
import PromQLSyntax
import SwiftProtobuf
import Synchronization
import Telemetry
import TestSupport
import Testing
import Workload

@testable import Intake

/// ``RemoteWriteWireDecoder`` against `Prometheus_WriteRequest(serializedBytes:)`, and ``RemoteWriteLedger`` against
/// the ledger it replaced (generated messages, keyed by the label messages; kept below as ``ReferenceLedger``): for
/// every input both decode the same series, labels, samples and metadata names, or both refuse the bytes; and
/// for every sequence of requests both answer with the same refusal or store the same batch.
@Suite struct RemoteWriteWireDecoderTests {
    // MARK: Bodies of the real Python exporter

    @Test func pythonExporterBodiesDecodeAsTheGeneratedCodeDoes() async throws {
        let python = try requirePeer(".venv-remote-write/bin/python")
        let script = repositoryRoot.appendingPathComponent("Tests/Interop/remote_write_capture.py").path
        let bodies = try await withTemporaryDirectory { directory in
            let outcome = try await runToCompletion(python, [script, directory.path], timeout: .seconds(60))
            #expect(outcome.status == 0, "\(outcome.output)")
            var bodies: [[UInt8]] = []
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where name.hasSuffix(".snappy") {
                let compressed = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
                bodies.append(try SnappyBlock.decode(compressed, limit: 1 << 24))
            }
            return bodies
        }
        #expect(bodies.count >= 3)
        var series = 0
        for body in bodies {
            let outcome = try #require(expectEquivalent(body, "Python exporter body"))
            series += outcome.series
        }
        #expect(series > 100, "the exporter's bodies hold series")
        // The same bodies through both ledgers, in order, then again (every sample a re-send).
        try expectSameAnswers(bodies + bodies, "Python exporter bodies")
        // The same bodies, broken.
        var random = SeededRandom(seed: 11)
        var counts = OutcomeCounts()
        for body in bodies {
            for _ in 0..<100 { counts.add(expectEquivalent(ProtobufMutations.mutated(body, &random), "mutated Python exporter body")) }
        }
        #expect(counts.decoded > 20 && counts.refused > 100, "\(counts)")
    }

    // MARK: Random requests and bytes

    @Test func randomRequestsDecodeAsTheGeneratedCodeDoes() throws {
        var random = SeededRandom(seed: 2024)
        var counts = OutcomeCounts()
        for _ in 0..<1500 {
            let bytes: [UInt8] = try randomRequest(&random, unknownFields: true).serializedBytes()
            counts.add(expectEquivalent(bytes, "random request"))
        }
        #expect(counts.decoded == 1500, "generated requests are valid protobuf: \(counts)")
    }

    @Test func mutatedBytesDecodeOrFailAsTheGeneratedCodeDoes() throws {
        var random = SeededRandom(seed: 99)
        var counts = OutcomeCounts()
        for _ in 0..<500 {
            let bytes: [UInt8] = try randomRequest(&random, unknownFields: true).serializedBytes()
            for _ in 0..<8 { counts.add(expectEquivalent(ProtobufMutations.mutated(bytes, &random), "mutated request")) }
        }
        #expect(counts.decoded > 500 && counts.refused > 500, "\(counts)")
    }

    @Test func randomBytesDecodeOrFailAsTheGeneratedCodeDoes() {
        var random = SeededRandom(seed: 5)
        var counts = OutcomeCounts()
        // Biased towards the tags and lengths of the request's fields.
        let alphabet: [UInt8] = [0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x08, 0x09, 0x10, 0x11, 0x0b, 0x0c, 0x00, 0x01, 0x02, 0x03, 0x80, 0xff, 0x7f, 0xc3]
        for _ in 0..<5000 {
            let length = random.below(64)
            let bytes = (0..<length).map { _ in random.chance(0.6) ? alphabet[random.below(alphabet.count)] : UInt8(random.below(256)) }
            counts.add(expectEquivalent(bytes, "random bytes"))
        }
        #expect(counts.decoded > 100 && counts.refused > 1000, "\(counts)")
    }

    @Test func nestingIsLimitedAsTheGeneratedCodeLimitsIt() throws {
        // WriteRequest > TimeSeries > Exemplar > Label, then groups in an unknown field of the label.
        for groups in [90, 95, 96, 97, 98, 120] {
            var unknown: [UInt8] = []
            for _ in 0..<groups { unknown += [0xfb, 0x07] }  // start group 127
            for _ in 0..<groups { unknown += [0xfc, 0x07] }  // end group 127
            let label = Wire.field(1, Array("a".utf8)) + Wire.field(2, Array("b".utf8)) + unknown
            let outcome = expectEquivalent(Wire.field(1, Wire.field(3, Wire.field(1, label))), "\(groups) nested groups")
            #expect((outcome != nil) == (groups <= 96), "request, series, exemplar, label and 96 groups make 100")
        }
    }

    @Test func invalidUTF8IsRefusedWhereverTheStringIs() {
        let bad: [UInt8] = [0x61, 0xc3, 0x28]
        let cases: [(String, [UInt8])] = [
            ("label name", Wire.field(1, Wire.field(1, Wire.field(1, bad)))),
            ("label value", Wire.field(1, Wire.field(1, Wire.field(2, bad)))),
            ("exemplar label", Wire.field(1, Wire.field(3, Wire.field(1, Wire.field(2, bad))))),
            ("metadata help", Wire.field(3, Wire.field(4, bad))),
            ("metadata unit", Wire.field(3, Wire.field(5, bad))),
        ]
        for (name, bytes) in cases {
            #expect(expectEquivalent(bytes, name) == nil, "\(name)")
            #expect(throws: ProtobufWireError(.invalidUTF8, at: bytes.count - bad.count - 1)) { try RemoteWriteWireDecoder.decode(bytes) }
        }
        // A string field sent with another wire type is an unknown field: not checked, not kept.
        #expect(expectEquivalent(Wire.field(1, Wire.field(1, Wire.varintField(1, 7))), "label name as a varint")?.series == 1)
    }

    // MARK: The ledger

    @Test func randomRequestSequencesAreAnsweredAsTheGeneratedPathAnswersThem() throws {
        var random = SeededRandom(seed: 7)
        var answers: [String?] = []
        for _ in 0..<60 {
            var bodies: [[UInt8]] = []
            for _ in 0..<random.below(12) + 1 { bodies.append(try ledgerRequest(&random).serializedBytes()) }
            answers += try expectSameAnswers(bodies, "random sequence")
        }
        // Every kind of answer came up.
        let refusals = answers.compactMap { $0 }
        #expect(answers.count - refusals.count > 100, "accepted requests")
        for phrase in [
            "out of order sample", "duplicate sample for timestamp", "out of bounds", "labels are not sorted", "metric name \"bad.name\"", "metric family name",
        ] {
            #expect(refusals.contains { $0.contains(phrase) }, "no refusal with \(phrase)")
        }
    }

    @Test func canonicallyEquivalentValuesAreOneSeries() throws {
        // "é" as one code point and as e + accent; K and the Kelvin sign: equal strings, so one series in the store.
        for (first, second) in [("caf\u{e9}", "cafe\u{301}"), ("K", "\u{212A}")] {
            let bodies: [[UInt8]] = try [
                request([remoteWriteSeries([("__name__", "m"), ("v", first)], samples: [(2_000, 1)])]).serializedBytes(),
                request([remoteWriteSeries([("__name__", "m"), ("v", second)], samples: [(1_000, 1)])]).serializedBytes(),
                request([remoteWriteSeries([("__name__", "m"), ("v", second)], samples: [(2_000, 1), (3_000, 2)])]).serializedBytes(),
            ]
            let answers = try expectSameAnswers(bodies, "\(first) and \(second)")
            #expect(answers[1]?.contains("out of order sample") == true, "\(answers)")
        }
    }

    @Test func aRefusedRequestChangesNothing() throws {
        let ledger = RemoteWriteLedger()
        let bad: [UInt8] = try request([
            remoteWriteSeries([("__name__", "new")], samples: [(5_000, 1)]),
            remoteWriteSeries([("__name__", "old")], samples: [(9_000, 1)]),
            remoteWriteSeries([("__name__", "new")], samples: [(4_000, 1)]),
        ]).serializedBytes()
        let good: [UInt8] = try request([remoteWriteSeries([("__name__", "old")], samples: [(1_000, 1)])]).serializedBytes()
        var stored: [Batch] = []
        try ledger.apply(RemoteWriteWireDecoder.decode(good)) { stored.append($0) }
        #expect(throws: RemoteWriteViolation.self) { try ledger.apply(RemoteWriteWireDecoder.decode(bad)) { stored.append($0) } }
        // Neither the new series nor the later sample of the known one was kept: both are accepted now.
        let next: [UInt8] = try request([
            remoteWriteSeries([("__name__", "new")], samples: [(1_000, 1)]),
            remoteWriteSeries([("__name__", "old")], samples: [(2_000, 1)]),
        ]).serializedBytes()
        try ledger.apply(RemoteWriteWireDecoder.decode(next)) { stored.append($0) }
        #expect(stored.count == 2 && stored[1].series.map(\.name) == ["new", "old"])
    }

    @Test func unknownFieldsOfALabelDoNotMakeAnotherSeries() throws {
        // The reference keyed series by their label messages, unknown fields included; Prometheus and the store
        // know a series by its names and values only, and so does the ledger now.
        let plain = Wire.field(1, Wire.field(1, Array("__name__".utf8)) + Wire.field(2, Array("m".utf8)))
        let withUnknown = Wire.field(1, Wire.field(1, Array("__name__".utf8)) + Wire.field(2, Array("m".utf8)) + Wire.varintField(9, 1))
        let sample = { (millis: UInt64) in Wire.field(2, Wire.varintField(2, millis)) }
        let ledger = RemoteWriteLedger()
        try ledger.apply(RemoteWriteWireDecoder.decode(Wire.field(1, plain + sample(2_000)))) { _ in }
        #expect(throws: RemoteWriteViolation.self) { try ledger.apply(RemoteWriteWireDecoder.decode(Wire.field(1, withUnknown + sample(1_000)))) { _ in } }
    }

    // MARK: Comparing

    private struct Outcome {
        var series: Int
    }

    private struct OutcomeCounts: CustomStringConvertible {
        var decoded = 0
        var refused = 0
        mutating func add(_ outcome: Outcome?) { if outcome == nil { refused += 1 } else { decoded += 1 } }
        var description: String { "\(decoded) decoded, \(refused) refused" }
    }

    /// Decodes `bytes` both ways and expects the same: the outcome, or `nil` when both refuse them.
    @discardableResult
    private func expectEquivalent(_ bytes: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) -> Outcome? {
        let generated = try? Prometheus_WriteRequest(serializedBytes: bytes)
        let wire = try? RemoteWriteWireDecoder.decode(bytes)
        guard let generated, let wire else {
            #expect(
                generated == nil && wire == nil,
                "\(what): generated \(generated == nil ? "refuses" : "decodes"), wire \(wire == nil ? "refuses" : "decodes"): \(hex(bytes))",
                sourceLocation: sourceLocation
            )
            return nil
        }
        #expect(Self.summary(generated) == Self.summary(wire), "\(what): \(hex(bytes))", sourceLocation: sourceLocation)
        return Outcome(series: generated.timeseries.count)
    }

    /// Every series' labels (as bytes) and samples (value bits), then the metadata names.
    private static func summary(_ request: Prometheus_WriteRequest) -> [String] {
        request.timeseries.map { series in
            series.labels.map { "\(Array($0.name.utf8))=\(Array($0.value.utf8))" }.joined(separator: ",") + " "
                + series.samples.map { "\($0.timestamp):\($0.value.bitPattern)" }.joined(separator: ",")
        } + request.metadata.map { "metadata \(Array($0.metricFamilyName.utf8))" }
    }

    private static func summary(_ request: RemoteWriteRequest) -> [String] {
        request.series.map { series in
            request.labels[series.labels].map { "\(Array(request.body[$0.name]))=\(Array(request.body[$0.value]))" }.joined(separator: ",") + " "
                + request.samples[series.samples].map { "\($0.timestamp):\($0.value.bitPattern)" }.joined(separator: ",")
        } + request.metadataNames.map { "metadata \(Array(request.body[$0]))" }
    }

    /// Sends `bodies` in order through the reference ledger and the ledger, expecting the same refusal (message
    /// for message) or the same batch stored, request by request. Returns each request's refusal, if any.
    @discardableResult
    private func expectSameAnswers(_ bodies: [[UInt8]], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String?] {
        let reference = ReferenceLedger()
        let ledger = RemoteWriteLedger()
        var answers: [String?] = []
        for (index, body) in bodies.enumerated() {
            let generated = try Prometheus_WriteRequest(serializedBytes: body)
            let decoded = try RemoteWriteWireDecoder.decode(body)
            var expectedBatch: Batch?
            var expected: String?
            do throws(RemoteWriteViolation) {
                try reference.apply(generated) { expectedBatch = $0 }
            } catch {
                expected = error.message
            }
            var actualBatch: Batch?
            var actual: String?
            do throws(RemoteWriteViolation) {
                try ledger.apply(decoded) { actualBatch = $0 }
            } catch {
                actual = error.message
            }
            #expect(actual == expected, "\(what), request \(index)", sourceLocation: sourceLocation)
            #expect(Self.summary(actualBatch) == Self.summary(expectedBatch), "\(what), request \(index)", sourceLocation: sourceLocation)
            answers.append(actual)
        }
        return answers
    }

    /// The batch's series in order: key, kind, channel and points (value bits, so NaNs compare).
    private static func summary(_ batch: Batch?) -> [String] {
        guard let batch else { return ["no batch"] }
        return batch.series.map { series in
            let points = series.points.map { point -> String in
                guard case .number(let number) = point, case .double(let value) = number.value else { return "\(point)" }
                return "\(number.timeUnixNano):\(value.bitPattern)"
            }
            let attributes = series.key.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            return "\(series.key.metricName) \(attributes) \(series.key.resource == Resource()) \(series.kind) \(series.channel) \(points)"
        }
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.prefix(200).map { String(format: "%02x", $0) }.joined() }

    // MARK: Random requests

    /// A request of any shape: names and values from small sets (empty, not ASCII and canonically equivalent
    /// ones among them), samples at any time, exemplars, metadata, and (when asked) unknown fields.
    private func randomRequest(_ random: inout SeededRandom, unknownFields: Bool) throws -> Prometheus_WriteRequest {
        let names = ["__name__", "job", "instance", "le", "", "a", "Z", "b\u{e9}", "http.method", "_"]
        let values = ["up", "x", "", "caf\u{e9}", "cafe\u{301}", "\u{212A}", "K", "a b \"c\"\n", String(repeating: "v", count: 300)]
        let timestamps: [Int64] = [0, 1, 1_000, 1_700_000_000_000, -1, Int64.max, Int64.min, 9_223_372_036_854]
        var request = Prometheus_WriteRequest()
        for _ in 0..<random.below(6) {
            var series = Prometheus_TimeSeries()
            for _ in 0..<random.below(5) {
                var label = Prometheus_Label()
                label.name = names[random.below(names.count)]
                label.value = values[random.below(values.count)]
                series.labels.append(unknownFields ? try withUnknownFields(label, &random) : label)
            }
            for _ in 0..<random.below(4) {
                var sample = Prometheus_Sample()
                sample.timestamp = timestamps[random.below(timestamps.count)]
                sample.value = random.chance(0.2) ? Double(bitPattern: 0x7ff0_0000_0000_0002) : Double(random.below(100))
                series.samples.append(unknownFields ? try withUnknownFields(sample, &random) : sample)
            }
            if random.chance(0.2) {
                var exemplar = Prometheus_Exemplar()
                var label = Prometheus_Label()
                label.name = "trace_id"
                label.value = values[random.below(values.count)]
                exemplar.labels = [label]
                exemplar.value = 1.5
                exemplar.timestamp = timestamps[random.below(timestamps.count)]
                series.exemplars.append(exemplar)
            }
            request.timeseries.append(unknownFields ? try withUnknownFields(series, &random) : series)
        }
        for _ in 0..<(random.chance(0.3) ? random.below(3) + 1 : 0) {
            var metadata = Prometheus_MetricMetadata()
            metadata.type = [.counter, .gauge, .histogram, .unknown][random.below(4)]
            metadata.metricFamilyName = ["up", "http.requests", "", "a:b", "caf\u{e9}"][random.below(5)]
            metadata.help = values[random.below(values.count)]
            metadata.unit = random.chance(0.5) ? "seconds" : ""
            request.metadata.append(metadata)
        }
        return unknownFields ? try withUnknownFields(request, &random) : request
    }

    /// A request for the ledger: a few series from a small set of label sets (valid ones mostly, canonically
    /// equivalent values among them), at a few times, so that repeats, re-sends, reordering and bounds all occur.
    private func ledgerRequest(_ random: inout SeededRandom) throws -> Prometheus_WriteRequest {
        let labelSets: [[(String, String)]] = [
            [("__name__", "up"), ("job", "a")],
            [("__name__", "up"), ("job", "b")],
            [("__name__", "rate"), ("le", "0.5")],
            [("__name__", "m"), ("v", "caf\u{e9}")],
            [("__name__", "m"), ("v", "cafe\u{301}")],
            [("__name__", "m"), ("v", "\u{212A}")],
            [("__name__", "m"), ("v", "K")],
            [("__name__", "only")],
            [("job", "a"), ("__name__", "up")],
            [("__name__", "bad.name")],
        ]
        let timestamps: [Int64] = [1_000, 2_000, 3_000, 4_000, 5_000, -1, 9_223_372_036_854_775]
        var request = Prometheus_WriteRequest()
        for _ in 0..<random.below(5) + 1 {
            let labels = labelSets[random.below(random.chance(0.9) ? 8 : labelSets.count)]
            var samples = (0..<random.below(3)).map { _ in
                (random.chance(0.97) ? timestamps[random.below(5)] : timestamps[random.below(timestamps.count)], Double(random.below(2)))
            }
            samples.sort { $0.0 < $1.0 }
            if samples.count == 2, random.chance(0.1) { samples.swapAt(0, 1) }
            request.timeseries.append(remoteWriteSeries(labels, samples: samples))
        }
        if random.chance(0.1) {
            var metadata = Prometheus_MetricMetadata()
            metadata.metricFamilyName = random.chance(0.5) ? "up" : "not valid"
            request.metadata = [metadata]
        }
        return request
    }

    private func request(_ series: [Prometheus_TimeSeries]) -> Prometheus_WriteRequest {
        var request = Prometheus_WriteRequest()
        request.timeseries = series
        return request
    }

    /// `message` with an unknown field (varint, fixed, length-delimited or an empty group) appended, at times.
    private func withUnknownFields<Message: SwiftProtobuf.Message>(_ message: Message, _ random: inout SeededRandom) throws -> Message {
        guard random.chance(0.15) else { return message }
        let field: [UInt8] =
            switch random.below(4) {
            case 0: Wire.varintField(9 + random.below(5), UInt64(random.below(1000)))
            case 1: Wire.varint(UInt64((17 << 3) | 1)) + [1, 2, 3, 4, 5, 6, 7, 8]
            case 2: Wire.field(12, [1, 2, 3])
            default: Wire.varint(UInt64((19 << 3) | 3)) + Wire.varint(UInt64((19 << 3) | 4))
            }
        return (try? Message(serializedBytes: try message.serializedBytes() as [UInt8] + field)) ?? message
    }
}

// MARK: The reference

/// The ledger as it was before ``RemoteWriteWireDecoder``, verbatim: generated messages, series keyed by their
/// label messages. The ledger must answer every request as this one does.
private final class ReferenceLedger: Sendable {
    private struct LastSample {
        var timestampMillis: Int64
        var valueBits: UInt64
    }

    private let lastSamples = Mutex<[[Prometheus_Label]: LastSample]>([:])

    /// Validates the whole request, then hands what is new to `accept` (re-sent samples already held are not in
    /// it), under the ledger's lock so that the store sees the series in the order the ledger does; nothing is
    /// accepted when anything is invalid.
    func apply(_ request: Prometheus_WriteRequest, accept: (Batch) -> Void) throws(RemoteWriteViolation) {
        for (index, series) in request.timeseries.enumerated() {
            if let problem = Self.labelProblem(series.labels) {
                throw RemoteWriteViolation(message: "timeseries[\(index)] \(Self.describe(series.labels)): \(problem)")
            }
        }
        for (index, metadata) in request.metadata.enumerated() where !PrometheusNames.isMetricName(metadata.metricFamilyName) {
            throw RemoteWriteViolation(message: "metadata[\(index)]: metric family name \"\(metadata.metricFamilyName)\" is not a valid metric name")
        }
        try lastSamples.withLock { (last: inout [[Prometheus_Label]: LastSample]) throws(RemoteWriteViolation) in
            var pending: [[Prometheus_Label]: LastSample] = [:]
            var batch = Batch()
            var seriesIndex: [[Prometheus_Label]: Int] = [:]
            for (index, series) in request.timeseries.enumerated() {
                var previous = pending[series.labels] ?? last[series.labels]
                var points: [MetricPoint] = []
                for (sampleIndex, sample) in series.samples.enumerated() {
                    let bits = sample.value.bitPattern
                    if let previous {
                        if sample.timestamp < previous.timestampMillis {
                            throw RemoteWriteViolation(
                                message: "timeseries[\(index)] \(Self.describe(series.labels)) samples[\(sampleIndex)]: out of order sample: "
                                    + "timestamp \(sample.timestamp) ms is before \(previous.timestampMillis) ms, which the series already has"
                            )
                        }
                        if sample.timestamp == previous.timestampMillis {
                            if bits == previous.valueBits { continue }
                            throw RemoteWriteViolation(
                                message: "timeseries[\(index)] \(Self.describe(series.labels)) samples[\(sampleIndex)]: duplicate sample for timestamp "
                                    + "\(sample.timestamp) ms with a different value (\(sample.value))"
                            )
                        }
                    }
                    guard let timeUnixNano = UnixTime.nanoseconds(millis: sample.timestamp) else {
                        throw RemoteWriteViolation(
                            message: "timeseries[\(index)] \(Self.describe(series.labels)) samples[\(sampleIndex)]: out of bounds: timestamp "
                                + "\(sample.timestamp) ms is \(sample.timestamp < 0 ? "before 1970" : "after \(UnixTime.latestText)"): "
                                + "send times from 0 to \(Self.maxTimestampMillis) ms since 1970"
                        )
                    }
                    previous = LastSample(timestampMillis: sample.timestamp, valueBits: bits)
                    points.append(.number(NumberPoint(timeUnixNano: timeUnixNano, value: .double(sample.value))))
                }
                if let previous { pending[series.labels] = previous }
                guard !points.isEmpty else { continue }
                if let existing = seriesIndex[series.labels] {
                    batch.series[existing].points += points
                } else {
                    seriesIndex[series.labels] = batch.series.count
                    batch.series.append(Self.metricSeries(series.labels, points: points))
                }
            }
            last.merge(pending) { _, new in new }
            accept(batch)
        }
    }

    /// The latest sample time stored, in ms since 1970: the last whose nanoseconds fit ``UnixTime/latest``.
    ///
    /// Prometheus 2.42 takes a sample far in the future (up to `Int64.max` ms) into its head block and then refuses
    /// every later sample of every series as out of bounds; this receiver refuses such a sample instead (the
    /// request, whole, with 400 and the words Prometheus uses), so that nothing already accepted is lost and later
    /// samples still fit.
    static let maxTimestampMillis = Int64(UnixTime.latest / 1_000_000)

    private static func metricSeries(_ labels: [Prometheus_Label], points: [MetricPoint]) -> MetricSeries {
        var name = ""
        var attributes: Attributes = [:]
        for label in labels {
            if label.name == "__name__" { name = label.value } else { attributes[label.name] = .string(label.value) }
        }
        return MetricSeries(
            key: SeriesKey(metricName: name, attributes: attributes, resource: Resource()),
            kind: .gauge,
            points: points,
            channel: .prometheusRemoteWrite
        )
    }

    /// What is wrong with a label set, or `nil`.
    static func labelProblem(_ labels: [Prometheus_Label]) -> String? {
        guard !labels.isEmpty else { return "series has no labels (it needs at least __name__)" }
        var previousName: String?
        var metricName: String?
        for label in labels {
            guard !label.name.isEmpty else { return "a label has an empty name" }
            guard PrometheusNames.isLabelName(label.name) else { return "label name \"\(label.name)\" is invalid: names match [a-zA-Z_][a-zA-Z0-9_]*" }
            guard !label.value.isEmpty else { return "label \"\(label.name)\" has an empty value: drop the label instead" }
            if let previousName {
                if previousName == label.name { return "label \"\(label.name)\" is repeated" }
                if !Array(previousName.utf8).lexicographicallyPrecedes(Array(label.name.utf8)) {
                    return "labels are not sorted by name (\"\(previousName)\" comes before \"\(label.name)\"): sort them byte-wise"
                }
            }
            previousName = label.name
            if label.name == "__name__" { metricName = label.value }
        }
        guard let metricName else { return "series has no __name__ label" }
        guard PrometheusNames.isMetricName(metricName) else { return "metric name \"\(metricName)\" is invalid: names match [a-zA-Z_:][a-zA-Z0-9_:]*" }
        return nil
    }

    /// `{__name__="up", job="x"}`, shortened past 200 characters.
    static func describe(_ labels: [Prometheus_Label]) -> String {
        let text = "{" + labels.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ", ") + "}"
        return text.count > 200 ? String(text.prefix(200)) + "…}" : text
    }
}
