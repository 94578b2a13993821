/// What a store holds, summed up: the `--summary-json` document of `otelbench receive` (schema
/// `otelbench.intake-summary/v1`, described in the README).
package struct IntakeSummary: Codable, Sendable, Hashable {
    /// Per metric name: its type, unit, series and data points.
    package struct MetricEntry: Codable, Sendable, Hashable {
        package var name: String
        package var type: String
        package var unit: String
        package var series: Int
        package var dataPoints: Int
    }

    /// Per service (`service.name`): spans and log records.
    package struct ServiceEntry: Codable, Sendable, Hashable {
        package var name: String
        package var spans: Int
        package var logRecords: Int
        package var dataPoints: Int
    }

    /// Per intake channel and signal: requests and items accepted and rejected.
    package struct ChannelEntry: Codable, Sendable, Hashable {
        package var channel: String
        package var signal: String
        package var requestsAccepted: Int
        package var requestsRejected: Int
        package var itemsAccepted: Int
        package var itemsRejected: Int
        package var bytesAccepted: Int
        /// Bytes of accepted requests on the wire (``IntakeCounts/wireBytesAccepted``); absent in older summaries.
        package var wireBytesAccepted: Int?
    }

    package var schema = "otelbench.intake-summary/v1"
    /// Spans received over the run.
    package var spans: Int
    /// Traces received over the run.
    package var traces: Int
    /// Traces left out of the store's window (its `max_traces` or memory limit); their spans were judged as they
    /// arrived, but queries and reports no longer see them.
    package var evictedTraces: Int
    package var services: [ServiceEntry]
    package var metrics: [MetricEntry]
    package var series: Int
    package var dataPoints: Int
    package var logRecords: Int
    package var channels: [ChannelEntry]

    /// Sums up everything `store` received.
    package init(store: TelemetryStore) {
        let totals = store.totals
        let series = store.latestSeries
        self.spans = totals.spans
        self.traces = totals.traces
        self.evictedTraces = totals.evictedTraces
        self.series = series.count
        self.dataPoints = totals.dataPoints
        self.logRecords = totals.logRecords

        var byService: [String: ServiceEntry] = [:]
        for (name, received) in store.receivedByService {
            byService[name] = ServiceEntry(name: name, spans: received.spans, logRecords: received.logRecords, dataPoints: 0)
        }
        for (one, points) in series {
            let name = one.key.resource.serviceName
            byService[name, default: ServiceEntry(name: name, spans: 0, logRecords: 0, dataPoints: 0)].dataPoints += points
        }
        self.services = byService.values.sorted { $0.name < $1.name }

        var byMetric: [String: MetricEntry] = [:]
        for (one, points) in series {
            var metric = byMetric[one.name] ?? MetricEntry(name: one.name, type: one.kind.name, unit: one.unit, series: 0, dataPoints: 0)
            metric.series += 1
            metric.dataPoints += points
            byMetric[one.name] = metric
        }
        self.metrics = byMetric.values.sorted { $0.name < $1.name }

        self.channels = store.counts.flatMap { channel, bySignal in
            bySignal.map { signal, counts in
                ChannelEntry(
                    channel: channel.name,
                    signal: signal.rawValue,
                    requestsAccepted: counts.requestsAccepted,
                    requestsRejected: counts.requestsRejected,
                    itemsAccepted: counts.itemsAccepted,
                    itemsRejected: counts.itemsRejected,
                    bytesAccepted: counts.bytesAccepted,
                    wireBytesAccepted: counts.wireBytesAccepted
                )
            }
        }.sorted { ($0.channel, $0.signal) < ($1.channel, $1.signal) }
    }

    /// The summary as people read it at the end of `otelbench receive`.
    package var text: String {
        var lines: [String] = []
        lines.append("received: \(spans) spans in \(traces) traces, \(series) metric series with \(dataPoints) data points, \(logRecords) log records")
        if evictedTraces > 0 { lines.append("  \(evictedTraces) traces left the store's window (judged as they arrived; no longer queryable)") }
        if !services.isEmpty {
            lines.append("services:")
            for service in services {
                lines.append("  \(service.name): \(service.spans) spans, \(service.dataPoints) data points, \(service.logRecords) log records")
            }
        }
        if !metrics.isEmpty {
            lines.append("metrics:")
            for metric in metrics {
                let unit = metric.unit.isEmpty ? "" : " [\(metric.unit)]"
                lines.append("  \(metric.name) (\(metric.type)\(unit)): \(metric.series) series, \(metric.dataPoints) data points")
            }
        }
        if !channels.isEmpty {
            lines.append("by protocol:")
            for channel in channels {
                lines.append(
                    "  \(channel.channel) \(channel.signal): requests \(channel.requestsAccepted) accepted, "
                        + "\(channel.requestsRejected) rejected; items \(channel.itemsAccepted) accepted, \(channel.itemsRejected) rejected"
                )
            }
        }
        return lines.joined(separator: "\n")
    }
}
