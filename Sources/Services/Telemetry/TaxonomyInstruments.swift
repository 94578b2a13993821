package import CoreMetrics
package import Scenario
import Synchronization

/// The metrics of one service, created from the taxonomy: every recording names a taxonomy metric and its
/// labels, and the instrument type, unit, description and buckets come from the taxonomy file.
///
/// Fault modes change what is recorded here: ``FaultModes/omitRequiredLabel`` drops the first taxonomy label,
/// ``FaultModes/highCardinalityLabel`` keeps a `task_id` label that is otherwise stripped. (Wrong buckets are set
/// where the metrics backend is built, see ``ServiceTelemetry``.)
package final class TaxonomyInstruments: Sendable {
    /// The label that only the high-cardinality fault lets through.
    package static let highCardinalityLabel = "task_id"

    let taxonomy: MetricTaxonomy
    let factory: any MetricsFactory
    let faults: FaultModes
    private let handlers = Mutex<[HandlerKey: Handler]>([:])

    private struct HandlerKey: Hashable {
        var name: String
        var labels: [String: String]
    }

    private enum Handler: @unchecked Sendable {
        // The handlers of swift-otel's registry are thread-safe classes.
        case histogram(any RecorderHandler)
        case counter(any CounterHandler)
        case gauge(any RecorderHandler)
    }

    /// Creates the instruments over a metrics factory (not the global `MetricsSystem`).
    package init(taxonomy: MetricTaxonomy, factory: any MetricsFactory, faults: FaultModes) {
        self.taxonomy = taxonomy
        self.factory = factory
        self.faults = faults
    }

    /// Records `value` on the taxonomy metric `name`: a histogram observation, a counter increment (by `value`,
    /// rounded) or a gauge setting.
    ///
    /// `labels` must carry exactly the taxonomy's label keys (plus `task_id` where the high-cardinality fault
    /// applies); a mismatch is a programming error caught by the instrumentation tests.
    package func record(_ name: String, _ value: Double, labels: [String: String]) {
        guard let definition = taxonomy[name] else {
            assertionFailure("\(name) is not in the taxonomy")
            return
        }
        var labels = labels
        if !faults.highCardinalityLabel { labels[Self.highCardinalityLabel] = nil }
        if faults.omitRequiredLabel, let first = definition.labels.first { labels[first.key] = nil }
        assert(
            faults.omitRequiredLabel || faults.highCardinalityLabel || Set(labels.keys) == Set(definition.labelKeys),
            "\(name) recorded with labels \(labels.keys.sorted()), taxonomy says \(definition.labelKeys)"
        )
        let handler = handler(for: definition, labels: labels)
        switch handler {
        case .histogram(let recorder): recorder.record(value)
        case .counter(let counter): counter.increment(by: Int64(value.rounded()))
        case .gauge(let gauge): gauge.record(value)
        }
    }

    private func handler(for definition: MetricDefinition, labels: [String: String]) -> Handler {
        let key = HandlerKey(name: definition.name, labels: labels)
        return handlers.withLock { handlers in
            if let existing = handlers[key] { return existing }
            // swift-otel reads `unit` and `description` dimensions as the OTLP metric's unit and description.
            let dimensions =
                labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                + [("unit", definition.unit), ("description", definition.description)]
            let made: Handler
            switch definition.type {
            case .histogram:
                made = .histogram(factory.makeRecorder(label: definition.name, dimensions: dimensions, aggregate: true))
            case .counter:
                made = .counter(factory.makeCounter(label: definition.name, dimensions: dimensions))
            case .gauge:
                made = .gauge(factory.makeRecorder(label: definition.name, dimensions: dimensions, aggregate: false))
            }
            handlers[key] = made
            return made
        }
    }

    /// The bucket boundaries each histogram gets: the taxonomy's, or under ``FaultModes/wrongBuckets`` each
    /// boundary doubled.
    package static func histogramBuckets(taxonomy: MetricTaxonomy, faults: FaultModes) -> [String: [Double]] {
        var buckets: [String: [Double]] = [:]
        for metric in taxonomy.metrics where metric.type == .histogram {
            guard let bounds = metric.buckets else { continue }
            buckets[metric.name] = faults.wrongBuckets ? bounds.map { $0 * 2 } : bounds
        }
        return buckets
    }
}
