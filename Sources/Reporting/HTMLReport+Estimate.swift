extension HTMLReport {
    /// The data-volume estimate as three tables: volume, bytes on the wire by protocol, storage (see
    /// ``DataVolumeEstimate``).
    static func estimateSection(_ estimate: DataVolumeEstimate) -> String {
        let multiplier = DataVolumeEstimate.number(estimate.assumptions.trafficMultiplier)
        let retention = DataVolumeEstimate.durationText(seconds: estimate.assumptions.retentionSeconds)
        func table(_ headers: [String], _ rows: [[String]], id: String) -> String {
            let head = "<tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
            let body = rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined()
            return "<table id=\(id)>\(head)\(body)</table>"
        }
        return [
            "<h2>Data volume estimate</h2>",
            "<p class=meta>\(escape(estimate.premise))</p>",
            table(["quantity", "measured", "per second at \(multiplier)×", "per day", "per 30 days"], estimate.volumeRows, id: "estimate-volume"),
            "<h3>Bytes on the wire, by protocol</h3>",
            table(["channel", "signal", "requests", "bytes on the wire", "per second"], estimate.wireRows, id: "estimate-wire"),
            "<h3>Storage for \(escape(retention))</h3>",
            table(["storage", "for \(retention)", "how"], estimate.storageRows, id: "estimate-storage"),
            "<ul class=meta>" + estimate.storage.map { "<li>\(escape($0.system)): \(escape($0.source))</li>" }.joined() + "</ul>",
        ].joined(separator: "\n")
    }
}
