/// One scraped target as the exposition check sees it: counts and findings, already described
/// (`line 12: http_requests counter metrics should have "_total" suffix`).
package struct ScrapedTarget: Sendable, Hashable {
    /// The exposition URL.
    package var url: String
    /// Its `job` label.
    package var job: String
    /// How often it was scraped.
    package var scrapes: Int
    /// Scrapes that failed (`up` = 0): unreachable, unparseable, over a limit.
    package var failedScrapes: Int
    /// The format of the last answer (`text 0.0.4`, `OpenMetrics 1.0`), if any came.
    package var format: String?
    /// Every distinct problem, each with its kind first: `lint: line 3: …`, `parse: line 7: …`.
    package var findings: [String]
    /// Findings left out past the scraper's cap.
    package var findingsOmitted: Int

    package init(url: String, job: String, scrapes: Int, failedScrapes: Int, format: String?, findings: [String], findingsOmitted: Int = 0) {
        self.url = url
        self.job = job
        self.scrapes = scrapes
        self.failedScrapes = failedScrapes
        self.format = format
        self.findings = findings
        self.findingsOmitted = findingsOmitted
    }
}

/// One rule per scraped target: its exposition parses strictly in its format, has none of
/// `promtool check metrics`' lint problems nor inconsistent histograms or duplicate series, and every
/// scrape succeeded within its limits. The evidence lists each problem with its line.
///
/// Subjects: the target, when it failed.
package struct ExpositionCheck: Check {
    /// Most findings shown as evidence per target.
    static let maxEvidence = 50

    package init() {}

    package var kind: RuleResult.Kind { .exposition }

    /// One rule per scraped target of the run (``RunData/scrapedTargets``).
    package func evaluate(_ run: RunData) -> [RuleResult] { Self.evaluate(targets: run.scrapedTargets) }

    /// One rule per target: pass when every scrape succeeded without findings, fail with the findings as
    /// evidence otherwise, no data when the target was never scraped.
    static func evaluate(targets: [ScrapedTarget]) -> [RuleResult] {
        targets.map { target in
            let name = "\(target.job) \(target.url)"
            let expected = "parses strictly, lint-clean, consistent, within limits"
            guard target.scrapes > 0 else {
                return RuleResult(kind: .exposition, name: name, verdict: .noData, measured: "never scraped", expected: expected)
            }
            let scrapes = "\(target.scrapes) scrape\(target.scrapes == 1 ? "" : "s")"
            let format = target.format.map { ", \($0)" } ?? ""
            let total = target.findings.count + target.findingsOmitted
            if total == 0 && target.failedScrapes == 0 {
                return RuleResult(kind: .exposition, name: name, verdict: .pass, measured: "clean (\(scrapes)\(format))", expected: expected)
            }
            var evidence = Array(target.findings.prefix(maxEvidence))
            let more = total - evidence.count
            if more > 0 { evidence.append("… and \(more) more") }
            let failed = target.failedScrapes > 0 ? "; \(target.failedScrapes) of \(scrapes) failed" : " (\(scrapes)\(format))"
            return RuleResult(
                kind: .exposition,
                name: name,
                verdict: .fail,
                measured: "\(total) problem\(total == 1 ? "" : "s")\(failed)",
                expected: expected,
                evidence: evidence,
                subjects: [.target(url: target.url)]
            )
        }
    }
}
