package import Histogram
import Synchronization
package import Telemetry

/// The durations of the spans a `spans:` SLO measures, kept as they arrive: one HDR histogram per group of the
/// rule's `by:` labels (nanoseconds, three significant digits), with the slowest span of each. Memory follows the
/// number of groups, not the number of spans.
///
/// A span counts when its name and service are the rule's (if it names them) and every `where:` label matches;
/// labels are looked up in the span's attributes, and `service.name` also in its resource.
package final class SpanDurations: SpanObserver {
    /// What one group holds.
    package struct Group: Sendable, Codable {
        package var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)
        package var slowest: Slowest?

        /// The slowest span seen.
        package struct Slowest: Sendable, Codable, Hashable {
            package var traceID: String
            package var spanID: String
            package var nanoseconds: UInt64
        }

        /// Adds another group's durations.
        package mutating func merge(_ other: Group) {
            histogram.add(other.histogram)
            if let theirs = other.slowest, theirs.nanoseconds > (slowest?.nanoseconds ?? 0) { slowest = theirs }
        }

        /// The duration at `quantile` (0–1) in seconds, the nearest rank within the histogram's precision; nil when empty.
        package func seconds(atQuantile quantile: Double) -> Double? {
            histogram.totalCount == 0 ? nil : Double(histogram.valueAtPercentile(quantile * 100)) / 1e9
        }
    }

    package let name: String?
    package let service: String?
    package let selector: [String: String]
    package let groupBy: [String]
    private let groups = Mutex<[[String: String]: Group]>([:])

    package init(name: String?, service: String?, selector: [String: String], groupBy: [String]) {
        self.name = name
        self.service = service
        self.selector = selector
        self.groupBy = groupBy
    }

    package func observe(spans: [Span]) {
        var found: [([String: String], UInt64, Span)] = []
        for span in spans where (name == nil || span.name == name) && (service == nil || span.resource.serviceName == service) {
            guard selector.allSatisfy({ Self.value(of: $0.key, in: span) == $0.value }) else { continue }
            var group: [String: String] = [:]
            for key in groupBy {
                guard let value = Self.value(of: key, in: span) else { break }
                group[key] = value
            }
            guard group.count == groupBy.count else { continue }
            found.append((group, span.durationNanos, span))
        }
        guard !found.isEmpty else { return }
        groups.withLock { groups in
            for (group, nanoseconds, span) in found {
                _ = groups[group, default: Group()].histogram.record(min(max(nanoseconds, 1), 3_600_000_000_000))
                if nanoseconds >= groups[group]!.slowest?.nanoseconds ?? 0 {
                    groups[group]!.slowest = .init(traceID: span.traceID.hex, spanID: span.spanID.hex, nanoseconds: nanoseconds)
                }
            }
        }
    }

    /// Every group seen so far.
    package var snapshot: [[String: String]: Group] { groups.withLock { $0 } }

    /// A label of a span: its attribute, or for `service.name` its resource's.
    static func value(of key: String, in span: Span) -> String? {
        if let value = span.attributes[key] { return value.description }
        return key == "service.name" ? span.resource.serviceName : nil
    }
}
