/// The three OpenTelemetry signals.
package enum Signal: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case traces
    case metrics
    case logs

    /// What one item of the signal is called: span, data point, log record.
    package var itemName: String {
        switch self {
        case .traces: "spans"
        case .metrics: "data points"
        case .logs: "log records"
        }
    }

    package static func < (lhs: Signal, rhs: Signal) -> Bool { lhs.rawValue < rhs.rawValue }
}
