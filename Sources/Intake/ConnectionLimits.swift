import Synchronization

/// How many connections a listener keeps, and how long a client may take: what keeps idle, slow and too many
/// clients from exhausting a receiver. Every HTTP and gRPC listener applies it (see ``HTTPConnectionGuard`` and
/// ``GRPCConnectionGuard``).
///
/// ```swift
/// var security = ListenerSecurity.plaintext
/// security.connections = ConnectionLimits(maxConnections: 512, idleTimeout: .seconds(30))
/// ```
package struct ConnectionLimits: Sendable, Hashable {
    /// Open connections per listener beyond which a new connection is refused retryably: on HTTP its first request
    /// is answered 503 with `Retry-After: 1` and `Connection: close`; on gRPC the connection is closed before the
    /// HTTP/2 preface, which clients see as UNAVAILABLE and retry with backoff. Default 8192 (`--max-connections`).
    package var maxConnections: Int
    /// A connection with no request in progress (nor any byte of one) is closed after this long. Default 60 s
    /// (`--idle-timeout`). On gRPC: the transport's `maxIdleTime` (no open stream), and a connection from which
    /// nothing at all was read for this plus ``headerTimeout`` is closed outright.
    package var idleTimeout: Duration
    /// From the first byte of a request (the first byte of the connection for TLS) to its complete header: a
    /// slow-header client (slowloris) is disconnected after this long. A connection over ``maxConnections`` gets
    /// this long from its opening to send a request that can be answered 503. Default 10 s (`--header-timeout`).
    package var headerTimeout: Duration
    /// From a request's complete header to the end of its body (HTTP), or from a gRPC stream's opening to the end of
    /// its request: a slow-body client is disconnected (its gRPC stream reset) after this long. Default 60 s
    /// (`--body-timeout`), which lets a 64 MiB body arrive at about 1.1 MB/s.
    package var bodyTimeout: Duration
    /// Concurrent HTTP/2 streams per gRPC connection (the SETTINGS a client must respect). Default 100.
    package var maxConcurrentStreams: Int
    /// Telemetry requests being read, decoded or admitted at once, across all the receivers of one intake (all that
    /// store into one ``Telemetry/TelemetryStore``): a request beyond it is refused before its body is read, HTTP 503
    /// with `Retry-After: 1`, gRPC UNAVAILABLE with `RetryInfo` (``Refusal/tooManyRequestsInFlight(limit:)``), so that
    /// a saturated intake refuses retryably instead of queueing requests past their senders' deadlines. An HTTP request
    /// is refused from its header on the connection's event loop (``HTTPConnectionGuard``), which keeps refusing cheap
    /// when most requests are refused. Default 256
    /// (`--max-requests-in-flight`): decoding is CPU-bound, so a few per core keep the cores busy and the rest only
    /// wait; 256 leaves room for bursts from many exporters (the Collector runs 10 export workers per exporter).
    package var maxRequestsInFlight: Int

    /// Creates limits; every parameter defaults to the documented default.
    package init(
        maxConnections: Int = 8192,
        idleTimeout: Duration = .seconds(60),
        headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(60),
        maxConcurrentStreams: Int = 100,
        maxRequestsInFlight: Int = 256
    ) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.maxConcurrentStreams = maxConcurrentStreams
        self.maxRequestsInFlight = maxRequestsInFlight
    }

    /// 8192 connections per listener, 60 s idle, 10 s for a request header, 60 s for a body, 100 streams, 256
    /// requests in flight per intake.
    package static let `default` = ConnectionLimits()
}

/// The open connections of one listener, shared by its connections' guards on every event loop.
package final class ConnectionCount: Sendable {
    private let open = Atomic<Int>(0)

    package init() {}

    /// Counts a new connection; returns whether it is within `limit` (the count includes it either way).
    func opened(limit: Int) -> Bool {
        open.wrappingAdd(1, ordering: .relaxed).newValue <= limit
    }

    /// Counts a connection closing; called once for every ``opened(limit:)``.
    func closed() {
        open.wrappingSubtract(1, ordering: .relaxed)
    }

    /// The connections open now.
    package var current: Int { open.load(ordering: .relaxed) }
}

extension Duration {
    /// The duration as NIO's `TimeAmount` (nanoseconds, saturating).
    var timeAmountNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (total, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? .max : total
    }
}
