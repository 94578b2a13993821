import Foundation
import Intake
import Scrape
import TestSupport
import Testing

/// The lints against `promtool check metrics` (Debian's Prometheus 2.42) as the oracle, and the
/// consistency checks promtool lacks.
@Suite(.serialized) struct ExpositionLintTests {
    static let lintSamples: [String] = [
        """
        # HELP http_requests Requests.
        # TYPE http_requests counter
        http_requests{code="200"} 1
        # TYPE no_help gauge
        no_help 1
        # HELP fooBar camel
        # TYPE fooBar gauge
        fooBar{someLabel="x"} 1
        # HELP latency_milliseconds lat
        # TYPE latency_milliseconds histogram
        latency_milliseconds_bucket{le="1"} 1
        latency_milliseconds_bucket{le="+Inf"} 1
        latency_milliseconds_sum 1
        latency_milliseconds_count 1
        # HELP queue_total g
        # TYPE queue_total gauge
        queue_total 1
        # HELP size_kilobytes k
        # TYPE size_kilobytes gauge
        size_kilobytes 1
        # HELP uptime_hours h
        # TYPE uptime_hours gauge
        uptime_hours 1
        # HELP link_bits b
        # TYPE link_bits gauge
        link_bits 1
        # HELP clean_seconds fine
        # TYPE clean_seconds gauge
        clean_seconds 1

        """,
        """
        # HELP items_count c
        # TYPE items_count gauge
        items_count 1
        # HELP slots_bucket b
        # TYPE slots_bucket gauge
        slots_bucket 1
        # HELP errors_sum s
        # TYPE errors_sum counter
        errors_sum 1
        # HELP bounds g
        # TYPE bounds gauge
        bounds{le="1"} 1
        # HELP ops_total c
        # TYPE ops_total counter
        ops_total{quantile="0.5"} 1
        # HELP memory_gauge g
        # TYPE memory_gauge gauge
        memory_gauge 1
        # HELP job:requests:rate5m r
        # TYPE job:requests:rate5m gauge
        job:requests:rate5m 1
        # HELP request_latency_ms l
        # TYPE request_latency_ms gauge
        request_latency_ms 1
        # HELP disk_free_kb d
        # TYPE disk_free_kb gauge
        disk_free_kb 1
        # HELP whatever_untyped_total u
        whatever_untyped_total 1
        # HELP rpc_duration_seconds s
        # TYPE rpc_duration_seconds summary
        rpc_duration_seconds{quantile="0.5"} 1
        rpc_duration_seconds_sum 1
        rpc_duration_seconds_count 1

        """,
    ]

    /// promtool's lint lines for `text` (empty when it has none); fails when promtool cannot parse it.
    static func promtoolLints(_ text: String) async throws -> [String] {
        let promtool = try requirePeer("/usr/bin/promtool")
        return try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("metrics.txt")
            try Data(text.utf8).write(to: file)
            let outcome = try await runToCompletion("/bin/sh", ["-c", "\"$0\" check metrics < \"$1\"", promtool, file.path], timeout: .seconds(30))
            guard outcome.status == 0 || outcome.status == 3 else { throw TestFailure("promtool failed (\(outcome.status)): \(outcome.output)") }
            return outcome.output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        }
    }

    @Test(arguments: 0..<lintSamples.count)
    func lintsAreExactlyWhatPromtoolReports(_ index: Int) async throws {
        let text = Self.lintSamples[index]
        let expected = try await Self.promtoolLints(text)
        #expect(!expected.isEmpty)
        let findings = ExpositionLint.findings(try ExpositionParser.parse(text, format: .text))
        let ours = findings.compactMap(\.promtoolLine)
        #expect(
            Set(ours) == Set(expected),
            "only ours: \(Set(ours).subtracting(expected).sorted()), only promtool: \(Set(expected).subtracting(ours).sorted())"
        )
        // Each lint names the line its family starts at.
        let counter = findings.first { $0.metric == "http_requests" }
        #expect(counter?.line == (index == 0 ? 1 : nil))
        if index == 0 { #expect(counter?.description == #"line 1: http_requests counter metrics should have "_total" suffix"#) }
    }

    /// Our own exposition service, with a millisecond histogram: promtool and we flag the same unit.
    @Test func ourExpositionOfAMillisecondHistogramLintsAsPromtoolSays() async throws {
        try await withSinks { sinks in
            let body: [UInt8] = try SampleMetrics.request(durationUnit: "ms").serializedBytes()
            #expect(try await sinks.send(port: sinks.otlpHTTPPort, "/v1/metrics", contentType: "application/x-protobuf", body: body).status == 200)
            let answer = try await sinks.send(port: sinks.expositionPort, "/metrics", method: .GET)
            let expected = try await Self.promtoolLints(answer.text)
            let ours = ExpositionLint.findings(try ExpositionParser.parse(answer.text, format: .text)).compactMap(\.promtoolLine)
            #expect(Set(ours) == Set(expected))
            #expect(expected.contains { $0.contains(#"use base unit "seconds" instead of "milliseconds""#) }, "\(expected)")
        }
    }

    /// OpenMetrics families are linted as Prometheus reads them: a counter `x` is `x_total`, no complaint.
    @Test func openMetricsFamiliesAreLintedInPrometheusTerms() throws {
        let text = """
            # TYPE requests counter
            # HELP requests r
            requests_total 1
            # TYPE build info
            build_info{version="1"} 1
            # TYPE latency_milliseconds histogram
            # HELP latency_milliseconds l
            latency_milliseconds_bucket{le="+Inf"} 1
            latency_milliseconds_sum 0.5
            latency_milliseconds_count 1
            # EOF

            """
        let findings = ExpositionLint.findings(try ExpositionParser.parse(text, format: .openMetrics))
        #expect(
            Set(findings.compactMap(\.promtoolLine)) == [
                "build_info no help text", #"latency_milliseconds use base unit "seconds" instead of "milliseconds""#,
            ]
        )
    }

    /// What promtool passes but a histogram or a scrape must not have.
    @Test func inconsistentHistogramsAndDuplicateSeriesAreFoundByLine() async throws {
        let text = """
            # HELP rpc_seconds RPC latency.
            # TYPE rpc_seconds histogram
            rpc_seconds_bucket{method="get",le="0.1"} 5
            rpc_seconds_bucket{method="get",le="0.5"} 3
            rpc_seconds_bucket{method="get",le="+Inf"} 9
            rpc_seconds_sum{method="get"} 1.5
            rpc_seconds_count{method="get"} 8
            rpc_seconds_bucket{method="put",le="1"} 1
            rpc_seconds_bucket{method="put",le="0.5"} 1
            rpc_seconds_sum{method="put"} 1
            rpc_seconds_count{method="put"} 1
            # HELP temperature_celsius T.
            # TYPE temperature_celsius gauge
            temperature_celsius{room="a"} 20
            temperature_celsius{room="a"} 21

            """
        #expect(try await Self.promtoolLints(text).isEmpty, "promtool finds nothing here")
        let findings = ExpositionLint.findings(try ExpositionParser.parse(text, format: .text))
        let lines = findings.map(\.description)
        #expect(findings.allSatisfy { $0.kind == .consistency }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("line 4: ") && $0.contains(#"bucket le="0.5" counts 3, less than le="0.1" with 5"#) }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("line 7: ") && $0.contains("rpc_seconds_count is 8 but the le=\"+Inf\" bucket (line 5) is 9") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("line 9: ") && $0.contains(#"le="0.5" comes after le="1""#) }, "\(lines)")
        #expect(lines.contains { $0.contains(#"rpc_seconds{method="put"} has no le="+Inf" bucket"#) }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("line 15: ") && $0.contains(#"duplicate series temperature_celsius{room="a"}: also at line 14"#) }, "\(lines)")
        #expect(findings.count == 5, "\(lines)")
    }

    /// A 0.0.4 family split into two groups parses (Prometheus and promtool accept it) but is a finding.
    @Test func aSplitFamilyIsAFormatFinding() throws {
        let text = "# HELP a x\n# TYPE a gauge\na{k=\"1\"} 1\n# HELP b y\n# TYPE b gauge\nb 1\na{k=\"2\"} 2\n"
        let findings = ExpositionLint.findings(try ExpositionParser.parse(text, format: .text))
        #expect(
            findings.map(\.description) == [
                "line 7: metric family a continues after other families (it starts at line 1): the format asks for all of a family's lines in one group"
            ]
        )
        #expect(findings.first?.kind == .format)
    }
}
