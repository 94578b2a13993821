package import Hummingbird
package import Logging
import NIOCore
package import Scenario
package import Telemetry

/// Jaeger's collector HTTP endpoint: `POST /api/traces` with one jaeger.thrift `Batch` in the Thrift
/// binary protocol (`application/x-thrift` or `application/vnd.apache.thrift.binary`), the protocol of
/// `opentelemetry-exporter-jaeger-thrift`'s collector mode and of the old Jaeger clients.
/// Default address 127.0.0.1:14268 (`--jaeger-thrift`).
///
/// 202 Accepted on success; 400 with a message naming the field and byte offset for a truncated or
/// malformed body or an invalid span (the batch is then refused whole); 415 for another content type;
/// 413 over the size limit; 503 + Retry-After over the memory limit. Refusals are plain text.
package typealias JaegerThriftHTTPSink = HTTPReceiver<JaegerThriftEndpoint>

extension HTTPReceiver where Endpoint == JaegerThriftEndpoint {
    /// Creates the sink; accepted spans go into `store` and, as OTLP, into `recorder` when given.
    package init(
        configuration: Configuration = .loopback(port: 14268),
        store: TelemetryStore,
        recorder: RecordingWriter? = nil,
        logger: Logger = Logger(label: "otelbench.jaeger-thrift")
    ) {
        self.init(
            configuration: configuration,
            endpoint: JaegerThriftEndpoint(),
            admission: Admission(store: store, recorder: recorder, logger: logger),
            logger: logger
        )
    }
}

/// `POST /api/traces`.
package struct JaegerThriftEndpoint: HTTPEndpoint {
    package static var defaultPort: Int { 14268 }

    package init() {}

    static let mediaTypes: Set<String> = ["application/x-thrift", "application/vnd.apache.thrift.binary"]

    package func respond(to request: Request, admission: Admission, maxRequestBytes: Int) async throws -> Response {
        guard request.uri.path == "/api/traces" else {
            throw Refusal(.notFound, "no Jaeger endpoint at \(request.uri.path): POST Thrift batches to /api/traces")
        }
        guard request.method == .post else {
            throw Refusal(.methodNotAllowed, "\(request.method) /api/traces is not allowed: POST a Thrift Batch", allowedMethods: "POST")
        }
        guard let mediaType = HTTPSink.mediaType(request.headers[.contentType]), Self.mediaTypes.contains(mediaType) else {
            throw Refusal(
                .unsupportedMediaType,
                "Content-Type \(request.headers[.contentType] ?? "none") is not supported: send application/x-thrift "
                    + "or application/vnd.apache.thrift.binary (Thrift binary protocol)"
            )
        }
        let (body, wireBytes) = try await HTTPSink.readWireBody(request, limit: maxRequestBytes)
        let batch: JaegerBatchSpans
        do {
            batch = try body.withUnsafeReadableBytes { try JaegerThriftDecoder.spans($0, channel: .jaegerThrift) }
        } catch {
            throw Refusal(.invalidArgument, "body is not a valid jaeger.thrift Batch in Thrift binary protocol: \(error)")
        }
        try await JaegerIngest.admit(batch, bytes: body.readableBytes, wireBytes: wireBytes, channel: .jaegerThrift, through: admission)
        return Response(status: .accepted)
    }

    package func accounting(of request: Request) -> (channel: IntakeChannel, signal: Signal)? { (.jaegerThrift, .traces) }

    package func answer(for refusal: Refusal, to request: Request) -> RefusalAnswer { refusal.plainTextAnswer }
}
