import Foundation
import Hummingbird

/// The health endpoints every cf_core service answers, each recording `health_check_latency_milliseconds`
/// (`endpoint`, `check_type`) on the simulated clock:
///
/// - `GET /health/live` (liveness): the process answers.
/// - `GET /health/ready` (readiness): the service is listening and its telemetry configured.
/// - `GET /health/cf_core/config` (operational): the effective configuration (time scale, faults, export).
struct HealthRoutes {
    let environment: ServiceEnvironment

    struct Status: Encodable {
        var status: String
        var service: String
    }

    struct ConfigReport: Encodable {
        var service: String
        var serviceName: String
        var timeScale: Double
        var otlpEndpoint: String
        var otlpProtocol: String
        var faults: [String]

        enum CodingKeys: String, CodingKey {
            case service
            case serviceName = "service_name"
            case timeScale = "time_scale"
            case otlpEndpoint = "otlp_endpoint"
            case otlpProtocol = "otlp_protocol"
            case faults
        }
    }

    func add(to router: Router<BasicRequestContext>) {
        router.get("/health/live") { _, _ in
            try await check("/health/live", type: "liveness", operation: "health.live") {
                try JSONBody.response(Status(status: "alive", service: environment.service.serviceName))
            }
        }
        router.get("/health/ready") { _, _ in
            try await check("/health/ready", type: "readiness", operation: "health.ready") {
                try JSONBody.response(Status(status: "ready", service: environment.service.serviceName))
            }
        }
        router.get("/health/cf_core/config") { _, _ in
            try await check("/health/cf_core/config", type: "operational", operation: "health.config") {
                let configuration = environment.configuration
                let report = ConfigReport(
                    service: environment.service.rawValue,
                    serviceName: environment.service.serviceName,
                    timeScale: configuration.timeScale,
                    otlpEndpoint: configuration.export.endpoint,
                    otlpProtocol: configuration.export.transport.rawValue,
                    faults: environment.telemetry.faults.enabledNames
                )
                return try JSONBody.response(report)
            }
        }
    }

    /// Runs a health check in its operation span and records its latency in milliseconds, failed or not.
    func check(_ endpoint: String, type: String, operation: String, _ body: () throws -> Response) async throws -> Response {
        let timeline = RequestTimeline.current
        let start = timeline.now()
        defer {
            let milliseconds = timeline.now().seconds(since: start) * 1000
            environment.instruments.record(
                "health_check_latency_milliseconds",
                milliseconds,
                labels: ["endpoint": endpoint, "check_type": type]
            )
        }
        return try await environment.operation(operation) { span in
            span.attributes["health.endpoint"] = endpoint
            span.attributes["health.check_type"] = type
            return try body()
        }
    }
}

extension FaultModes {
    /// The names of the faults that are on, as `--fault` spells them.
    package var enabledNames: [String] {
        var names: [String] = []
        if dropTraceparent { names.append("drop_traceparent") }
        if freshParent { names.append("fresh_parent") }
        if forwardInvalidTraceparent { names.append("forward_invalid_traceparent") }
        if dropTracestate { names.append("drop_tracestate") }
        if ignoreSampledFlag { names.append("ignore_sampled_flag") }
        if highCardinalityLabel { names.append("high_cardinality_label") }
        if wrongBuckets { names.append("wrong_buckets") }
        if omitRequiredLabel { names.append("omit_required_label") }
        if slowRollbacks { names.append("slow_rollbacks") }
        if slowLiveness { names.append("slow_liveness") }
        if dropSpanFraction > 0 { names.append("drop_spans=\(dropSpanFraction)") }
        return names
    }
}
