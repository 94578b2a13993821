/// `estimate:`: what the report's data-volume estimate assumes about production, beyond what the run measured.
///
/// ```yaml
/// estimate: {traffic_multiplier: 50, retention: 15d}
/// # optional: scrape_interval: 1m (Prometheus ingests each series once per interval), replicas: 1 (Elasticsearch)
/// ```
///
/// Without `estimate:` the report still gives the measured rates and their daily volume, at 1× and with
/// ``default``'s retention.
package struct EstimateSection: Sendable, Hashable {
    /// Production traffic as a multiple of the run's (`traffic_multiplier`, > 0; default 1). Spans, log records and
    /// their bytes scale with it; metric series and samples do not (a series is exported once per interval however
    /// many requests it counts).
    package var trafficMultiplier: Double
    /// How long each backend keeps what it stores (`retention`, e.g. `15d`, `2w`, `1y`; default 15 days, Prometheus'
    /// own default).
    package var retention: Duration
    /// How often Prometheus would ingest each active series (`scrape_interval`); `nil`: the samples per second the
    /// run measured (which follow the exporters' export interval).
    package var scrapeInterval: Duration?
    /// Replicas of every Elasticsearch shard, for the Jaeger and Elasticsearch storage (`replicas`, default 1,
    /// Elasticsearch's `index.number_of_replicas` default).
    package var replicas: Int

    /// Creates the assumptions; every argument defaults as the scenario keys do.
    package init(trafficMultiplier: Double = 1, retention: Duration = .seconds(15 * 86_400), scrapeInterval: Duration? = nil, replicas: Int = 1) {
        self.trafficMultiplier = trafficMultiplier
        self.retention = retention
        self.scrapeInterval = scrapeInterval
        self.replicas = replicas
    }

    /// 1×, 15 days, the measured sample rate, one replica.
    package static let `default` = EstimateSection()
}
