import ArgumentParser
import Intake

/// `--max-connections`, `--max-requests-in-flight`, `--idle-timeout`, `--header-timeout` and `--body-timeout`: how
/// many connections each receiver and sink keeps, how many requests the intake works on at once, and how long a
/// client may take (``ConnectionLimits``; its defaults).
struct ConnectionOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Open connections per listener; beyond it HTTP answers 503 with Retry-After and gRPC closes the connection (UNAVAILABLE, retried).",
            valueName: "count"
        )
    )
    var maxConnections = ConnectionLimits.default.maxConnections

    @Option(
        help: ArgumentHelp(
            "Telemetry requests being read, decoded or admitted at once, across every receiver and sink; beyond it a request is refused before its body is read (HTTP 503 with Retry-After, gRPC UNAVAILABLE with RetryInfo).",
            valueName: "count"
        )
    )
    var maxRequestsInFlight = ConnectionLimits.default.maxRequestsInFlight

    @Option(help: ArgumentHelp("Close a connection with no request in progress after this long.", valueName: "duration"))
    var idleTimeout = DurationArgument(ConnectionLimits.default.idleTimeout)

    @Option(help: ArgumentHelp("Close a connection whose request header is not complete this long after its first byte (slowloris).", valueName: "duration"))
    var headerTimeout = DurationArgument(ConnectionLimits.default.headerTimeout)

    @Option(
        help: ArgumentHelp("Close a connection (reset a gRPC stream) whose request body has not ended this long after its header.", valueName: "duration")
    )
    var bodyTimeout = DurationArgument(ConnectionLimits.default.bodyTimeout)

    func validate() throws {
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be > 0 (got \(maxConnections))") }
        guard maxRequestsInFlight > 0 else { throw ValidationError("--max-requests-in-flight must be > 0 (got \(maxRequestsInFlight))") }
        for (flag, value) in [("--idle-timeout", idleTimeout), ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout)]
        where value.duration <= .zero {
            throw ValidationError("\(flag) must be more than 0 (got \(value)): give a duration such as 30s")
        }
    }

    /// The limits the flags give.
    var limits: ConnectionLimits {
        ConnectionLimits(
            maxConnections: maxConnections,
            idleTimeout: idleTimeout.duration,
            headerTimeout: headerTimeout.duration,
            bodyTimeout: bodyTimeout.duration,
            maxRequestsInFlight: maxRequestsInFlight
        )
    }
}
