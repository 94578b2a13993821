import Foundation
package import Scenario

/// How much telemetry the system under test produces, from the run's measured rates, and the storage Prometheus,
/// Jaeger and Elasticsearch would need for it (`summary.json`'s `estimate`, the reports' "Data volume" table).
///
/// The method (also in the README):
/// - **Measured**: what the intake accepted over the workload's measured duration (its phases' elapsed time):
///   active series as Prometheus would hold them after the OTLP translation, Prometheus samples (a histogram point
///   is one sample per bucket, `+Inf`, `_sum` and `_count`), spans, log records, and bytes on the wire per channel
///   and signal (the body as sent, compressed when it was; for gRPC the length-prefixed message).
/// - **At the traffic multiplier**: spans, log records and the bytes of traces and logs grow with traffic; metric
///   series, samples and metric bytes do not (a series is exported once per interval however many requests it
///   counts). With `scrape_interval`, samples per second are the active series over that interval.
/// - **Storage** for the retention: Prometheus by its documented formula, `retention_time_seconds ×
///   ingested_samples_per_second × bytes_per_sample` with 2 bytes per sample (the top of its "1–2 bytes"); Jaeger's
///   documentation gives no per-span size, so Jaeger on Elasticsearch and Elasticsearch for logs use Elastic's
///   sizing formula, `bytes per day × retention days × (replicas + 1) × 1.25` (15 % disk watermark, 10 % margin),
///   with the measured bytes on the wire standing for the raw data (a factor of 1, an assumption).
///
/// ```swift
/// let estimate = DataVolumeEstimate(measured: measured, assumptions: scenario.estimate ?? .default, fromScenario: scenario.estimate != nil)
/// print(estimate.storage.map { "\($0.system): \(DataVolumeEstimate.decimalBytes($0.bytes))" })
/// ```
package struct DataVolumeEstimate: Codable, Sendable, Hashable {
    /// What the intake counted over the run.
    package struct Measured: Codable, Sendable, Hashable {
        /// The workload's measured duration (its phases' elapsed time): every rate's denominator.
        package var durationSeconds: Double
        /// Series Prometheus would hold after the OTLP translation, at the end of the run.
        package var activeSeries: Int
        /// Samples Prometheus would ingest for every data point received.
        package var samples: Int
        /// Spans accepted.
        package var spans: Int
        /// Log records accepted.
        package var logRecords: Int
        /// Bytes on the wire per channel and signal, of accepted requests.
        package var wire: [Wire]

        package init(durationSeconds: Double, activeSeries: Int, samples: Int, spans: Int, logRecords: Int, wire: [Wire]) {
            self.durationSeconds = durationSeconds
            self.activeSeries = activeSeries
            self.samples = samples
            self.spans = spans
            self.logRecords = logRecords
            self.wire = wire
        }
    }

    /// The bytes one channel (protocol and encoding) brought for one signal.
    package struct Wire: Codable, Sendable, Hashable {
        package var channel: String
        package var signal: String
        package var requests: Int
        package var bytes: Int
        /// `bytes` over the measured duration (absent when it is zero).
        package var bytesPerSecond: Double?

        package init(channel: String, signal: String, requests: Int, bytes: Int, bytesPerSecond: Double? = nil) {
            self.channel = channel
            self.signal = signal
            self.requests = requests
            self.bytes = bytes
            self.bytesPerSecond = bytesPerSecond
        }
    }

    /// What the estimate assumes (the scenario's `estimate:`, or the defaults).
    package struct Assumptions: Codable, Sendable, Hashable {
        package var trafficMultiplier: Double
        package var retentionSeconds: Double
        /// The Prometheus ingestion interval per series, when the scenario sets one.
        package var scrapeIntervalSeconds: Double?
        /// Replicas of every Elasticsearch shard.
        package var replicas: Int
        /// Whether these come from the scenario's `estimate:` (otherwise they are the defaults: 1×, 15 days).
        package var fromScenario: Bool
    }

    /// One quantity per second, per day and per 30 days, at the traffic multiplier.
    package struct Volume: Codable, Sendable, Hashable {
        /// What is counted: `samples`, `spans`, `log records`, `bytes (traces)`, ...
        package var quantity: String
        /// `samples`, `spans`, `log records` or `bytes`.
        package var unit: String
        /// Whether it grows with the traffic multiplier.
        package var scalesWithTraffic: Bool
        /// How many the run measured (samples: as many as Prometheus would ingest at the rate below, at 1×).
        package var measured: Double
        package var perSecond: Double
        package var perDay: Double
        package var perMonth: Double
    }

    /// The disk one backend would need for the volume over the retention.
    package struct Storage: Codable, Sendable, Hashable {
        /// `Prometheus`, `Jaeger (on Elasticsearch)` or `Elasticsearch (logs)`.
        package var system: String
        package var bytes: Double
        /// The formula with this run's figures.
        package var method: String
        /// Where the per-sample or per-document cost comes from.
        package var source: String
    }

    package var measured: Measured
    package var assumptions: Assumptions
    /// Active series Prometheus would hold (they do not grow with traffic).
    package var activeSeries: Int
    package var volume: [Volume]
    package var storage: [Storage]

    /// Bytes per sample in Prometheus' storage: the top of the documented "around 1–2 bytes per sample".
    package static let prometheusBytesPerSample = 2.0
    /// Elastic's sizing overhead on the stored data: 15 % disk watermark and 10 % margin of error.
    package static let elasticsearchOverhead = 1.25
    /// Seconds in a day, and the days in a "month" of the table.
    static let day = 86_400.0
    static let monthDays = 30.0

    static let prometheusSource = "Prometheus storage docs (prometheus.io/docs/prometheus/latest/storage): around 1-2 bytes per sample"
    static let elasticsearchSource =
        "Elastic, \"Benchmarking and sizing your Elasticsearch cluster for logs and metrics\": total data = raw data per day × days × (replicas + 1); "
        + "storage = total data × (1 + 0.15 watermark + 0.1 margin)"
    static let jaegerSource = "Jaeger's docs give no bytes per span: " + elasticsearchSource + "; measured span bytes on the wire as the raw data (factor 1)"

    /// Computes the estimate from what the run measured.
    ///
    /// - Parameters:
    ///   - assumptions: the scenario's `estimate:` (or ``EstimateSection/default``).
    ///   - fromScenario: whether the scenario set `estimate:`.
    package init(measured: Measured, assumptions section: EstimateSection, fromScenario: Bool) {
        var measured = measured
        let duration = measured.durationSeconds
        func perSecond(_ count: Int) -> Double { duration > 0 ? Double(count) / duration : 0 }
        for index in measured.wire.indices where duration > 0 {
            measured.wire[index].bytesPerSecond = Double(measured.wire[index].bytes) / duration
        }
        self.measured = measured
        let multiplier = section.trafficMultiplier
        let retention = section.retention.inSeconds
        assumptions = Assumptions(
            trafficMultiplier: multiplier,
            retentionSeconds: retention,
            scrapeIntervalSeconds: section.scrapeInterval?.inSeconds,
            replicas: section.replicas,
            fromScenario: fromScenario
        )
        activeSeries = measured.activeSeries

        func row(_ quantity: String, unit: String, scales: Bool, measured: Int, _ rate: Double) -> Volume {
            let scaled = scales ? rate * multiplier : rate
            return Volume(
                quantity: quantity,
                unit: unit,
                scalesWithTraffic: scales,
                measured: Double(measured),
                perSecond: scaled,
                perDay: scaled * Self.day,
                perMonth: scaled * Self.day * Self.monthDays
            )
        }
        let sampleRate = section.scrapeInterval.map { Double(measured.activeSeries) / $0.inSeconds } ?? perSecond(measured.samples)
        let bytesBySignal = Dictionary(measured.wire.map { ($0.signal, $0.bytes) }, uniquingKeysWith: +)
        func bytes(_ signal: String, scales: Bool) -> Volume {
            let count = bytesBySignal[signal] ?? 0
            return row("bytes on the wire (\(signal))", unit: "bytes", scales: scales, measured: count, perSecond(count))
        }
        let samples = row("samples", unit: "samples", scales: false, measured: measured.samples, sampleRate)
        let traceBytes = bytes("traces", scales: true)
        let logBytes = bytes("logs", scales: true)
        volume = [
            samples,
            row("spans", unit: "spans", scales: true, measured: measured.spans, perSecond(measured.spans)),
            row("log records", unit: "log records", scales: true, measured: measured.logRecords, perSecond(measured.logRecords)),
            bytes("metrics", scales: false),
            traceBytes,
            logBytes,
        ]

        let retentionDays = retention / Self.day
        let copies = Double(section.replicas + 1)
        func elastic(_ perDay: Double) -> Double { perDay * retentionDays * copies * Self.elasticsearchOverhead }
        let days = Self.number(retentionDays)
        storage = [
            Storage(
                system: "Prometheus",
                bytes: retention * samples.perSecond * Self.prometheusBytesPerSample,
                method: "\(Self.number(retention)) s × \(Self.number(samples.perSecond)) samples/s × 2 B",
                source: Self.prometheusSource
            ),
            Storage(
                system: "Jaeger (on Elasticsearch)",
                bytes: elastic(traceBytes.perDay),
                method: "\(Self.decimalBytes(traceBytes.perDay))/day of spans × \(days) d × \(section.replicas + 1) copies × 1.25",
                source: Self.jaegerSource
            ),
            Storage(
                system: "Elasticsearch (logs)",
                bytes: elastic(logBytes.perDay),
                method: "\(Self.decimalBytes(logBytes.perDay))/day of log records × \(days) d × \(section.replicas + 1) copies × 1.25",
                source: Self.elasticsearchSource + "; measured log bytes on the wire as the raw data (factor 1)"
            ),
        ]
    }

    /// `1.23 GB`: decimal units (kB, MB, GB, TB, PB), as storage is sold.
    package static func decimalBytes(_ bytes: Double) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = bytes
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(Int(value.rounded())) B" : "\(number(value)) \(units[unit])"
    }

    /// `643`, `6.88k`, `55.5M`: a count in three significant digits with a decimal suffix (k, M, G, T).
    package static func decimalCount(_ count: Double) -> String {
        let suffixes = ["", "k", "M", "G", "T"]
        var value = count
        var suffix = 0
        while value >= 1000, suffix < suffixes.count - 1 {
            value /= 1000
            suffix += 1
        }
        return number(value) + suffixes[suffix]
    }

    /// Three significant digits at most, without a trailing `.0`: `1.23`, `45.6`, `789`, `12345`.
    package static func number(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let magnitude = abs(value)
        let decimals = magnitude >= 100 || magnitude == 0 ? 0 : magnitude >= 10 ? 1 : 2
        var text = String(format: "%.\(decimals)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    /// `15d`, `2w`, `36h`: the retention as written in the largest whole unit.
    package static func durationText(seconds: Double) -> String {
        for (unit, size) in [("y", 31_536_000.0), ("w", 604_800.0), ("d", day), ("h", 3600.0), ("m", 60.0)] where seconds >= size {
            if (seconds / size).rounded() == seconds / size { return "\(Int(seconds / size))\(unit)" }
        }
        return "\(number(seconds))s"
    }
}

extension DataVolumeEstimate {
    /// One line of prose under the table's heading: duration, multiplier, retention, replicas.
    package var premise: String {
        let multiplier = "\(Self.number(assumptions.trafficMultiplier))×"
        let interval = assumptions.scrapeIntervalSeconds.map { ", Prometheus ingesting each series every \(Self.durationText(seconds: $0))" } ?? ""
        let origin = assumptions.fromScenario ? "the scenario's estimate" : "no estimate in the scenario: defaults"
        return "Measured over \(Self.number(measured.durationSeconds)) s of workload; at \(multiplier) traffic (spans, log records and their bytes "
            + "grow with it; series, samples and metric bytes do not), \(Self.durationText(seconds: assumptions.retentionSeconds)) retention, "
            + "\(assumptions.replicas) Elasticsearch replica\(assumptions.replicas == 1 ? "" : "s")\(interval) (\(origin))."
    }

    /// The volume table: quantity, measured over the run, then per second, day and 30 days at the multiplier.
    package var volumeRows: [[String]] {
        var rows = [["active series (1×)", "\(activeSeries)", "\(activeSeries) held", "", ""]]
        for row in volume {
            func amount(_ value: Double) -> String {
                row.unit == "bytes" ? Self.decimalBytes(value) : Self.decimalCount(value)
            }
            let quantity = row.scalesWithTraffic ? row.quantity : "\(row.quantity) (1×)"
            let measuredText = row.unit == "bytes" ? Self.decimalBytes(row.measured) : "\(Int(row.measured))"
            rows.append([quantity, measuredText, amount(row.perSecond), amount(row.perDay), amount(row.perMonth)])
        }
        return rows
    }

    /// Bytes on the wire by channel and signal: channel, signal, requests, bytes, bytes per second (measured, 1×).
    package var wireRows: [[String]] {
        measured.wire.map { wire in
            [
                wire.channel, wire.signal, "\(wire.requests)", Self.decimalBytes(Double(wire.bytes)),
                wire.bytesPerSecond.map { Self.decimalBytes($0) + "/s" } ?? "–",
            ]
        }
    }

    /// Storage: system, bytes for the retention, the formula with this run's figures.
    package var storageRows: [[String]] {
        storage.map { [$0.system, Self.decimalBytes($0.bytes), $0.method] }
    }
}
