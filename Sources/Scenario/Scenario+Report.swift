/// What the run's report shows beyond the rules (`report:`).
///
/// ```yaml
/// report:
///   dashboards: [dashboards/cf-core-service-health.json]
/// ```
package struct ReportSection: Sendable, Hashable {
    /// Grafana dashboards whose panels the HTML report draws over the run (`dashboards:`, paths relative to the
    /// scenario file), loaded and checked when the scenario is.
    package var dashboards: [GrafanaDashboard] = []

    package init(dashboards: [GrafanaDashboard] = []) { self.dashboards = dashboards }
}
