package import Hummingbird
package import Logging
import NIOCore
import OTelBenchProtos
import PromQLSyntax
package import Scenario
import Synchronization
package import Telemetry

extension IntakeChannel {
    /// Prometheus remote write 1.0 (`POST /api/v1/write`).
    package static let prometheusRemoteWrite = IntakeChannel("prometheus-remote-write")
}

/// Prometheus remote-write 1.0 receiver: `POST /api/v1/write`, a snappy-compressed (block format)
/// protobuf `WriteRequest`, answered 204 as Prometheus does. Default address 127.0.0.1:9090 (`--prometheus`).
///
/// Checked as the specification says, and refused whole with 400 and a message naming the series:
/// labels sorted by name, no repeated or empty names or values, valid label and metric names, a
/// `__name__` on every series, samples in time order (also against what the series already holds;
/// an identical re-sent sample is dropped as Prometheus does, a different value at a stored timestamp
/// is an error), timestamps from 1970 to 2262 (nanoseconds in a signed 64-bit integer; later ones are refused as out
/// of bounds). Metadata-only requests and unknown fields are accepted. Refusals are plain text.
///
/// Mapping into the store: each series becomes a ``MetricSeries`` named by `__name__`, whose point
/// attributes are every other label (as strings) and whose resource is empty, of kind ``MetricKind/gauge``
/// (remote write 1.0 carries no type per sample); each sample a ``NumberPoint`` with a double value
/// (bit pattern kept, so staleness markers survive) at `timestamp × 10⁶` ns. Counted on channel
/// `prometheus-remote-write`, one item per sample.
package typealias RemoteWriteReceiver = HTTPReceiver<RemoteWriteEndpoint>

extension HTTPReceiver where Endpoint == RemoteWriteEndpoint {
    /// Creates the receiver; accepted samples go into `store` and, as OTLP gauges, into `recorder` when given.
    ///
    /// - Parameter readAPI: read endpoints served on the same address (Prometheus' query API), if any.
    package init(
        configuration: Configuration = .loopback(port: 9090),
        store: TelemetryStore,
        recorder: RecordingWriter? = nil,
        readAPI: (any ReadAPI)? = nil,
        logger: Logger = Logger(label: "otelbench.remote-write")
    ) {
        self.init(
            configuration: configuration,
            endpoint: RemoteWriteEndpoint(readAPI: readAPI),
            admission: Admission(store: store, recorder: recorder, logger: logger),
            logger: logger
        )
    }
}

/// `POST /api/v1/write`, and every path of the read API beside it.
package struct RemoteWriteEndpoint: HTTPEndpoint {
    package static var defaultPort: Int { 9090 }

    let ledger = RemoteWriteLedger()
    let readAPI: (any ReadAPI)?

    /// - Parameter readAPI: read endpoints served on the same address (Prometheus' query API), if any.
    package init(readAPI: (any ReadAPI)? = nil) { self.readAPI = readAPI }

    package func respond(to request: Request, admission: Admission, maxRequestBytes: Int) async throws -> Response {
        if let readAPI, readAPI.serves(request.uri.path) { return try await readAPI.respond(to: request) }
        guard request.uri.path == "/api/v1/write" else {
            throw Refusal(
                .notFound,
                "no endpoint at \(request.uri.path): remote write goes to POST /api/v1/write, queries to /api/v1/query, /api/v1/query_range, /api/v1/series, /api/v1/labels, /api/v1/label/NAME/values, /api/v1/status/tsdb"
            )
        }
        guard request.method == .post else {
            throw Refusal(.methodNotAllowed, "\(request.method) /api/v1/write is not allowed: POST a WriteRequest", allowedMethods: "POST")
        }
        guard HTTPSink.mediaType(request.headers[.contentType]) == "application/x-protobuf" else {
            throw Refusal(
                .unsupportedMediaType,
                "Content-Type \(request.headers[.contentType] ?? "none") is not supported: remote write sends application/x-protobuf"
            )
        }
        let encoding = (request.headers[.contentEncoding] ?? "none").lowercased().trimmingSpaces
        guard encoding == "snappy" else {
            throw Refusal(
                .unsupportedMediaType,
                "Content-Encoding \(encoding) is not supported: remote write bodies are snappy-compressed (block format), Content-Encoding: snappy"
            )
        }
        // The compressed body can't be larger than the limit plus snappy's worst-case overhead (saturating: the limit
        // may be as large as the command line allows).
        let overhead = maxRequestBytes / 6 + 32
        let compressedLimit = maxRequestBytes > Int.max - overhead ? Int.max : maxRequestBytes + overhead
        let compressed = try await HTTPSink.readBody(request, limit: compressedLimit, allowCompression: false)
        let body: [UInt8]
        do throws(SnappyError) {
            body = try SnappyBlock.decode(Array(buffer: compressed), limit: maxRequestBytes)
        } catch {
            throw Refusal(.invalidArgument, error.message)
        }
        let writeRequest: Prometheus_WriteRequest
        do {
            writeRequest = try Prometheus_WriteRequest(serializedBytes: body)
        } catch {
            throw Refusal(.invalidArgument, "body is not a valid protobuf prometheus.WriteRequest after snappy decoding: \(error)")
        }
        try await admission.admit(.metrics, on: .prometheusRemoteWrite, bytes: body.count) { ticket throws(Refusal) in
            do throws(RemoteWriteViolation) {
                try ledger.apply(writeRequest) { batch in ticket.accept(batch, recording: .converted) }
            } catch {
                throw Refusal(.invalidArgument, error.message)
            }
        }
        return Response(status: .noContent)
    }

    /// Refusals on the read API's paths are its own; every other refusal counts as a refused write.
    package func accounting(of request: Request) -> (channel: IntakeChannel, signal: Signal)? {
        if let readAPI, readAPI.serves(request.uri.path) { return nil }
        return (.prometheusRemoteWrite, .metrics)
    }

    package func response(for refusal: Refusal, to request: Request) -> Response { refusal.plainTextResponse }
}

/// A write request that breaks the remote-write rules.
struct RemoteWriteViolation: Error {
    var message: String
}

/// The last sample of every remote-written series, so that out-of-order samples are refused and exact
/// re-sends (a sender retrying) are dropped, checked and stored under one lock so that concurrent
/// requests for the same series cannot interleave.
final class RemoteWriteLedger: Sendable {
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
