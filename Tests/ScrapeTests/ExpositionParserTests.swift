import Foundation
import Intake
import Query
import Scenario
import Scrape
import TestSupport
import Testing

/// The strict exposition parser: both formats on good text, every malformed case named by line, the
/// Python OpenMetrics parser as an oracle for what OpenMetrics accepts, and inputs that must neither
/// crash nor hang.
@Suite(.serialized) struct ExpositionParserTests {
    static let goodText = """
        # HELP http_requests_total Requests by code.\\nSecond line with a \\\\ backslash.
        # TYPE http_requests_total counter
        http_requests_total{code="200",path="/a \\"quoted\\"\\n"} 1027 1395066363000
        http_requests_total{code="400",} 3
        # a comment
        \t
        # TYPE latency_seconds histogram
        latency_seconds_bucket{le="0.05"} 24054
        latency_seconds_bucket{le="0.1"} 33444
        latency_seconds_bucket{le="+Inf"} 144320
        latency_seconds_sum 53423
        latency_seconds_count 144320
        # TYPE rpc_seconds summary
        rpc_seconds{quantile="0.5"} 4773
        rpc_seconds{quantile="0.99"} NaN
        rpc_seconds_sum 1.7560473e+07
        rpc_seconds_count 2693
        temperature_celsius -Inf
        free_bytes\t+Inf

        """

    static let goodOpenMetrics = """
        # TYPE http_requests counter
        # HELP http_requests Requests by code with a \\"quote\\".
        http_requests_total{code="200"} 1027 1395066363.123 # {trace_id="KOO5S4vxi0o"} 1 1395066363.0
        http_requests_created{code="200"} 1395066363 1395066363.123
        # TYPE latency_seconds histogram
        # UNIT latency_seconds seconds
        latency_seconds_bucket{le="0.05"} 24054
        latency_seconds_bucket{le="+Inf"} 144320 # {trace_id="x"} 0.07
        latency_seconds_sum 53423
        latency_seconds_count 144320
        # TYPE build info
        build_info{version="1.2"} 1
        # TYPE state stateset
        state{state="a"} 1
        state{state="b"} 0
        # TYPE queue gaugehistogram
        queue_bucket{le="1"} 2
        queue_bucket{le="+Inf"} 3
        queue_gsum 4
        queue_gcount 3
        # TYPE anything unknown
        anything 1.5e3
        no_metadata_here inf
        # EOF

        """

    @Test func goodTextParsesWithEveryFamilyAndValue() throws {
        let parsed = try ExpositionParser.parse(Self.goodText, format: .text)
        #expect(parsed.families.map(\.name) == ["http_requests_total", "latency_seconds", "rpc_seconds", "temperature_celsius", "free_bytes"])
        #expect(parsed.families.map(\.type) == [.counter, .histogram, .summary, .untyped, .untyped])
        #expect(parsed.families[0].help == "Requests by code.\nSecond line with a \\ backslash.")
        let first = parsed.samples[0]
        #expect(first.labels == [.init(name: "code", value: "200"), .init(name: "path", value: "/a \"quoted\"\n")])
        #expect(first.value == 1027 && first.timestampMilliseconds == 1_395_066_363_000 && first.line == 3)
        #expect(parsed.samples.count == 13)
        #expect(parsed.samples.first { $0.name == "rpc_seconds" && $0.label("quantile") == "0.99" }?.value.isNaN == true)
        #expect(parsed.samples.last?.value == .infinity)
        #expect(parsed.samples.first { $0.name == "temperature_celsius" }?.value == -.infinity)
        #expect(parsed.problems.isEmpty)
    }

    @Test func goodOpenMetricsParsesWithExemplarsTimestampsAndEveryType() throws {
        let parsed = try ExpositionParser.parse(Self.goodOpenMetrics, format: .openMetrics)
        #expect(parsed.families.map(\.name) == ["http_requests", "latency_seconds", "build", "state", "queue", "anything", "no_metadata_here"])
        #expect(parsed.families.map(\.type) == [.counter, .histogram, .info, .stateset, .gaugehistogram, .unknown, .unknown])
        #expect(parsed.families[1].unit == "seconds")
        #expect(parsed.families[0].help == "Requests by code with a \"quote\".")
        let total = parsed.samples[0]
        #expect(total.name == "http_requests_total" && total.timestampMilliseconds == 1_395_066_363_123 && total.hasExemplar)
        #expect(parsed.samples.map(\.name).contains("http_requests_created"))
        #expect(parsed.samples.last?.value == .infinity)
    }

    /// A malformed exposition, the line the error must name and words the message must contain.
    struct Malformed: CustomTestStringConvertible, Sendable {
        var format: PrometheusExposition.Format
        var text: String
        var line: Int
        var words: String
        var testDescription: String { "\(format == .text ? "text" : "OM"): \(words)" }
    }

    static let malformed: [Malformed] = [
        // Text 0.0.4.
        .init(format: .text, text: "a 1\nb{x=\"1\",x=\"2\"} 1\n", line: 2, words: "duplicate label name x"),
        .init(format: .text, text: "a{x=\"\\t\"} 1\n", line: 1, words: "invalid escape sequence"),
        .init(format: .text, text: "a{x=\"1} 1\n", line: 1, words: "no closing quote"),
        .init(format: .text, text: "a{x=1} 1\n", line: 1, words: "double quotes"),
        .init(format: .text, text: "a{1x=\"1\"} 1\n", line: 1, words: "invalid label name"),
        .init(format: .text, text: "a{x=\"1\" 1\n", line: 1, words: "expected , or }"),
        .init(format: .text, text: "a 1\n2a 1\n", line: 2, words: "invalid metric name"),
        .init(format: .text, text: "a\n", line: 1, words: "a blank and a value"),
        .init(format: .text, text: "a one\n", line: 1, words: "not a number"),
        .init(format: .text, text: "a 0x10\n", line: 1, words: "not a number"),
        .init(format: .text, text: "a 1 12.5\n", line: 1, words: "not an integer"),
        .init(format: .text, text: "a 1 12 extra\n", line: 1, words: "unexpected text"),
        .init(format: .text, text: "# TYPE a counter\n# TYPE a gauge\na 1\n", line: 2, words: "second # TYPE"),
        .init(format: .text, text: "# HELP a x\n# HELP a y\n", line: 2, words: "second # HELP"),
        .init(format: .text, text: "a 1\n# TYPE a gauge\n", line: 2, words: "after samples"),
        .init(format: .text, text: "# TYPE a timer\n", line: 1, words: "unknown metric type \"timer\""),
        .init(format: .text, text: "# TYPE a\n", line: 1, words: "needs a type"),
        .init(format: .text, text: "# TYPE a histogram\na_bucket 1\n", line: 2, words: "no le label"),
        .init(format: .text, text: "# TYPE a histogram\na_bucket{le=\"x\"} 1\n", line: 2, words: "is not a number"),
        .init(format: .text, text: "# TYPE a summary\na 1\n", line: 2, words: "no quantile label"),
        .init(format: .text, text: "# TYPE a histogram\na 1\n", line: 2, words: "does not fit metric family a"),
        .init(format: .text, text: "a 1\nb 2", line: 2, words: "truncated"),
        .init(format: .text, text: "a 1\r\n", line: 1, words: "carriage return"),
        .init(format: .text, text: "a{x=\"\u{FFFD}\\\"} 1\n", line: 1, words: "no closing quote"),
        // OpenMetrics 1.0.
        .init(format: .openMetrics, text: "a 1\n", line: 2, words: "missing # EOF"),
        .init(format: .openMetrics, text: "a 1\n# EOF\nb 1\n", line: 3, words: "after # EOF"),
        .init(format: .openMetrics, text: "a 1\n\n# EOF\n", line: 2, words: "blank line"),
        .init(format: .openMetrics, text: "# a comment\n# EOF\n", line: 1, words: "no comments"),
        .init(format: .openMetrics, text: "a  1\n# EOF\n", line: 1, words: "has no value"),
        .init(format: .openMetrics, text: "a\t1\n# EOF\n", line: 1, words: "expected one space"),
        .init(format: .openMetrics, text: "a{x=\"1\",} 1\n# EOF\n", line: 1, words: "trailing comma"),
        .init(format: .openMetrics, text: "a 1 \n# EOF\n", line: 1, words: "not a finite number of seconds"),
        .init(format: .openMetrics, text: "# TYPE a counter\na 1\n# EOF\n", line: 2, words: "does not fit metric family a"),
        .init(format: .openMetrics, text: "# TYPE a counter\na_total -1\n# EOF\n", line: 2, words: "non-negative"),
        .init(format: .openMetrics, text: "# TYPE a counter\na_total NaN\n# EOF\n", line: 2, words: "non-negative"),
        .init(format: .openMetrics, text: "# TYPE a untyped\n# EOF\n", line: 1, words: "unknown metric type \"untyped\""),
        .init(format: .openMetrics, text: "# TYPE a_seconds gauge\n# UNIT a_seconds milliseconds\n# EOF\n", line: 2, words: "must end with _milliseconds"),
        .init(format: .openMetrics, text: "# TYPE a gauge\na 1\n# HELP a x\n# EOF\n", line: 3, words: "after samples"),
        .init(format: .openMetrics, text: "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"y\"} 2\n# EOF\n", line: 5, words: "ended before"),
        .init(format: .openMetrics, text: "# TYPE a gauge\na 1 # {x=\"y\"} 1\n# EOF\n", line: 2, words: "only counter _total and histogram _bucket"),
        .init(
            format: .openMetrics,
            text: "# TYPE a counter\na_total 1 # {x=\"\(String(repeating: "y", count: 130))\"} 1\n# EOF\n",
            line: 2,
            words: "at most 128"
        ),
        .init(format: .openMetrics, text: "# TYPE a info\na_info 2\n# EOF\n", line: 2, words: "info values are 1"),
        .init(format: .openMetrics, text: "# TYPE a stateset\na{a=\"x\"} 2\n# EOF\n", line: 2, words: "states are 0 or 1"),
        .init(format: .openMetrics, text: "# TYPE a counter\na_total 1 5\na_created 0\n# EOF\n", line: 3, words: "has no timestamp but"),
        .init(format: .openMetrics, text: "a 1\n# EOF", line: 2, words: ""),  // # EOF without a newline is fine; see below
        .init(format: .openMetrics, text: "a 1", line: 1, words: "truncated"),
    ]

    @Test(arguments: malformed)
    func malformedExpositionNamesTheLineAndTheProblem(_ testCase: Malformed) {
        if testCase.words.isEmpty {
            // The one valid case in the table: # EOF needs no newline after it.
            #expect(throws: Never.self) { try ExpositionParser.parse(testCase.text, format: testCase.format) }
            return
        }
        do {
            let parsed = try ExpositionParser.parse(testCase.text, format: testCase.format)
            Issue.record("parsed although malformed: \(parsed.samples.count) samples")
        } catch {
            #expect(error.line == testCase.line, "\(error)")
            #expect(error.message.contains(testCase.words), "\(error)")
            #expect(error.description.hasPrefix("line \(testCase.line): "))
        }
    }

    /// prometheus_client's strict OpenMetrics parser agrees with ours on every OpenMetrics case above.
    @Test func pythonOpenMetricsParserAgreesOnWhatIsValid() async throws {
        let python = try requirePeer(".venv-remote-write/bin/python")
        let checker = repositoryRoot.appendingPathComponent("Tests/Interop/openmetrics_check.py").path
        try await withTemporaryDirectory { directory in
            var cases = Self.malformed.filter { $0.format == .openMetrics }.map { ($0.text, $0.words.isEmpty) }
            cases.append((Self.goodOpenMetrics, true))
            for (index, (text, valid)) in cases.enumerated() {
                let file = directory.appendingPathComponent("case-\(index).txt")
                try Data(text.utf8).write(to: file)
                let outcome = try await runToCompletion(python, [checker, file.path], timeout: .seconds(30))
                let ours = (try? ExpositionParser.parse(text, format: .openMetrics)) != nil
                #expect(ours == valid)
                #expect((outcome.status == 0) == valid, "python says \(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)) for:\n\(text)")
            }
        }
    }

    /// promtool (Prometheus' own text parser) refuses every malformed 0.0.4 case too, naming the same
    /// line, except where it is laxer than the format's documentation (a TYPE without a type, buckets
    /// without `le`, quantiles without `quantile`, a histogram family's bare name as a sample).
    @Test func promtoolRefusesTheSameTextCasesAtTheSameLine() async throws {
        let promtool = try requirePeer("/usr/bin/promtool")
        let promtoolIsLaxer: Set<String> = ["needs a type", "no le label", "no quantile label", "does not fit metric family a"]
        try await withTemporaryDirectory { directory in
            for (index, testCase) in Self.malformed.enumerated() where testCase.format == .text {
                let file = directory.appendingPathComponent("case-\(index).txt")
                try Data(testCase.text.utf8).write(to: file)
                let outcome = try await runToCompletion("/bin/sh", ["-c", "\"$0\" check metrics < \"$1\"", promtool, file.path], timeout: .seconds(30))
                if promtoolIsLaxer.contains(testCase.words) {
                    #expect(outcome.status != 1, "promtool now refuses \(testCase.text.debugDescription): \(outcome.output)")
                } else {
                    #expect(outcome.status == 1, "promtool accepts \(testCase.text.debugDescription): \(outcome.output)")
                    #expect(outcome.output.contains("parsing error in line \(testCase.line):"), "\(testCase.text.debugDescription): \(outcome.output)")
                }
            }
        }
    }

    /// Every prefix of a valid exposition either parses or fails with a line number; none crashes.
    @Test(arguments: [PrometheusExposition.Format.text, .openMetrics])
    func everyTruncationEndsInAResultOrALineNumberedError(_ format: PrometheusExposition.Format) {
        let bytes = Array((format == .text ? Self.goodText : Self.goodOpenMetrics).utf8)
        var failures = 0
        for length in 0..<bytes.count {
            do {
                _ = try ExpositionParser.parse(Array(bytes[..<length]), format: format)
            } catch {
                failures += 1
                #expect(error.line >= 1, "prefix of \(length) bytes: \(error)")
            }
        }
        // A cut that is not at a line end is always caught, in both formats.
        #expect(failures >= bytes.count - bytes.filter { $0 == UInt8(ascii: "\n") }.count - 1)
    }

    @Test func randomBytesAndMutationsNeverCrashOrHang() {
        var generator = SplitMix64(seed: 0x5EED)
        let seeds = [Array(Self.goodText.utf8), Array(Self.goodOpenMetrics.utf8)]
        let alphabet = Array("{}=\",# \n\\abcle_+-.eInfNa0123456789\t".utf8)
        let started = ContinuousClock.now
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 3 == 0 {
                bytes = (0..<Int(generator.next() % 400)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                bytes = seeds[round % 2]
                for _ in 0..<(1 + Int(generator.next() % 8)) {
                    let position = Int(generator.next() % UInt64(bytes.count))
                    bytes[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                }
            }
            for format in [PrometheusExposition.Format.text, .openMetrics] {
                do {
                    let parsed = try ExpositionParser.parse(bytes, format: format)
                    _ = ExpositionLint.findings(parsed)
                } catch {
                    #expect(error.line >= 0)
                }
            }
        }
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func hugeInputsEndQuickly() {
        let started = ContinuousClock.now
        // One line over the limit.
        let long = Array(repeating: UInt8(ascii: "a"), count: ExpositionParser.maxLineBytes + 10) + Array(" 1\n".utf8)
        #expect(throws: ExpositionError.self) { try ExpositionParser.parse(long, format: .text) }
        // A line under the limit with very many labels, and many lines.
        let labels = (0..<20_000).map { "l\($0)=\"v\"" }.joined(separator: ",")
        let parsed = try? ExpositionParser.parse("wide{\(labels)} 1\n", format: .text)
        #expect(parsed?.samples.first?.labels.count == 20_000)
        let many = String(repeating: "m{a=\"b\"} 1\n", count: 100_000)
        let lots = try? ExpositionParser.parse(many, format: .text)
        #expect(lots?.samples.count == 100_000)
        // An unterminated label value spanning a megabyte.
        let open = "x{a=\"" + String(repeating: "\\\\", count: 400_000) + "\n"
        #expect(throws: ExpositionError.self) { try ExpositionParser.parse(open, format: .text) }
        #expect(ContinuousClock.now - started < .seconds(60))
    }
}
