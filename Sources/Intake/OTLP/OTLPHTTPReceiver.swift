import GRPCCore
package import Hummingbird
package import Logging
import NIOCore
import OTelBenchProtos
package import Scenario
package import Telemetry

/// OTLP/HTTP receiver: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` with `application/x-protobuf` or
/// `application/json` bodies, optionally gzip- or deflate-encoded, answered as the OTLP specification says.
/// Default address 127.0.0.1:4318 (`--otlp-http`).
///
/// ```swift
/// let receiver = OTLPHTTPReceiver(configuration: .init(address: .init(host: "127.0.0.1", port: 0)), ingestor: ingestor)
/// try await ServiceGroup(services: [receiver], logger: logger).run()
/// ```
package typealias OTLPHTTPReceiver = HTTPReceiver<OTLPHTTPEndpoint>

extension HTTPReceiver where Endpoint == OTLPHTTPEndpoint {
    /// Creates the receiver; requests go through `ingestor`.
    package init(configuration: Configuration = .loopback(port: 4318), ingestor: OTLPIngestor, logger: Logger = Logger(label: "otelbench.otlp-http")) {
        self.init(configuration: configuration, endpoint: OTLPHTTPEndpoint(), admission: ingestor, logger: logger)
    }
}

/// OTLP/HTTP's paths and answers. Every refusal is an HTTP status with a `google.rpc.Status` body, in the
/// request's encoding, whose message names the problem.
package struct OTLPHTTPEndpoint: HTTPEndpoint {
    package static var defaultPort: Int { 4318 }

    package init() {}

    private enum Encoding {
        case protobuf
        case json

        var contentType: String { self == .json ? "application/json" : "application/x-protobuf" }
        var channel: IntakeChannel { self == .json ? .otlpHTTPJSON : .otlpHTTPProtobuf }

        /// The body encoding named by a `Content-Type` header (parameters such as `charset` ignored).
        init?(contentType: String?) {
            switch HTTPSink.mediaType(contentType) {
            case "application/x-protobuf", "application/protobuf": self = .protobuf
            case "application/json": self = .json
            default: return nil
            }
        }
    }

    package func respond(to request: Request, admission: Admission, maxRequestBytes: Int) async throws -> Response {
        guard let signal = Self.signal(at: request.uri.path) else {
            throw Refusal(.notFound, "no OTLP endpoint at \(request.uri.path): POST to /v1/traces, /v1/metrics or /v1/logs")
        }
        guard request.method == .post else {
            throw Refusal(.methodNotAllowed, "\(request.method) \(request.uri.path) is not allowed: OTLP/HTTP takes POST", allowedMethods: "POST")
        }
        guard let encoding = Encoding(contentType: request.headers[.contentType]) else {
            let given = request.headers[.contentType] ?? "none"
            throw Refusal(.unsupportedMediaType, "Content-Type \(given) is not supported: send application/x-protobuf or application/json")
        }
        let (body, wireBytes) = try await HTTPSink.readWireBody(request, limit: maxRequestBytes)
        switch signal {
        case .traces where encoding == .protobuf: return try await exportTraces(body, wireBytes: wireBytes, admission)
        case .traces:
            return try await export(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest.self, body, wireBytes: wireBytes, encoding, admission)
        case .metrics:
            return try await export(Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest.self, body, wireBytes: wireBytes, encoding, admission)
        case .logs:
            return try await export(Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.self, body, wireBytes: wireBytes, encoding, admission)
        }
    }

    /// Refusals on a known path count under its signal and the body's encoding (`otlp-http` when it has none).
    package func accounting(of request: Request) -> (channel: IntakeChannel, signal: Signal)? {
        guard let signal = Self.signal(at: request.uri.path) else { return nil }
        return (Encoding(contentType: request.headers[.contentType])?.channel ?? IntakeChannel("otlp-http"), signal)
    }

    /// The refusal's HTTP status and a `google.rpc.Status` with its gRPC code, in the request's encoding
    /// (JSON when it has none, or the path is unknown).
    package func answer(for refusal: Refusal, to request: Request) -> RefusalAnswer {
        let known = Self.signal(at: request.uri.path) != nil
        let encoding = known ? Encoding(contentType: request.headers[.contentType]) ?? .json : .json
        let status = RPCStatus(code: Int32(refusal.rpcErrorCode.rawValue), message: refusal.message)
        var headers = refusal.headers
        headers[.contentType] = encoding.contentType
        return RefusalAnswer(
            status: refusal.status,
            headers: headers,
            body: ByteBuffer(bytes: encoding == .json ? status.jsonBytes : status.protobufBytes)
        )
    }

    private static func signal(at path: String) -> Signal? {
        switch path {
        case "/v1/traces": .traces
        case "/v1/metrics": .metrics
        case "/v1/logs": .logs
        default: nil
        }
    }

    private func export<Export: OTLPExportRequest>(
        _ type: Export.Type,
        _ body: ByteBuffer,
        wireBytes: Int,
        _ encoding: Encoding,
        _ admission: Admission
    ) async throws(Refusal) -> Response {
        // The recording writes a protobuf body as it came (or transcoded), rather than the decoded message again.
        let protobuf: (@Sendable () -> [UInt8])? = encoding == .protobuf ? { @Sendable in Array(body.readableBytesView) } : nil
        let response = try await admission.admit(
            Export.signal,
            on: encoding.channel,
            bytes: body.readableBytes,
            wireBytes: wireBytes,
            partialSuccess: true,
            export: admission.exportIdentity(of: body, json: encoding == .json)
        ) {
            ticket throws(Refusal) in
            ticket.answer(try Self.decode(type, body: body, encoding: encoding), protobuf: protobuf)
        }
        let responseBytes: [UInt8]
        do {
            responseBytes = try encoding == .json ? OTLPJSON.encode(response) : response.serializedBytes()
        } catch {
            // Encoding our own response cannot fail for valid messages; the data is stored either way.
            responseBytes = []
        }
        return Response(status: .ok, headers: [.contentType: encoding.contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: responseBytes)))
    }

    /// Takes a protobuf `ExportTraceServiceRequest`, converted straight from its bytes (``OTLPTraceWireDecoder``).
    private func exportTraces(_ body: ByteBuffer, wireBytes: Int, _ admission: Admission) async throws(Refusal) -> Response {
        let response = try await admission.admit(
            .traces,
            on: .otlpHTTPProtobuf,
            bytes: body.readableBytes,
            wireBytes: wireBytes,
            partialSuccess: true,
            export: admission.exportIdentity(of: body, json: false)
        ) {
            ticket throws(Refusal) in
            let converted: ConversionResult
            do {
                converted = try body.withUnsafeReadableBytes { try OTLPTraceWireDecoder.traces($0, channel: .otlpHTTPProtobuf) }
            } catch {
                throw Refusal(.invalidArgument, "body is not a valid protobuf ExportTraceServiceRequest: \(error)")
            }
            return ticket.answerTraces(converted) { Array(body.readableBytesView) }
        }
        let responseBytes = (try? response.serializedBytes() as [UInt8]) ?? []
        return Response(
            status: .ok,
            headers: [.contentType: Encoding.protobuf.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: responseBytes))
        )
    }

    private static func decode<Export: OTLPExportRequest>(_ type: Export.Type, body: ByteBuffer, encoding: Encoding) throws(Refusal) -> Export {
        // An empty body is an empty request, which succeeds (OTLP specification).
        if body.readableBytes == 0 { return Export() }
        do {
            switch encoding {
            case .protobuf: return try body.withUnsafeReadableBytes { try Export(serializedBytes: Array($0)) }
            case .json: return try body.withUnsafeReadableBytes { try OTLPJSON.decode(Export.self, from: $0) }
            }
        } catch {
            let what = encoding == .json ? "OTLP/JSON" : "protobuf"
            throw Refusal(.invalidArgument, "body is not a valid \(what) \(Export.specName): \(error)")
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    package var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}
