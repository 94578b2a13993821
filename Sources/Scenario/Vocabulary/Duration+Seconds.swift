extension Duration {
    /// The duration in seconds as a `Double` (attosecond precision folded in): for rates, plots and thresholds.
    package var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
