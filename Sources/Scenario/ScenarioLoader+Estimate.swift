extension ScenarioParser {
    /// `estimate: {traffic_multiplier, retention, scrape_interval, replicas}` (see ``EstimateSection``); every key
    /// is optional, each mistake is reported with its line and field.
    func estimateSection(_ field: Field) -> EstimateSection? {
        guard
            let entries = reader.mapping(field, allowed: ["traffic_multiplier", "retention", "scrape_interval", "replicas"])
        else { return nil }
        var section = EstimateSection()
        if let multiplier = entries["traffic_multiplier"] {
            guard let value = reader.number(multiplier, minimum: 0, maximum: 1e9, exclusiveMinimum: true) else { return nil }
            section.trafficMultiplier = value
        }
        if let retention = entries["retention"] {
            guard let value = retentionDuration(retention) else { return nil }
            section.retention = value
        }
        if let interval = entries["scrape_interval"] {
            guard let value = reader.duration(interval) else { return nil }
            section.scrapeInterval = value
        }
        if let replicas = entries["replicas"] {
            guard let value = reader.integer(replicas, range: 0...100) else { return nil }
            section.replicas = value
        }
        return section
    }

    /// A retention as Prometheus writes one (`--storage.tsdb.retention.time`): a whole number with a unit of
    /// `ms`, `s`, `m`, `h`, `d` (24 h), `w` (7 d) or `y` (365 d), such as `15d`; more than zero.
    func retentionDuration(_ field: Field) -> Duration? {
        let units: [(suffix: String, seconds: Int64)] = [("ms", 0), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800), ("y", 31_536_000)]
        guard let text = reader.string(field) else { return nil }
        for unit in units where text.hasSuffix(unit.suffix) {
            let digits = text.dropLast(unit.suffix.count)
            guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int64(digits), count > 0, count < 1_000_000 else { break }
            return unit.suffix == "ms" ? .milliseconds(count) : .seconds(count * unit.seconds)
        }
        reader.fail(field, "'\(text)' is not a retention: write a whole number > 0 with a unit (ms, s, m, h, d, w or y), such as 15d or 2w")
        return nil
    }
}
