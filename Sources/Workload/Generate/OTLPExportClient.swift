package import AsyncHTTPClient
import CompressNIO
import Foundation
package import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
package import NIOCore
package import OTelBenchProtos
import SwiftProtobuf

/// How one export call ended, as an exporter sees it.
package enum ExportOutcome: Sendable, Equatable {
    /// Accepted; `rejectedItems` of the items were refused as partial success.
    case accepted(rejectedItems: Int)
    /// Refused whole with a status: `HTTP 503`, `gRPC unavailable`, ...
    case refused(status: String)
    /// No answer: connection refused, timeout, ...
    case failed(reason: String)
}

/// One OTLP export request of any signal, ready to send.
package enum OTLPExportPayload: Sendable {
    case traces(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest)
    case metrics(Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest)
    case logs(Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest)

    var path: String {
        switch self {
        case .traces: "/v1/traces"
        case .metrics: "/v1/metrics"
        case .logs: "/v1/logs"
        }
    }

    func serialized() throws -> [UInt8] {
        switch self {
        case .traces(let message): try message.serializedBytes()
        case .metrics(let message): try message.serializedBytes()
        case .logs(let message): try message.serializedBytes()
        }
    }
}

/// Sends OTLP over HTTP (protobuf, optionally gzip) with AsyncHTTPClient.
package struct OTLPHTTPExportClient: Sendable {
    let baseURL: String
    let gzip: Bool
    let client: HTTPClient
    let timeout: TimeAmount

    /// - Parameter baseURL: `http://host:port`; the signal's path is appended.
    package init(baseURL: String, gzip: Bool, client: HTTPClient = .shared, timeout: TimeAmount = .seconds(30)) {
        self.baseURL = baseURL
        self.gzip = gzip
        self.client = client
        self.timeout = timeout
    }

    package func export(_ payload: OTLPExportPayload) async -> ExportOutcome {
        do {
            var body = ByteBuffer(bytes: try payload.serialized())
            var request = HTTPClientRequest(url: baseURL + payload.path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-protobuf")
            if gzip {
                body = try body.compress(with: .gzip())
                request.headers.add(name: "Content-Encoding", value: "gzip")
            }
            request.body = .bytes(body)
            let response = try await client.execute(request, timeout: timeout)
            let answer = try await response.body.collect(upTo: 16 << 20)
            guard response.status == .ok else { return .refused(status: "HTTP \(response.status.code)") }
            let bytes = Array(buffer: answer)
            let rejected: Int64 =
                switch payload {
                case .traces: try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(serializedBytes: bytes).partialSuccess.rejectedSpans
                case .metrics:
                    try Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceResponse(serializedBytes: bytes).partialSuccess.rejectedDataPoints
                case .logs: try Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse(serializedBytes: bytes).partialSuccess.rejectedLogRecords
                }
            return .accepted(rejectedItems: Int(rejected))
        } catch {
            return .failed(reason: "\(error)")
        }
    }
}

/// Sends OTLP over gRPC (optionally gzip) with a grpc-swift-2 client the caller runs.
package struct OTLPGRPCExportClient<Transport: ClientTransport>: Sendable {
    let client: GRPCClient<Transport>
    let gzip: Bool
    let timeout: Duration

    package init(client: GRPCClient<Transport>, gzip: Bool, timeout: Duration = .seconds(30)) {
        self.client = client
        self.gzip = gzip
        self.timeout = timeout
    }

    package func export(_ payload: OTLPExportPayload) async -> ExportOutcome {
        var options = CallOptions.defaults
        options.timeout = timeout
        options.compression = gzip ? .gzip : CompressionAlgorithm.none
        do {
            let rejected: Int64
            switch payload {
            case .traces(let message):
                rejected = try await Opentelemetry_Proto_Collector_Trace_V1_TraceService.Client(wrapping: client)
                    .export(message, options: options).partialSuccess.rejectedSpans
            case .metrics(let message):
                rejected = try await Opentelemetry_Proto_Collector_Metrics_V1_MetricsService.Client(wrapping: client)
                    .export(message, options: options).partialSuccess.rejectedDataPoints
            case .logs(let message):
                rejected = try await Opentelemetry_Proto_Collector_Logs_V1_LogsService.Client(wrapping: client)
                    .export(message, options: options).partialSuccess.rejectedLogRecords
            }
            return .accepted(rejectedItems: Int(rejected))
        } catch let error as RPCError {
            return .refused(status: "gRPC \(error.code)")
        } catch {
            return .failed(reason: "\(error)")
        }
    }
}
