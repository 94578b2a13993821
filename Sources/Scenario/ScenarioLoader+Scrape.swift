import Foundation

extension ScenarioParser {
    /// `scrape: {interval, timeout, targets: [{url, job, sample_limit, label_limit}]}`.
    func scrapeSection(_ field: Field) -> ScrapeSection {
        var section = ScrapeSection()
        guard let entries = reader.mapping(field, allowed: ["interval", "timeout", "targets"], required: ["targets"]) else { return section }
        if let value = entries["interval"].flatMap({ reader.duration($0) }) { section.interval = value }
        if let timeoutField = entries["timeout"] {
            if let value = reader.duration(timeoutField) {
                if value > section.interval {
                    reader.fail(timeoutField, "timeout \(value) is longer than the interval \(section.interval): a scrape must end before the next one starts")
                } else {
                    section.timeout = value
                }
            }
        } else {
            // Prometheus' default, shortened to the interval when that is shorter.
            section.timeout = min(.seconds(10), section.interval)
        }
        guard let targetsField = entries["targets"], let targets = reader.sequence(targetsField) else { return section }
        if targets.isEmpty { reader.fail(targetsField, "name at least one target ({url: http://127.0.0.1:9100/metrics}), or leave scrape out") }
        var seen: Set<String> = []
        for target in targets {
            guard let parsed = scrapeTarget(target) else { continue }
            if !seen.insert(parsed.url).inserted {
                reader.fail(target, "target \(parsed.url) is listed twice")
                continue
            }
            section.targets.append(parsed)
        }
        return section
    }

    func scrapeTarget(_ field: Field) -> ScrapeTarget? {
        guard let entries = reader.mapping(field, allowed: ["url", "job", "sample_limit", "label_limit"], required: ["url"]) else { return nil }
        guard let urlField = entries["url"], let url = reader.string(urlField, environment: environment) else { return nil }
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), URL(string: url)?.host != nil else {
            reader.fail(urlField, "'\(url)' is not an http:// or https:// URL (e.g. http://127.0.0.1:9100/metrics)")
            return nil
        }
        var target = ScrapeTarget(url: url)
        if let jobField = entries["job"], let job = reader.string(jobField, environment: environment) {
            if job.isEmpty { reader.fail(jobField, "job must not be empty") } else { target.job = job }
        }
        if let value = entries["sample_limit"].flatMap({ reader.integer($0, range: 0...100_000_000) }) { target.sampleLimit = value }
        if let value = entries["label_limit"].flatMap({ reader.integer($0, range: 0...10_000) }) { target.labelLimit = value }
        return target
    }
}
