/// When each alert instance went pending, fired and resolved, in seconds from the first sample: the data of
/// the report's alert timeline.
package struct AlertTimeline: Codable, Sendable, Hashable {
    package struct Instance: Codable, Sendable, Hashable {
        package var name: String
        /// The instance's labels without `alertname`, as `{a="b"}`.
        package var labels: String
        package var pendingSeconds: Double
        package var firingSeconds: Double?
        package var resolvedSeconds: Double?
    }

    /// From the first evaluation to the last.
    package var evaluatedSeconds: Double
    /// Every instance (at most 200), by alert name and start.
    package var instances: [Instance]
}
