package import Hummingbird
package import Logging
import NIOCore
package import Scenario
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
        // Decompressed straight from the request's buffer, then read field by field (RemoteWriteWireDecoder):
        // no generated message is built.
        let decompressed = compressed.withUnsafeReadableBytes { bytes in
            Result { () throws(SnappyError) in try SnappyBlock.decode(bytes, limit: maxRequestBytes) }
        }
        let body: [UInt8]
        switch decompressed {
        case .success(let bytes): body = bytes
        case .failure(let error): throw Refusal(.invalidArgument, error.message)
        }
        let writeRequest: RemoteWriteRequest
        do throws(ProtobufWireError) {
            writeRequest = try RemoteWriteWireDecoder.decode(body)
        } catch {
            throw Refusal(.invalidArgument, "body is not a valid protobuf prometheus.WriteRequest after snappy decoding: \(error)")
        }
        try await admission.admit(.metrics, on: .prometheusRemoteWrite, bytes: body.count, wireBytes: compressed.readableBytes) { ticket throws(Refusal) in
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

    package func answer(for refusal: Refusal, to request: Request) -> RefusalAnswer { refusal.plainTextAnswer }
}
