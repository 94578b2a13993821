import Hummingbird
public import Logging
import NIOCore
import OTelBenchProtos
public import ServiceLifecycle
public import Telemetry

/// Jaeger's collector HTTP endpoint: `POST /api/traces` with one jaeger.thrift `Batch` in the Thrift
/// binary protocol (`application/x-thrift` or `application/vnd.apache.thrift.binary`), the protocol of
/// `opentelemetry-exporter-jaeger-thrift`'s collector mode and of the old Jaeger clients.
///
/// 202 Accepted on success; 400 with a message naming the field and byte offset for a truncated or
/// malformed body or an invalid span (the batch is then refused whole); 415 for another content type;
/// 413 over the size limit; 503 + Retry-After over the memory limit.
public struct JaegerThriftHTTPSink: Service {
    /// Address and size limit; default 127.0.0.1:14268 (`--jaeger-thrift`), 64 MiB.
    public typealias Configuration = ReceiverConfiguration

    public let configuration: Configuration
    /// The address once listening (the real port when asked for port 0).
    public let boundAddress = BoundAddress()
    let store: TelemetryStore
    let recorder: RecordingWriter?
    let logger: Logger

    /// Creates the sink; accepted spans go into `store` and, as OTLP, into `recorder` when given.
    public init(
        configuration: Configuration = .loopback(port: 14268), store: TelemetryStore, recorder: RecordingWriter? = nil,
        logger: Logger = Logger(label: "otelbench.jaeger-thrift")
    ) {
        self.configuration = configuration
        self.store = store
        self.recorder = recorder
        self.logger = logger
    }

    public func run() async throws {
        try await HTTPSink.serve(
            JaegerThriftResponder(maxRequestBytes: configuration.maxRequestBytes, store: store, recorder: recorder, logger: logger),
            address: configuration.address, bound: boundAddress, logger: logger
        )
    }
}

struct JaegerThriftResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let maxRequestBytes: Int
    let store: TelemetryStore
    let recorder: RecordingWriter?
    let logger: Logger

    static let mediaTypes: Set<String> = ["application/x-thrift", "application/vnd.apache.thrift.binary"]

    func respond(to request: Request, context: Context) async throws -> Response {
        do {
            guard request.uri.path == "/api/traces" else {
                throw HTTPRefusal(status: .notFound, message: "no Jaeger endpoint at \(request.uri.path): POST Thrift batches to /api/traces")
            }
            guard request.method == .post else {
                throw HTTPRefusal(
                    status: .methodNotAllowed, message: "\(request.method) /api/traces is not allowed: POST a Thrift Batch",
                    headers: [.allow: "POST"]
                )
            }
            guard let mediaType = HTTPSink.mediaType(request.headers[.contentType]), Self.mediaTypes.contains(mediaType) else {
                throw HTTPRefusal(
                    status: .unsupportedMediaType,
                    message: "Content-Type \(request.headers[.contentType] ?? "none") is not supported: send application/x-thrift "
                        + "or application/vnd.apache.thrift.binary (Thrift binary protocol)"
                )
            }
            let body = try await HTTPSink.readBody(request, limit: maxRequestBytes)
            let batch: Jaeger_ApiV2_Batch
            do throws(ThriftDecodingError) {
                batch = try JaegerThriftBatch.decode(Array(buffer: body))
            } catch {
                throw HTTPRefusal(status: .badRequest, message: "body is not a valid jaeger.thrift Batch in Thrift binary protocol: \(error.message)")
            }
            do throws(JaegerIngest.Refusal) {
                try JaegerIngest.store(batch, bytes: body.readableBytes, channel: .jaegerThrift, into: store, recorder: recorder, logger: logger)
            } catch {
                switch error.reason {
                case .overloaded: return HTTPRefusal(status: .serviceUnavailable, message: error.message, headers: [.retryAfter: "1"]).response
                case .invalid: return HTTPRefusal(status: .badRequest, message: error.message).response
                }
            }
            return Response(status: .accepted)
        } catch let refusal as HTTPRefusal {
            store.countRejectedRequest(channel: .jaegerThrift, signal: .traces)
            return refusal.response
        }
    }
}
