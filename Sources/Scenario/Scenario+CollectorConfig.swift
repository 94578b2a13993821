/// `rules.collector_config`: an OpenTelemetry Collector configuration the run lints, judged as one rule that
/// fails when the lint finds an error (warnings are listed in its evidence).
///
/// ```yaml
/// rules:
///   collector_config: collector/otel-collector.yaml          # relative to the scenario file
///   # or, judged for the Collector release you deploy:
///   collector_config: {file: collector/otel-collector.yaml, collector_version: 0.90.0}
/// ```
package struct CollectorConfigRule: Sendable, Hashable {
    /// The configuration file, resolved against the scenario's folder.
    package var file: String
    /// The Collector release to judge it for (`0.90.0`), as written; nil: the lint's default.
    package var collectorVersion: String?

    package init(file: String, collectorVersion: String? = nil) {
        self.file = file
        self.collectorVersion = collectorVersion
    }
}
