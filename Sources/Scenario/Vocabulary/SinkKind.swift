/// The sinks that can run beside the OTLP receivers, each started only when given an address: by
/// `otelbench receive`'s flags or by a scenario's `intake:` keys.
package enum SinkKind: String, CaseIterable, Sendable, Hashable, Comparable {
    /// Jaeger api_v2 gRPC `PostSpans` (``JaegerGRPCSink``).
    case jaegerGRPC = "jaeger_grpc"
    /// Jaeger Thrift over HTTP (``JaegerThriftHTTPSink``).
    case jaegerThrift = "jaeger_thrift"
    /// Jaeger's query API over every stored trace (``JaegerQueryAPI``).
    case jaegerQuery = "jaeger_query"
    /// Prometheus remote write (``RemoteWriteReceiver``).
    case prometheus
    /// The exposition of received OTLP metrics for Prometheus to scrape (``PrometheusExposition``).
    case exposition
    /// Elasticsearch's document API for logs (``ElasticsearchSink``).
    case elasticsearch

    /// The scenario key under `intake:` (`jaeger_grpc`, ...).
    package var scenarioKey: String { rawValue }

    /// The protocol's usual address, for help texts.
    package var usualAddress: ListenAddress {
        let port =
            switch self {
            case .jaegerGRPC: 14250
            case .jaegerThrift: 14268
            case .jaegerQuery: 16686
            case .prometheus: 9090
            case .exposition: 9464
            case .elasticsearch: 9200
            }
        return ListenAddress(host: "127.0.0.1", port: port)
    }

    /// A short name with the endpoint at `address`, for `otelbench run`'s progress line
    /// (`Jaeger Thrift http://127.0.0.1:14268/api/traces`).
    package func endpoint(_ address: ListenAddress) -> String {
        switch self {
        case .jaegerGRPC: "Jaeger gRPC \(address)"
        case .jaegerThrift: "Jaeger Thrift http://\(address)/api/traces"
        case .jaegerQuery: "Jaeger query http://\(address)/api/traces"
        case .prometheus: "Prometheus remote write http://\(address)/api/v1/write"
        case .exposition: "Prometheus exposition http://\(address)/metrics"
        case .elasticsearch: "Elasticsearch http://\(address)/_bulk"
        }
    }

    /// The line `otelbench receive` prints once the sink listens at `address`.
    package func announcement(_ address: ListenAddress) -> String {
        switch self {
        case .jaegerGRPC: "Jaeger gRPC (PostSpans) listening on \(address)"
        case .jaegerThrift: "Jaeger Thrift listening on http://\(address)/api/traces"
        case .jaegerQuery: "Jaeger query API on http://\(address)/api/traces"
        case .prometheus: "Prometheus remote write listening on http://\(address)/api/v1/write"
        case .exposition: "Prometheus exposition of OTLP metrics on http://\(address)/metrics"
        case .elasticsearch: "Elasticsearch document API listening on http://\(address) (POST /_bulk, /{index}/_doc)"
        }
    }

    /// In declaration order (the order `receive` announces them and `run` lists them).
    package static func < (lhs: SinkKind, rhs: SinkKind) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}
