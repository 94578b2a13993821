import Hummingbird
public import Logging
import NIOCore
import OTelBenchProtos
public import ServiceLifecycle
import Telemetry

/// OTLP/HTTP receiver: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` with `application/x-protobuf` or
/// `application/json` bodies, optionally gzip- or deflate-encoded, answered as the OTLP specification says.
///
/// ```swift
/// let receiver = OTLPHTTPReceiver(configuration: .init(address: .init(host: "127.0.0.1", port: 0)), ingestor: ingestor)
/// try await ServiceGroup(services: [receiver], logger: logger).run()
/// ```
public struct OTLPHTTPReceiver: Service {
    /// Address and size limit; default 127.0.0.1:4318 (`--otlp-http`), 64 MiB.
    public typealias Configuration = ReceiverConfiguration

    public let configuration: Configuration
    /// The address once listening (the real port when asked for port 0).
    public let boundAddress = BoundAddress()
    let ingestor: OTLPIngestor
    let logger: Logger

    public init(configuration: Configuration = .loopback(port: 4318), ingestor: OTLPIngestor, logger: Logger = Logger(label: "otelbench.otlp-http")) {
        self.configuration = configuration
        self.ingestor = ingestor
        self.logger = logger
    }

    public func run() async throws {
        try await HTTPSink.serve(
            OTLPHTTPResponder(configuration: configuration, ingestor: ingestor), address: configuration.address, bound: boundAddress, logger: logger
        )
    }
}

/// Answers OTLP/HTTP requests. Every error is an HTTP status with a `google.rpc.Status` body whose message
/// names the problem; nothing a client sends can stop the server or undo what it accepted before.
struct OTLPHTTPResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let configuration: OTLPHTTPReceiver.Configuration
    let ingestor: OTLPIngestor

    private enum Encoding {
        case protobuf
        case json

        var contentType: String { self == .json ? "application/json" : "application/x-protobuf" }
        var channel: IntakeChannel { self == .json ? .otlpHTTPJSON : .otlpHTTPProtobuf }
    }

    /// An error answer: HTTP status, gRPC-style code and message.
    private struct Refusal: Error {
        var status: HTTPResponse.Status
        var code: RPCStatus.Code
        var message: String
        var headers: HTTPFields = [:]
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let signal: Signal
        switch request.uri.path {
        case "/v1/traces": signal = .traces
        case "/v1/metrics": signal = .metrics
        case "/v1/logs": signal = .logs
        default:
            return refusalResponse(
                Refusal(
                    status: .notFound, code: .notFound,
                    message: "no OTLP endpoint at \(request.uri.path): POST to /v1/traces, /v1/metrics or /v1/logs"
                ),
                encoding: .json
            )
        }
        let encoding = Self.encoding(of: request.headers[.contentType])
        do {
            guard request.method == .post else {
                throw Refusal(
                    status: .methodNotAllowed, code: .unimplemented,
                    message: "\(request.method) \(request.uri.path) is not allowed: OTLP/HTTP takes POST",
                    headers: [.allow: "POST"]
                )
            }
            guard let encoding else {
                let given = request.headers[.contentType] ?? "none"
                throw Refusal(
                    status: .unsupportedMediaType, code: .invalidArgument,
                    message: "Content-Type \(given) is not supported: send application/x-protobuf or application/json"
                )
            }
            let body = try await readBody(request)
            switch signal {
            case .traces:
                return try await ingest(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest.self, body: body, encoding: encoding)
            case .metrics:
                return try await ingest(Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest.self, body: body, encoding: encoding)
            case .logs:
                return try await ingest(Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.self, body: body, encoding: encoding)
            }
        } catch let refusal as Refusal {
            ingestor.store.countRejectedRequest(channel: encoding?.channel ?? IntakeChannel("otlp-http"), signal: signal)
            return refusalResponse(refusal, encoding: encoding ?? .json)
        }
    }

    /// Reads the body within the limit, then inflates it if it is compressed; refusals carry the gRPC code
    /// OTLP/HTTP puts in its `google.rpc.Status` bodies.
    private func readBody(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await HTTPSink.readBody(request, limit: configuration.maxRequestBytes)
        } catch let refusal as HTTPRefusal {
            let code: RPCStatus.Code = refusal.status == .contentTooLarge ? .resourceExhausted : .invalidArgument
            throw Refusal(status: refusal.status, code: code, message: refusal.message, headers: refusal.headers)
        }
    }

    private func ingest<Export: OTLPExportRequest>(_ type: Export.Type, body: ByteBuffer, encoding: Encoding) async throws -> Response {
        let fault = await ingestor.injectedFault(for: Export.signal)
        if let fault, fault.response != .partialSuccess {
            var headers: HTTPFields = [:]
            if let seconds = fault.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
            throw Refusal(
                status: fault.response == .tooManyRequests ? .tooManyRequests : .serviceUnavailable,
                code: fault.response == .tooManyRequests ? .resourceExhausted : .unavailable,
                message: FaultInjector.message, headers: headers
            )
        }
        let bytes = body.readableBytes
        guard ingestor.store.reserve(bytes: bytes) else {
            throw Refusal(
                status: .serviceUnavailable, code: .unavailable,
                message: OTLPIngestor.overloadMessage(limit: ingestor.store.limits.maxStoredBytes),
                headers: [.retryAfter: "1"]
            )
        }
        let request: Export
        do {
            request = try decode(type, body: body, encoding: encoding)
        } catch {
            ingestor.store.release(bytes: bytes)
            throw error
        }
        let response =
            fault?.response == .partialSuccess
            ? ingestor.refuseAsPartialSuccess(request, channel: encoding.channel, reservedBytes: bytes)
            : ingestor.ingest(request, channel: encoding.channel, reservedBytes: bytes)
        let responseBytes: [UInt8]
        do {
            responseBytes = try encoding == .json ? OTLPJSON.encode(response) : response.serializedBytes()
        } catch {
            // Encoding our own response cannot fail for valid messages; the data is stored either way.
            responseBytes = []
        }
        return Response(
            status: .ok,
            headers: [.contentType: encoding.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: responseBytes))
        )
    }

    private func decode<Export: OTLPExportRequest>(_ type: Export.Type, body: ByteBuffer, encoding: Encoding) throws -> Export {
        // An empty body is an empty request, which succeeds (OTLP specification).
        if body.readableBytes == 0 { return Export() }
        do {
            switch encoding {
            case .protobuf:
                return try body.withUnsafeReadableBytes { try Export(serializedBytes: Array($0)) }
            case .json:
                return try body.withUnsafeReadableBytes { try OTLPJSON.decode(Export.self, from: $0) }
            }
        } catch {
            let what = encoding == .json ? "OTLP/JSON" : "protobuf"
            throw Refusal(
                status: .badRequest, code: .invalidArgument,
                message: "body is not a valid \(what) \(Export.specName): \(error)"
            )
        }
    }

    private func refusalResponse(_ refusal: Refusal, encoding: Encoding) -> Response {
        let status = RPCStatus(code: refusal.code, message: refusal.message)
        var headers = refusal.headers
        headers[.contentType] = encoding.contentType
        return Response(
            status: refusal.status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: encoding == .json ? status.jsonBytes : status.protobufBytes))
        )
    }

    /// The body encoding named by a `Content-Type` header (parameters such as `charset` ignored).
    private static func encoding(of contentType: String?) -> Encoding? {
        switch HTTPSink.mediaType(contentType) {
        case "application/x-protobuf", "application/protobuf": return .protobuf
        case "application/json": return .json
        default: return nil
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}
