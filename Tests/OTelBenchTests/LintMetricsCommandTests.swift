import Foundation
import TestSupport
import Testing

/// `otelbench lint-metrics` end to end: the built binary on files it reads, its verdict in the exit
/// code (0 clean, 1 findings, 2 unparseable or unreadable) and its findings by line.
@Suite(.serialized) struct LintMetricsCommandTests {
    struct Exposition: CustomTestStringConvertible, Sendable {
        var name: String
        var text: String
        var arguments: [String] = []
        var status: Int32
        var lines: [String]
        var testDescription: String { name }
    }

    static let expositions: [Exposition] = [
        .init(
            name: "clean text",
            text: "# HELP up_seconds Uptime.\n# TYPE up_seconds gauge\nup_seconds 3\n",
            status: 0,
            lines: []
        ),
        .init(
            name: "clean OpenMetrics, found by its # EOF",
            text: "# TYPE a counter\n# HELP a Requests.\na_total 1 # {t=\"x\"} 1\n# EOF\n",
            status: 0,
            lines: []
        ),
        .init(
            name: "promtool's lints, by line",
            text: "# HELP a x\na 1\n# TYPE http_requests counter\nhttp_requests 2\n",
            status: 1,
            lines: ["line 3: http_requests counter metrics should have \"_total\" suffix", "line 3: http_requests no help text"]
        ),
        .init(
            name: "a histogram whose _count is not its +Inf bucket",
            text:
                "# HELP h_seconds x\n# TYPE h_seconds histogram\nh_seconds_bucket{le=\"1\"} 1\nh_seconds_bucket{le=\"+Inf\"} 2\nh_seconds_sum 1\nh_seconds_count 3\n",
            status: 1,
            lines: ["line 6: histogram h_seconds: h_seconds_count is 3 but the le=\"+Inf\" bucket (line 4) is 2: they must be equal"]
        ),
        .init(
            name: "an OpenMetrics counter below zero",
            text: "# TYPE a counter\na_total -1\n# EOF\n",
            status: 2,
            lines: ["OpenMetrics 1.0 parsing error in line 2: a_total is -1: counter values and sums must be non-negative, not NaN"]
        ),
        .init(
            name: "an OpenMetrics exposition read as text",
            text: "# TYPE a counter\na_total 1 1.5\n# EOF\n",
            arguments: ["--format", "text"],
            status: 2,
            lines: ["text 0.0.4 parsing error in line 2: timestamp \"1.5\" of a_total is not an integer (milliseconds since 1970)"]
        ),
        .init(
            name: "text forced to OpenMetrics",
            text: "a 1\n",
            arguments: ["--format", "openmetrics"],
            status: 2,
            lines: ["OpenMetrics 1.0 parsing error in line 2: missing # EOF: an OpenMetrics exposition must end with it (truncated?)"]
        ),
    ]

    @Test(arguments: expositions)
    func exitCodeAndFindingsByLine(_ exposition: Exposition) async throws {
        let binary = try otelbenchExecutable()
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("metrics.txt")
            try Data(exposition.text.utf8).write(to: file)
            let outcome = try await runProcess(binary, ["lint-metrics"] + exposition.arguments + [file.path])
            #expect(outcome.status == exposition.status, "\(outcome.output)")
            let printed = outcome.stdout.split(separator: "\n").map(String.init)
            #expect(printed == exposition.lines, "\(outcome.output)")
        }
    }

    @Test func readsStandardInputForDash() async throws {
        let binary = try otelbenchExecutable()
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("metrics.txt")
            try Data("# TYPE a gauge\na 1\na 2\n".utf8).write(to: file)
            let outcome = try await runToCompletion("/bin/sh", ["-c", "\"$0\" lint-metrics - < \"$1\"", binary.path, file.path])
            #expect(outcome.status == 1, "\(outcome.output)")
            #expect(outcome.stdout.contains("line 3: duplicate series a: also at line 2"), "\(outcome.output)")
            #expect(outcome.stdout.contains("line 1: a no help text"), "\(outcome.output)")
        }
    }

    @Test func anUnreadableFileOrABadFormatIsExitTwo() async throws {
        let binary = try otelbenchExecutable()
        let missing = try await runProcess(binary, ["lint-metrics", "/nonexistent/metrics.txt"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot read /nonexistent/metrics.txt"), "\(missing.output)")
        let badFormat = try await runProcess(binary, ["lint-metrics", "--format", "json", "/dev/null"])
        #expect(badFormat.status != 0)
        #expect(badFormat.stderr.contains("text") && badFormat.stderr.contains("openmetrics"), "\(badFormat.output)")
        let unreachable = try await runProcess(binary, ["lint-metrics", "--timeout", "2", "http://127.0.0.1:1/metrics"])
        #expect(unreachable.status == 2)
        #expect(unreachable.stderr.contains("cannot scrape http://127.0.0.1:1/metrics"), "\(unreachable.output)")
    }
}
