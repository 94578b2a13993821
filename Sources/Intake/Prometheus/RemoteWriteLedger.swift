import Foundation
import Synchronization
import Telemetry

/// A write request that breaks the remote-write rules.
struct RemoteWriteViolation: Error {
    var message: String
}

/// The last sample of every remote-written series, so that out-of-order samples are refused and exact
/// re-sends (a sender retrying) are dropped, checked and stored under one lock so that concurrent
/// requests for the same series cannot interleave.
///
/// Series are known by a ``LabelSetKey``: their labels' bytes, length-prefixed, in one array (hashed at once),
/// instead of the generated label messages. Each known series keeps its last sample and the store's
/// ``SeriesKey`` (built once, when the series is first stored). Checking a request writes nothing until the
/// whole request is found valid: what a request changes is staged in the series' entry under the request's
/// number, read back by a later series of the same request, and committed at the end; series first seen in a
/// refused request are removed again.
final class RemoteWriteLedger: Sendable {
    struct LastSample {
        var timestampMillis: Int64
        var valueBits: UInt64
    }

    /// A known series.
    private struct Entry {
        var last: LastSample
        let seriesKey: SeriesKey
        /// The request that staged ``staged`` and ``batchIndex``; they mean nothing for any other.
        var stagedBy: UInt64 = 0
        var staged: LastSample
        /// Where the series' points are in the batch being built, if anywhere.
        var batchIndex: Int?
    }

    private struct State {
        var ids: [LabelSetKey: Int] = [:]
        var entries: [Entry] = []
        var requestNumber: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Validates the whole request, then hands what is new to `accept` (re-sent samples already held are not in
    /// it), under the ledger's lock so that the store sees the series in the order the ledger does; nothing is
    /// accepted when anything is invalid.
    func apply(_ request: RemoteWriteRequest, accept: (Batch) -> Void) throws(RemoteWriteViolation) {
        let body = request.body
        let checked = body.withUnsafeBytes { bytes in Result { () throws(RemoteWriteViolation) in try Self.check(request, bytes) } }
        let keys = try checked.get()
        try state.withLock { (state: inout State) throws(RemoteWriteViolation) in
            state.requestNumber &+= 1
            let requestNumber = state.requestNumber
            let knownBefore = state.entries.count
            var touched: [Int] = []
            touched.reserveCapacity(request.series.count)
            var newKeys: [LabelSetKey] = []
            var batch = Batch()
            do throws(RemoteWriteViolation) {
                for (index, series) in request.series.enumerated() {
                    guard let key = keys[index] else { continue }
                    let id = state.ids[key]
                    var previous = id.map { state.entries[$0].stagedBy == requestNumber ? state.entries[$0].staged : state.entries[$0].last }
                    var points: [MetricPoint] = []  // allocated only when a sample is new
                    for (sampleIndex, sample) in request.samples[series.samples].enumerated() {
                        let bits = sample.value.bitPattern
                        if let previous {
                            if sample.timestamp < previous.timestampMillis {
                                throw RemoteWriteViolation(
                                    message: "timeseries[\(index)] \(Self.describe(request, series)) samples[\(sampleIndex)]: out of order sample: "
                                        + "timestamp \(sample.timestamp) ms is before \(previous.timestampMillis) ms, which the series already has"
                                )
                            }
                            if sample.timestamp == previous.timestampMillis {
                                if bits == previous.valueBits { continue }
                                throw RemoteWriteViolation(
                                    message: "timeseries[\(index)] \(Self.describe(request, series)) samples[\(sampleIndex)]: duplicate sample for timestamp "
                                        + "\(sample.timestamp) ms with a different value (\(sample.value))"
                                )
                            }
                        }
                        guard let timeUnixNano = UnixTime.nanoseconds(millis: sample.timestamp) else {
                            throw RemoteWriteViolation(
                                message: "timeseries[\(index)] \(Self.describe(request, series)) samples[\(sampleIndex)]: out of bounds: timestamp "
                                    + "\(sample.timestamp) ms is \(sample.timestamp < 0 ? "before 1970" : "after \(UnixTime.latestText)"): "
                                    + "send times from 0 to \(Self.maxTimestampMillis) ms since 1970"
                            )
                        }
                        previous = LastSample(timestampMillis: sample.timestamp, valueBits: bits)
                        points.append(.number(NumberPoint(timeUnixNano: timeUnixNano, value: .double(sample.value))))
                    }
                    // A series with samples has a last sample: its own, or (all re-sent) the one it had.
                    guard let previous else { continue }
                    let entryID: Int
                    if let id {
                        entryID = id
                        if state.entries[id].stagedBy != requestNumber {
                            state.entries[id].stagedBy = requestNumber
                            state.entries[id].batchIndex = nil
                            touched.append(id)
                        }
                        state.entries[id].staged = previous
                    } else {
                        entryID = state.entries.count
                        state.ids[key] = entryID
                        newKeys.append(key)
                        let seriesKey = Self.seriesKey(request.labels[series.labels], in: body)
                        state.entries.append(Entry(last: previous, seriesKey: seriesKey, stagedBy: requestNumber, staged: previous))
                        touched.append(entryID)
                    }
                    guard !points.isEmpty else { continue }
                    if let existing = state.entries[entryID].batchIndex {
                        batch.series[existing].points += points
                    } else {
                        state.entries[entryID].batchIndex = batch.series.count
                        batch.series.append(
                            MetricSeries(key: state.entries[entryID].seriesKey, kind: .gauge, points: points, channel: .prometheusRemoteWrite)
                        )
                    }
                }
            } catch {
                // Forget the series this request brought; what it staged for known ones is never read again.
                for key in newKeys { state.ids[key] = nil }
                state.entries.removeSubrange(knownBefore...)
                throw error
            }
            for id in touched { state.entries[id].last = state.entries[id].staged }
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

    /// The store's key of a series: named by `__name__`, every other label an attribute.
    private static func seriesKey(_ labels: ArraySlice<RemoteWriteRequest.Label>, in body: [UInt8]) -> SeriesKey {
        var name = ""
        var attributes: Attributes = [:]
        for label in labels {
            let value = String(decoding: body[label.value], as: UTF8.self)
            if body[label.name].elementsEqual("__name__".utf8) {
                name = value
            } else {
                attributes[String(decoding: body[label.name], as: UTF8.self)] = .string(value)
            }
        }
        return SeriesKey(metricName: name, attributes: attributes, resource: Resource())
    }

    /// Checks every series' labels and every metadata name, then makes each series' key (outside the lock; a
    /// series without samples changes nothing and needs none).
    private static func check(_ request: RemoteWriteRequest, _ body: UnsafeRawBufferPointer) throws(RemoteWriteViolation) -> [LabelSetKey?] {
        for (index, series) in request.series.enumerated() {
            let labels = request.labels[series.labels]
            if let problem = labelProblem(labels, in: body) {
                throw RemoteWriteViolation(message: "timeseries[\(index)] \(describe(labels, in: request.body)): \(problem)")
            }
        }
        for (index, name) in request.metadataNames.enumerated() where !RemoteWriteNames.isMetricName(UnsafeRawBufferPointer(rebasing: body[name])) {
            throw RemoteWriteViolation(message: "metadata[\(index)]: metric family name \"\(request.string(name))\" is not a valid metric name")
        }
        return request.series.map { series in series.samples.isEmpty ? nil : LabelSetKey(request.labels[series.labels], in: body) }
    }

    /// What is wrong with a label set, or `nil`. Names are compared byte-wise, which is what Prometheus asks
    /// (and, names being ASCII once checked, what comparing them as strings would find).
    static func labelProblem(_ labels: ArraySlice<RemoteWriteRequest.Label>, in body: UnsafeRawBufferPointer) -> String? {
        guard !labels.isEmpty else { return "series has no labels (it needs at least __name__)" }
        var previousName: UnsafeRawBufferPointer?
        var metricName: UnsafeRawBufferPointer?
        for label in labels {
            let name = UnsafeRawBufferPointer(rebasing: body[label.name])
            guard !name.isEmpty else { return "a label has an empty name" }
            guard RemoteWriteNames.isLabelName(name) else {
                return "label name \"\(String(decoding: name, as: UTF8.self))\" is invalid: names match [a-zA-Z_][a-zA-Z0-9_]*"
            }
            guard !label.value.isEmpty else { return "label \"\(String(decoding: name, as: UTF8.self))\" has an empty value: drop the label instead" }
            if let previousName {
                let order = RemoteWriteNames.compare(previousName, name)
                if order == 0 { return "label \"\(String(decoding: name, as: UTF8.self))\" is repeated" }
                if order > 0 {
                    return "labels are not sorted by name (\"\(String(decoding: previousName, as: UTF8.self))\" comes before "
                        + "\"\(String(decoding: name, as: UTF8.self))\"): sort them byte-wise"
                }
            }
            previousName = name
            if RemoteWriteNames.isMetricNameLabel(name) { metricName = UnsafeRawBufferPointer(rebasing: body[label.value]) }
        }
        guard let metricName else { return "series has no __name__ label" }
        guard RemoteWriteNames.isMetricName(metricName) else {
            return "metric name \"\(String(decoding: metricName, as: UTF8.self))\" is invalid: names match [a-zA-Z_:][a-zA-Z0-9_:]*"
        }
        return nil
    }

    private static func describe(_ request: RemoteWriteRequest, _ series: RemoteWriteRequest.Series) -> String {
        describe(request.labels[series.labels], in: request.body)
    }

    /// `{__name__="up", job="x"}`, shortened past 200 characters.
    static func describe(_ labels: ArraySlice<RemoteWriteRequest.Label>, in body: [UInt8]) -> String {
        let pairs = labels.map { "\(String(decoding: body[$0.name], as: UTF8.self))=\"\(String(decoding: body[$0.value], as: UTF8.self))\"" }
        let text = "{" + pairs.joined(separator: ", ") + "}"
        return text.count > 200 ? String(text.prefix(200)) + "…}" : text
    }
}

/// A series' identity in the ledger: its labels, in order, each name and value preceded by its length (so that
/// no two label sets share a key), in one byte array.
///
/// Label sets that are equal as strings share a key: Swift compares strings by canonical equivalence (an `é`
/// written as one code point or as `e` and an accent is one value, as the store's ``SeriesKey`` sees it), so a
/// value that is not ASCII is put in the key in its NFC form.
struct LabelSetKey: Hashable, Sendable {
    private var bytes: [UInt8]

    init(_ labels: ArraySlice<RemoteWriteRequest.Label>, in body: UnsafeRawBufferPointer) {
        var count = 0
        for label in labels { count += label.name.count + label.value.count + 10 }
        bytes = []
        bytes.reserveCapacity(count)
        for label in labels {
            Self.append(UnsafeRawBufferPointer(rebasing: body[label.name]), to: &bytes)
            Self.append(UnsafeRawBufferPointer(rebasing: body[label.value]), to: &bytes)
        }
    }

    @inline(__always)
    private static func append(_ text: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        if ProtobufWireReader.isASCII(text) {
            append(length: text.count, to: &bytes)
            bytes.append(contentsOf: text)
        } else {
            let normalized = String(decoding: text, as: UTF8.self).precomposedStringWithCanonicalMapping
            append(length: normalized.utf8.count, to: &bytes)
            bytes += normalized.utf8
        }
    }

    private static func append(length: Int, to bytes: inout [UInt8]) {
        var length = UInt64(length)
        while length >= 0x80 {
            bytes.append(UInt8(length & 0x7f) | 0x80)
            length >>= 7
        }
        bytes.append(UInt8(length))
    }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (lhs: LabelSetKey, rhs: LabelSetKey) -> Bool {
        lhs.bytes.withUnsafeBytes { left in rhs.bytes.withUnsafeBytes { right in RemoteWriteNames.compare(left, right) == 0 } }
    }
}

/// Prometheus' name rules (``PromQLSyntax/PrometheusNames``) on bytes in place: that one is generic over any
/// collection and, called across modules, runs unspecialized, which cost more than the rest of a request.
enum RemoteWriteNames {
    /// Whether `name` is a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    @inline(__always)
    static func isLabelName(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let first = name.first, isNameStart(first) else { return false }
        for byte in name.dropFirst() where !isNameStart(byte) && !isDigit(byte) { return false }
        return true
    }

    /// Whether `name` is a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
    @inline(__always)
    static func isMetricName(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let first = name.first, isNameStart(first) || first == UInt8(ascii: ":") else { return false }
        for byte in name.dropFirst() where !isNameStart(byte) && !isDigit(byte) && byte != UInt8(ascii: ":") { return false }
        return true
    }

    /// Whether `name` is `__name__`.
    @inline(__always)
    static func isMetricNameLabel(_ name: UnsafeRawBufferPointer) -> Bool {
        name.count == 8 && name.loadUnaligned(as: UInt64.self) == metricNameLabel
    }

    private static let metricNameLabel = Array("__name__".utf8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }

    /// Byte-wise order: negative when `lhs` comes first, 0 when equal, positive when `rhs` comes first.
    @inline(__always)
    static func compare(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Int {
        let common = min(lhs.count, rhs.count)
        if common > 0 {
            let order = memcmp(lhs.baseAddress!, rhs.baseAddress!, common)
            if order != 0 { return Int(order) }
        }
        return lhs.count - rhs.count
    }

    @inline(__always)
    private static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "_")
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
