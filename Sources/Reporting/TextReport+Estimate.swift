extension TextReport {
    /// `## Data volume estimate`: the measured volume, the bytes on the wire by protocol, and the storage the
    /// backends would need (see ``DataVolumeEstimate``).
    static func estimateTable(_ estimate: DataVolumeEstimate) -> [String] {
        let multiplier = DataVolumeEstimate.number(estimate.assumptions.trafficMultiplier)
        let retention = DataVolumeEstimate.durationText(seconds: estimate.assumptions.retentionSeconds)
        var lines = [
            "", "## Data volume estimate", "", estimate.premise, "",
            "| quantity | measured | per second at \(multiplier)× | per day | per 30 days |", "| --- | --- | --- | --- | --- |",
        ]
        lines += estimate.volumeRows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
        lines += ["", "| channel | signal | requests | bytes on the wire | per second |", "| --- | --- | --- | --- | --- |"]
        lines += estimate.wireRows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
        lines += ["", "| storage | for \(retention) | how |", "| --- | --- | --- |"]
        lines += estimate.storageRows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
        lines += ["", "Sources:"] + estimate.storage.map { "- \($0.system): \($0.source)" }
        return lines
    }
}
