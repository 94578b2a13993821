import CollectorLint
import Foundation
import Testing

/// Each kind of finding, on the smallest configuration that has it: its check, severity, line and path.
@Suite struct CollectorConfigLintTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        var version: String? = nil
        /// `line path check severity`, in file order.
        var findings: [String]
        var testDescription: String { name }
    }

    /// A pipeline every case can extend: memory_limiter first, batch after, a queued exporter.
    static func config(processors: String = "", exporters: String = "", extra: String = "", pipelines: String) -> String {
        """
        receivers:
          otlp:
            protocols: {grpc: {endpoint: 0.0.0.0:4317}}
        processors:
          memory_limiter: {check_interval: 1s, limit_percentage: 80}
          batch: {}
        \(processors)
        exporters:
          otlp: {endpoint: backend:4317, sending_queue: {queue_size: 1000}}
        \(exporters)
        \(extra)
        service:
          pipelines:
        \(pipelines)
        """
    }

    static let cases: [Case] = [
        .init(
            name: "clean",
            yaml: config(pipelines: "    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}"),
            findings: []
        ),
        .init(
            name: "a component used but not defined",
            yaml: config(pipelines: "    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp, otlp/backup]}"),
            findings: ["14 service.pipelines.traces.exporters[1] undefined-component error"]
        ),
        .init(
            name: "a component defined but not used",
            yaml: config(exporters: "  debug: {}", pipelines: "    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}"),
            findings: ["10 exporters.debug unused-component warning"]
        ),
        .init(
            name: "an exporter in a pipeline of a signal it cannot carry",
            yaml: config(
                exporters: "  prometheus: {endpoint: 0.0.0.0:9464}",
                pipelines: "    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp, prometheus]}"
            ),
            findings: ["14 service.pipelines.traces.exporters[1] signal-mismatch error"]
        ),
        .init(
            name: "an unknown component type",
            yaml: config(
                processors: "  memorylimiter: {}",
                pipelines: "    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}"
            ),
            findings: ["7 processors.memorylimiter unknown-component error", "7 processors.memorylimiter unused-component warning"]
        ),
        .init(
            name: "the jaeger exporter, removed in v0.85.0",
            yaml: config(
                exporters: "  jaeger: {endpoint: jaeger:14250}",
                pipelines: "    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp, jaeger]}"
            ),
            findings: ["10 exporters.jaeger removed-component error"]
        ),
        .init(
            name: "the jaeger exporter is fine for v0.84.0",
            yaml: config(
                exporters: "  jaeger: {endpoint: jaeger:14250}",
                pipelines: "    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp, jaeger]}"
            ),
            version: "0.84.0",
            findings: []
        ),
        .init(
            name: "the logging exporter: deprecated in v0.86.0, removed in v0.111.0",
            yaml: config(
                exporters: "  logging: {}",
                pipelines: "    logs: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp, logging]}"
            ),
            version: "0.100.0",
            findings: ["10 exporters.logging deprecated-component warning"]
        ),
        .init(
            name: "the logging exporter at v0.111.0",
            yaml: config(
                exporters: "  logging: {}",
                pipelines: "    logs: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp, logging]}"
            ),
            version: "0.111.0",
            findings: ["10 exporters.logging removed-component error"]
        ),
        .init(
            name: "the debug exporter before it existed",
            yaml: config(exporters: "  debug: {}", pipelines: "    logs: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp, debug]}"),
            version: "0.85.0",
            findings: ["10 exporters.debug unavailable-component error"]
        ),
        .init(
            name: "deprecated and removed settings",
            yaml: config(
                processors: "  memory_limiter/old: {check_interval: 1s, limit_mib: 400, ballast_size_mib: 165}",
                exporters: "  otlp/plain: {endpoint: b:4317, insecure: true, retry_on_failure: {enabled: true}}",
                pipelines: "    traces: {receivers: [otlp], processors: [memory_limiter/old, batch], exporters: [otlp, otlp/plain]}"
            ),
            findings: [
                "5 processors.memory_limiter unused-component warning", "7 processors.memory_limiter/old.ballast_size_mib deprecated-setting warning",
                "10 exporters.otlp/plain.insecure removed-setting error",
            ]
        ),
        .init(
            name: "memory_limiter without check_interval or a limit",
            yaml: config(
                processors: "  memory_limiter/bare: {spike_limit_mib: 10}",
                pipelines: "    traces: {receivers: [otlp], processors: [memory_limiter/bare, batch], exporters: [otlp]}"
            ),
            findings: [
                "5 processors.memory_limiter unused-component warning", "7 processors.memory_limiter/bare memory-limiter error",
                "7 processors.memory_limiter/bare memory-limiter error",
            ]
        ),
        .init(
            name: "memory_limiter after batch, and no memory_limiter at all",
            yaml: config(
                pipelines: """
                        traces: {receivers: [otlp], processors: [batch, memory_limiter], exporters: [otlp]}
                        logs: {receivers: [otlp], processors: [batch], exporters: [otlp]}
                    """
            ),
            findings: ["14 service.pipelines.traces.processors[1] processor-order warning", "15 service.pipelines.logs.processors processor-order warning"]
        ),
        .init(
            name: "an exporter that can queue with neither sending_queue nor retry_on_failure",
            yaml: config(
                exporters: "  otlphttp: {endpoint: http://b:4318}",
                pipelines: "    logs: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp, otlphttp]}"
            ),
            findings: ["10 exporters.otlphttp exporter-queue warning"]
        ),
        .init(
            name: "an authenticator that is not an enabled extension",
            yaml: config(
                exporters: "  otlphttp/auth: {endpoint: http://b:4318, retry_on_failure: {}, auth: {authenticator: bearertokenauth}}",
                pipelines: "    logs: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlphttp/auth]}"
            ),
            findings: ["9 exporters.otlp unused-component warning", "10 exporters.otlphttp/auth.auth.authenticator undefined-component error"]
        ),
        .init(
            name: "an extension defined but not enabled, another enabled but not defined",
            yaml: config(
                extra: "extensions:\n  health_check: {}",
                pipelines: "    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}\n  extensions: [pprof]"
            ),
            findings: ["12 extensions.health_check unused-component warning", "16 service.extensions[0] undefined-component error"]
        ),
        .init(
            name: "a connector joining traces to metrics, and one used on one side only",
            yaml: config(
                extra: "connectors:\n  spanmetrics: {}\n  forward: {}",
                pipelines: """
                        traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp, spanmetrics, forward]}
                        metrics: {receivers: [spanmetrics], processors: [memory_limiter, batch], exporters: [otlp]}
                    """
            ),
            findings: ["13 connectors.forward structure error"]
        ),
        .init(
            name: "a connector on the wrong side of its signals",
            yaml: config(
                extra: "connectors:\n  spanmetrics: {}",
                pipelines: """
                        metrics: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp, spanmetrics]}
                        traces: {receivers: [spanmetrics], processors: [memory_limiter, batch], exporters: [otlp]}
                    """
            ),
            findings: ["15 service.pipelines.metrics.exporters[1] signal-mismatch error", "16 service.pipelines.traces.receivers[0] signal-mismatch error"]
        ),
        .init(
            name: "structure: an unknown top-level key, a pipeline of no signal, a pipeline without exporters",
            yaml: config(
                extra: "exporter: {}",
                pipelines: """
                        spans: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}
                        logs: {receivers: [otlp], processors: [memory_limiter, batch]}
                    """
            ),
            findings: ["11 exporter structure error", "14 service.pipelines.spans structure error", "15 service.pipelines.logs.exporters structure error"]
        ),
    ]

    @Test(arguments: cases)
    func findsEachKindOfMistakeAtItsLine(_ testCase: Case) throws {
        let version = try testCase.version.map { try #require(CollectorVersion($0)) }
        let report = try CollectorConfigLint(version: version).lint(text: testCase.yaml, file: "config.yaml")
        let found = report.findings.map { "\($0.line) \($0.path) \($0.check.rawValue) \($0.severity.rawValue)" }
        #expect(found == testCase.findings, "\(report.findings.map(\.description).joined(separator: "\n"))")
        #expect(report.findings.allSatisfy { !$0.fix.isEmpty && $0.line > 0 && $0.column > 0 })
    }

    /// A mapping as a key was named by Yams' description of the node, tens of kilobytes for a large one, in the
    /// finding and in a "did you mean" against every section (the scenario loader's fuzz finding, same class). The
    /// Collector reads only names as keys; such a configuration is unreadable, said in a line.
    @Test func aLargeMappingAsAKeyIsNamedByItsKind() throws {
        let entries = (0..<300).map { "k\($0): [\($0), {a: b}]" }.joined(separator: ", ")
        let yaml = Self.config(
            extra: "? {\(entries)}\n: {}",
            pipelines: "    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}"
        )
        #expect {
            try CollectorConfigLint().lint(text: yaml, file: "config.yaml")
        } throws: { error in
            guard let unreadable = error as? CollectorConfigUnreadable else { return false }
            return unreadable.line == 11 && unreadable.message == "a key must be a name, found a mapping"
        }
    }

    @Test func invalidYAMLIsUnreadableWithItsLine() {
        let text = "receivers:\n  otlp:\n    protocols: [grpc\nexporters: {}\n"
        #expect {
            try CollectorConfigLint().lint(text: text, file: "broken.yaml")
        } throws: { error in
            guard let unreadable = error as? CollectorConfigUnreadable else { return false }
            return unreadable.file == "broken.yaml" && unreadable.line == 4 && unreadable.message.hasPrefix("YAML syntax")
        }
    }

    @Test func aMissingFileIsUnreadable() {
        #expect {
            try CollectorConfigLint().lint(file: "/nonexistent/otel-collector.yaml")
        } throws: { error in
            (error as? CollectorConfigUnreadable)?.description == "/nonexistent/otel-collector.yaml: cannot read the file (missing, unreadable or not UTF-8)"
        }
    }

    @Test func theShippedTableDecodesAndNamesItsRange() throws {
        let table = ComponentTable.shipped
        #expect(table.distribution == "otelcol-contrib")
        #expect(table.oldest == CollectorVersion("0.80.0"))
        #expect(table.newest == CollectorVersion("0.136.0"))
        let jaeger = try #require(table.spec(.exporter, "jaeger"))
        #expect(jaeger.removed == CollectorVersion("0.85.0"))
        #expect(jaeger.fix?.contains("4317") == true)
        let logging = try #require(table.spec(.exporter, "logging"))
        #expect(logging.deprecated == CollectorVersion("0.86.0") && logging.removed == CollectorVersion("0.111.0"))
        #expect(table.spec(.processor, "memory_limiter")?.signals == [.traces, .metrics, .logs])
    }

    @Test(arguments: [("0.90.0", true), ("v0.90.0", true), ("0.90", true), ("0.9x.0", false), ("1", false), ("", false)])
    func parsesVersions(_ text: String, _ valid: Bool) {
        #expect((CollectorVersion(text) != nil) == valid)
    }
}
