/// Prometheus targets to scrape while the scenario runs (`scrape:`); their expositions are checked.
package struct ScrapeSection: Sendable, Hashable {
    /// Time between scrapes of each target. Default 5 s.
    package var interval: Duration = .seconds(5)
    /// How long one scrape may take: at most the interval. Default 10 s, or the interval when shorter.
    package var timeout: Duration = .seconds(5)
    /// The targets; none means no scraping.
    package var targets: [ScrapeTarget] = []

    package init(interval: Duration = .seconds(5), timeout: Duration = .seconds(5), targets: [ScrapeTarget] = []) {
        self.interval = interval
        self.timeout = timeout
        self.targets = targets
    }
}

/// One scrape target.
package struct ScrapeTarget: Sendable, Hashable {
    /// The exposition URL, `http://host:port/metrics`.
    package var url: String
    /// The `job` label of its samples. Default `scrape`.
    package var job: String = "scrape"
    /// Most samples a scrape may have (0: no limit); past it the scrape fails, as in Prometheus.
    package var sampleLimit: Int = 0
    /// Most labels a sample may have, `__name__`, `job` and `instance` included (0: no limit).
    package var labelLimit: Int = 0

    package init(url: String, job: String = "scrape", sampleLimit: Int = 0, labelLimit: Int = 0) {
        self.url = url
        self.job = job
        self.sampleLimit = sampleLimit
        self.labelLimit = labelLimit
    }
}
