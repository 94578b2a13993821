import Foundation
import Scenario
import Testing

@Suite struct ScenarioLoaderTests {
    static let valid = """
        name: smoke
        description: every request kind
        services:
          builtin:
            time_scale: 0.001
            faults: [slow_rollbacks]
          targets:
            billing: ${BILLING_URL}/api
        intake:
          otlp_grpc: 127.0.0.1:0
          faults:
            - {signal: traces, rate: 0.1, respond: "503", retry_after: 1s}
            - {sequence: [partial_success, unavailable, ok]}
        workload:
          connections: 8
          timeout: 2s
          phases:
            - {name: warm-up, duration: 5s, arrival: constant, rate: 20}
            - {name: ramp, duration: 10s, arrival: ramp, from: 10, to: 100}
            - {name: steady, duration: 1m, arrival: poisson, rate: 50}
            - {name: users, duration: 500ms, arrival: closed, users: 4, think_time: 100ms}
          requests:
            - name: create-task
              weight: 5
              service: tasks
              method: POST
              path: /tasks
              body: '{"title": "task {{counter}}"}'
              headers: {X-Tenant: acme}
              trace: {sampled: true, tracestate: "congo=t61rcWkgMzE"}
            - {name: live, service: tasks, path: /health/live, trace: {invalid: version-ff}}
            - {name: bill, service: billing, path: /invoices}
        rules:
          slos:
            - {name: rollback p99, metric: rollback_duration_seconds, where: {phase: phase1}, objective: "p99 < 180s"}
            - {name: liveness, client: live, objective: "p99.9 < 50ms"}
            - {name: server spans, spans: "GET /tasks", service: cf_core.services.tasks, objective: "p50 <= 0.25"}
            - {name: expr, expr: 'histogram_quantile(0.99, sum(rate(rollback_duration_seconds_bucket[5m])) by (le)) < 180'}
          propagation: true
          cardinality: {limit: 1000, per_metric: {task_create_total: 10}}
          taxonomy: taxonomy/cf-core.yaml
          accounting: {tolerance: 0}
        settle: {timeout: 15s, quiet: 2s}
        """

    @Test func validScenarioIsReadCompletely() throws {
        let scenario = try ScenarioLoader.parse(Self.valid, file: "smoke.yaml", environment: ["BILLING_URL": "https://billing.example"])
        #expect(scenario.name == "smoke")
        #expect(scenario.services.builtin?.faults == [.slowRollbacks])
        #expect(scenario.services.targets["billing"] == "https://billing.example/api")
        #expect(scenario.intake.faults.count == 2)
        #expect(scenario.intake.faults[0].respond == .serviceUnavailable)
        #expect(scenario.intake.faults[1].sequence == [.partialSuccess, .serviceUnavailable, .ok])
        #expect(
            scenario.workload.phases.map(\.arrival) == [
                .constant(rate: 20), .ramp(from: 10, to: 100), .poisson(rate: 50), .closed(users: 4, thinkTime: .milliseconds(100)),
            ]
        )
        #expect(scenario.workload.duration == .seconds(75) + .milliseconds(500))
        #expect(scenario.workload.requests.map(\.name) == ["create-task", "live", "bill"])
        #expect(scenario.workload.requests[0].headers.first?.1 == "acme")
        #expect(scenario.workload.requests[1].trace.invalid == .versionFF)
        #expect(scenario.workload.requests[2].method == "GET")
        #expect(scenario.rules.slos[0].source == .metric(name: "rollback_duration_seconds"))
        #expect(scenario.rules.slos[0].threshold == 180)
        #expect(scenario.rules.slos[1].quantile == 0.999)
        #expect(abs(scenario.rules.slos[1].threshold - 0.05) < 1e-12)
        #expect(scenario.rules.slos[2].comparison == .lessOrEqual)
        #expect(scenario.rules.slos[3].expression?.hasPrefix("histogram_quantile") == true)
        #expect(scenario.rules.cardinalityPerMetric["task_create_total"] == 10)
        #expect(scenario.rules.accountingTolerance == 0)
        #expect(scenario.settle.quiet == .seconds(2))
    }

    @Test func sinksAreReadWithTheirAddressesAndDefaultsFromTheEnvironment() throws {
        let yaml =
            Self.base + """
                intake:
                  jaeger_grpc: 127.0.0.1:0
                  jaeger_thrift: ${THRIFT_ADDRESS:-127.0.0.1:14268}
                  prometheus: ${REMOTE_WRITE:-127.0.0.1:9090}
                  exposition: 127.0.0.1:0
                rules: {propagation: true}
                """
        let scenario = try ScenarioLoader.parse(yaml, file: "sinks.yaml", environment: ["REMOTE_WRITE": "127.0.0.1:19090"])
        #expect(
            scenario.intake.sinks == [
                .jaegerGRPC: ListenAddress(host: "127.0.0.1", port: 0), .jaegerThrift: ListenAddress(host: "127.0.0.1", port: 14268),
                .prometheus: ListenAddress(host: "127.0.0.1", port: 19090), .exposition: ListenAddress(host: "127.0.0.1", port: 0),
            ]
        )
        #expect(scenario.intake.otlpGRPC == ListenAddress(host: "127.0.0.1", port: 0), "port 0 may repeat: each listener gets its own free port")
        #expect(try ScenarioLoader.parse(Self.base + "rules: {propagation: true}\n", file: "plain.yaml").intake.sinks.isEmpty, "no sink runs unless named")
    }

    /// A scenario without a rule would pass every run for lack of evidence: that is a mistake, at `rules:` when
    /// it is there and at the top of the file when it is not. A scrape target is a rule of its own.
    @Test func aScenarioWithoutRulesIsAMistake() throws {
        let expected = "a scenario needs at least one rule"
        for (yaml, location) in [(Self.base, "bad.yaml:1:1: rules: "), (Self.base + "rules: {alert_interval: 2s}\n", "bad.yaml:8:8: rules: ")] {
            #expect {
                try ScenarioLoader.parse(yaml, file: "bad.yaml")
            } throws: { error in
                let text = "\(error)"
                if !text.contains(location + expected) { Issue.record("expected \(location)\(expected)\ngot \(text)") }
                return text.contains(location + expected)
            }
        }
        #expect(try ScenarioLoader.parse(Self.base + "rules: {accounting: {tolerance: 0}}\n", file: "ok.yaml").rules.accountingTolerance == 0)
        let scraped = try ScenarioLoader.parse(Self.base + "scrape: {targets: [{url: 'http://127.0.0.1:9100/metrics'}]}\n", file: "ok.yaml")
        #expect(scraped.rules.isEmpty && scraped.scrape.targets.count == 1)
    }

    struct Mistake: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        var expected: String
        var testDescription: String { name }
    }

    static let base =
        "name: x\nservices: {builtin: {}}\nworkload:\n  phases:\n    - {name: p, duration: 1s, arrival: constant, rate: 5}\n  requests:\n    - {name: r, service: tasks, path: /tasks}\n"

    static let mistakes: [Mistake] = [
        Mistake(
            name: "unknown top-level key",
            yaml: base + "settel: {timeout: 1s}\n",
            expected: "bad.yaml:8:1: settel: unknown key 'settel' (did you mean 'settle'?)"
        ),
        Mistake(
            name: "negative rate",
            yaml: base.replacingOccurrences(of: "rate: 5", with: "rate: -5"),
            expected: "bad.yaml:5:56: workload.phases[0].rate: -5 must be > 0"
        ),
        Mistake(
            name: "bad duration",
            yaml: base.replacingOccurrences(of: "duration: 1s", with: "duration: 10 parsecs"),
            expected: "workload.phases[0].duration: expected a duration such as 500ms, 30s, 5m or 1h (at most about 292 years), found '10 parsecs'"
        ),
        Mistake(
            name: "unknown arrival",
            yaml: base.replacingOccurrences(of: "arrival: constant", with: "arrival: constnat"),
            expected: "unknown value 'constnat' (did you mean 'constant'?)"
        ),
        Mistake(
            name: "wrong type",
            yaml: base.replacingOccurrences(of: "phases:\n    - {name: p, duration: 1s, arrival: constant, rate: 5}", with: "phases: 3"),
            expected: "workload.phases: expected a list, found '3'"
        ),
        Mistake(
            name: "unknown fault mode",
            yaml: base.replacingOccurrences(of: "{builtin: {}}", with: "{builtin: {faults: [drop_traceparnet]}}"),
            expected: "services.builtin.faults[0]: unknown value 'drop_traceparnet' (did you mean 'drop_traceparent'?)"
        ),
        Mistake(
            name: "unknown service",
            yaml: base.replacingOccurrences(of: "service: tasks", with: "service: taks"),
            expected: "unknown service 'taks' (did you mean 'tasks'?)"
        ),
        Mistake(
            name: "missing required key",
            yaml: base.replacingOccurrences(of: "name: r, ", with: ""),
            expected: "workload.requests[0]: missing required key 'name'"
        ),
        Mistake(
            name: "ramp without to",
            yaml: base.replacingOccurrences(of: "arrival: constant, rate: 5", with: "arrival: ramp, from: 5"),
            expected: "a ramp arrival needs 'to'"
        ),
        Mistake(
            name: "field of another arrival",
            yaml: base.replacingOccurrences(of: "rate: 5", with: "rate: 5, users: 3"),
            expected: "'users' does not apply to a constant arrival"
        ),
        Mistake(name: "unknown workload key", yaml: base + "  requests2: 1\n", expected: "unknown key 'requests2'"),
        Mistake(
            name: "unset environment variable",
            yaml: base.replacingOccurrences(of: "{builtin: {}}", with: "{targets: {tasks: '${STAGING_URL}'}}"),
            expected: "environment variable STAGING_URL is not set"
        ),
        Mistake(
            name: "bad objective",
            yaml: base + "rules: {slos: [{name: s, client: r, objective: 'p99 under 3s'}]}\n",
            expected: "rules.slos[0].objective: 'p99 under 3s' is not an objective"
        ),
        Mistake(name: "expr without comparison", yaml: base + "rules: {slos: [{name: s, expr: 'sum(rate(x[5m]))'}]}\n", expected: "expr must compare"),
        Mistake(
            name: "a function PromQL 2.42 does not have",
            yaml: base + "rules: {slos: [{name: s, expr: 'limitk(1, x) < 1'}]}\n",
            expected: "rules.slos[0].expr: PromQL: unknown function with name \"limitk\""
        ),
        Mistake(
            name: "expr that does not parse",
            yaml: base + "rules: {slos: [{name: s, expr: 'sum(rate(x[5m]) by (le) < 1'}]}\n",
            expected: "rules.slos[0].expr: PromQL: expected \")\" to close sum(...)"
        ),
        Mistake(name: "missing rule file", yaml: base + "rules: {alert_rules: no-such-rules.yaml}\n", expected: "rules.alert_rules: cannot read the rule file"),
        Mistake(name: "expect_alerts without rule file", yaml: base + "rules: {expect_alerts: [X]}\n", expected: "expect_alerts needs alert_rules"),
        Mistake(
            name: "silent_alerts without rule file",
            yaml: base + "rules: {propagation: true, silent_alerts: [X]}\n",
            expected: "bad.yaml:8:43: rules.silent_alerts: silent_alerts needs alert_rules"
        ),
        Mistake(name: "yaml syntax", yaml: "name: [unclosed\n", expected: "bad.yaml:2:1: YAML syntax:"),
        Mistake(
            name: "bad sink address",
            yaml: base + "intake:\n  jaeger_thrift: 127.0.0.1:99999\n",
            expected: "bad.yaml:9:18: intake.jaeger_thrift: '127.0.0.1:99999' is not HOST:PORT"
        ),
        Mistake(
            name: "two sinks on one port",
            yaml: base + "intake:\n  jaeger_grpc: 127.0.0.1:14250\n  prometheus: 127.0.0.1:14250\n",
            expected: "bad.yaml:10:15: intake.prometheus: port 14250 is already taken by intake.jaeger_grpc (line 9)"
        ),
        Mistake(
            name: "a sink on an OTLP port",
            yaml: base + "intake:\n  elasticsearch: 0.0.0.0:4317\n  otlp_grpc: 127.0.0.1:4317\n",
            expected: "bad.yaml:10:14: intake.otlp_grpc: port 4317 is already taken by intake.elasticsearch (line 9)"
        ),
        Mistake(
            name: "misspelt sink",
            yaml: base + "intake:\n  jaeger_thirft: 127.0.0.1:0\n",
            expected: "bad.yaml:9:3: intake.jaeger_thirft: unknown key 'jaeger_thirft' (did you mean 'jaeger_thrift'?)"
        ),
        Mistake(
            name: "invalid trace case",
            yaml: base.replacingOccurrences(of: "path: /tasks}", with: "path: /tasks, trace: {invalid: version-fe}}"),
            expected: "unknown value 'version-fe' (did you mean 'version-ff'?)"
        ),
        Mistake(
            name: "both spellings of a W3C case",
            yaml: base.replacingOccurrences(of: "path: /tasks}", with: "path: /tasks, trace: {w3c: empty, invalid: empty}}"),
            expected: "give either w3c or invalid (the older spelling of w3c), not both"
        ),
        Mistake(
            name: "a tracestate beside a W3C case",
            yaml: base.replacingOccurrences(of: "path: /tasks}", with: "path: /tasks, trace: {w3c: random-flag, tracestate: \"a=1\"}}"),
            expected: "a w3c case sends its own tracestate"
        ),
        Mistake(
            name: "a duration beyond 292 years",
            yaml: base.replacingOccurrences(of: "duration: 1s", with: "duration: 1e85s"),
            expected: "workload.phases[0].duration: expected a duration such as 500ms, 30s, 5m or 1h (at most about 292 years), found '1e85s'"
        ),
        Mistake(
            name: "a mapping as a key",
            yaml: base + "? {settle: 1s}\n: 1\n",
            expected: "bad.yaml:8:3: a key must be a name, found a mapping"
        ),
        Mistake(
            name: "a key far longer than any allowed one",
            yaml: base + "? " + String(repeating: "x", count: 3_000) + "\n: 1\n",
            expected: "unknown key '\(String(repeating: "x", count: 3_000))'; expected one of"
        ),
    ]

    @Test(arguments: mistakes)
    func mistakeIsReportedWithFileLineAndField(_ mistake: Mistake) {
        #expect {
            try ScenarioLoader.parse(mistake.yaml, file: "bad.yaml")
        } throws: { error in
            let text = "\(error)"
            let found = text.contains(mistake.expected)
            if !found { Issue.record("expected \(mistake.expected)\ngot \(text)") }
            return found && text.hasPrefix("bad.yaml:")
        }
    }

    /// A mapping used as a key (found by the scenario-yaml fuzz target) was described node by node in the error, tens
    /// of kilobytes for a large one, and matched against every allowed key for a "did you mean" (seconds per file).
    @Test func aLargeMappingAsAKeyIsNamedByItsKindNotQuoted() {
        let entries = (0..<300).map { "k\($0): [\($0), {a: b}]" }.joined(separator: ", ")
        let yaml = Self.base + "? {\(entries)}\n: 1\n"
        #expect {
            try ScenarioLoader.parse(yaml, file: "bad.yaml")
        } throws: { error in
            guard let key = (error as? FileErrors)?.errors.first(where: { $0.line == 8 }) else { return false }
            return key.message.hasPrefix("a key must be a name, found a mapping") && key.message.count < 300
        }
    }

    /// Yams sorts duplicate keys with `Node`'s `<`, which compares nested lists and mappings with both `<` and `>`
    /// at every level: two equal keys nested 40 deep took 2^40 steps (the scenario-yaml fuzz target: 30–130 s for
    /// 2 KB of nested `? ` keys). Such a key is refused before Yams composes the document, where it starts.
    @Test(arguments: ["[", "{a: "])
    func nestedCollectionsAsDuplicateKeysAreRefusedAtOnce(_ opening: String) {
        let closing = opening == "[" ? "]" : "}"
        let key = String(repeating: opening, count: 40) + "1" + String(repeating: closing, count: 40)
        let yaml = Self.base + "? \(key)\n: 1\n? \(key)\n: 2\n"
        let kind = opening == "[" ? "a list" : "a mapping"
        #expect {
            try ScenarioLoader.parse(yaml, file: "bad.yaml")
        } throws: { error in
            "\(error)" == "bad.yaml:8:3: a key must be a name, found \(kind)"
        }
    }

    /// A key may be an alias of a name, not of a collection (the same sort, through the anchor's node).
    @Test func anAliasOfACollectionAsAKeyIsRefused() {
        let yaml = Self.base + "description: &list [1, [2]]\n? *list\n: 1\n"
        #expect {
            try ScenarioLoader.parse(yaml, file: "bad.yaml")
        } throws: { error in
            "\(error)" == "bad.yaml:9:3: a key must be a name, found an alias of a mapping or a list (*list)"
        }
        // The refusal names the field the key is in.
        #expect { try YAMLShapeCheck.check("a:\n  - b: 1\n    ? [x]\n    : 2\n") } throws: { error in
            "\(error)" == "line 3, column 7: a[0]: a key must be a name, found a list"
        }
        // An alias of a name is a name, also when the anchor was first set on a list.
        #expect(throws: Never.self) { try YAMLShapeCheck.check("a: &k [1]\nb: &k name\n*k : 1\n") }
    }

    /// Yams composes recursively, a chain of frames per level; libyaml (Yams' parser) refuses nesting past 1,000
    /// levels as a syntax error with its position, so a deep document cannot exhaust the stack.
    @Test func nestingIsLimitedWithAPosition() {
        let yaml = Self.base + "description: " + String(repeating: "[", count: 20_000) + "\n"
        #expect {
            try ScenarioLoader.parse(yaml, file: "bad.yaml")
        } throws: { error in
            "\(error)".hasPrefix("bad.yaml:8:") && "\(error)".contains("YAML syntax: Maximum nesting level reached")
        }
    }

    /// Durations are whole nanoseconds in an Int64: the longest one loads, one hour more is refused (converting it
    /// trapped, and so did any number large enough: the scenario-yaml fuzz target).
    @Test func aDurationIsAtMostInt64MaxNanoseconds() {
        #expect(YAMLReader.parseDuration("2562047h") == .seconds(2_562_047 * 3_600))
        #expect(YAMLReader.parseDuration("2562048h") == nil)
        #expect(YAMLReader.parseDuration("1e300ms") == nil)
    }

    @Test func didYouMeanNamesTheClosestAllowedWord() {
        let allowed = ["settle", "services", "scrape", "estimate"]
        #expect(YAMLReader.closest("settel", in: allowed) == "settle")
        #expect(YAMLReader.closest("SERVICE", in: allowed) == "services")
        #expect(YAMLReader.closest("scr", in: allowed) == "scrape")  // a prefix
        #expect(YAMLReader.closest("workload", in: allowed) == nil)
        #expect(YAMLReader.closest(String(repeating: "x", count: 10_000), in: allowed) == nil)
        #expect(YAMLReader.closest("", in: allowed) == nil)  // every word starts with it: no hint
        #expect(YAMLReader.closest("setle", in: ["kitten", "settle"]) == "settle")
        #expect(YAMLReader.closest("sitting", in: ["kitten", "mitten"]) == nil)  // 3 edits away, more than 2
    }

    @Test func everyMistakeIsListedNotJustTheFirst() {
        let yaml = Self.base.replacingOccurrences(of: "rate: 5", with: "rate: -1") + "settel: 1\nrules: {propagation: maybe}\n"
        #expect {
            try ScenarioLoader.parse(yaml, file: "bad.yaml")
        } throws: { error in
            (error as? FileErrors)?.errors.count == 3
        }
    }

    /// A rule file's mistakes are reported in the rule file's own lines, through the scenario that names it.
    @Test func ruleFileMistakesNameTheRuleFileLineAndField() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = """
            groups:
              - name: slos
                rules:
                  - alert: Fine
                    expr: up == 0
                  - alert: Broken
                    expr: rate(x[5m] > 1
                    for: 5 minutes
                  - record: 1bad
                    expr: sum(x)
                  - expr: x
            """
        try rules.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        let scenario = directory.appendingPathComponent("scenario.yaml")
        try (Self.base + "rules: {alert_rules: rules.yaml, expect_alerts: [Fine]}\n").write(to: scenario, atomically: true, encoding: .utf8)
        #expect {
            try ScenarioLoader.load(path: scenario.path)
        } throws: { error in
            let text = "\(error)"
            let expected = [
                "rules.yaml:7:15: groups[0].rules[1].expr: could not parse expression: binary expression must contain only scalar and instant vector types",
                "rules.yaml:8:14: groups[0].rules[1].for: not a valid duration: \"5 minutes\"",
                "rules.yaml:9:17: groups[0].rules[2].record: invalid recording rule name \"1bad\"",
                "rules.yaml:11:9: groups[0].rules[3]: one of 'record' or 'alert' must be set",
            ]
            for line in expected where !text.contains(line) { Issue.record("missing \(line) in\n\(text)") }
            return expected.allSatisfy(text.contains)
        }
        // Fixed, it loads, and expect_alerts must name an alert of the file.
        try rules.replacingOccurrences(of: "rate(x[5m] > 1", with: "rate(x[5m]) > 1").replacingOccurrences(of: "5 minutes", with: "5m")
            .replacingOccurrences(of: "1bad", with: "job:x:sum").replacingOccurrences(of: "  - expr: x", with: "  - {record: y, expr: x}")
            .write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        let loaded = try ScenarioLoader.load(path: scenario.path)
        #expect(loaded.rules.alertRules?.alertNames == ["Fine", "Broken"])
        #expect(loaded.rules.alertRules?.groups[0].rules[1].holdDuration == .seconds(300))
        try (Self.base + "rules: {alert_rules: rules.yaml, expect_alerts: [Fin]}\n").write(to: scenario, atomically: true, encoding: .utf8)
        #expect(throws: FileErrors.self) { try ScenarioLoader.load(path: scenario.path) }
        // silent_alerts: alerts of the file that may see no series, none of which must fire.
        try (Self.base + "rules: {alert_rules: rules.yaml, silent_alerts: [Broken]}\n").write(to: scenario, atomically: true, encoding: .utf8)
        #expect(try ScenarioLoader.load(path: scenario.path).rules.silentAlerts == ["Broken"])
        for (rulesLine, message) in [
            (
                "rules: {alert_rules: rules.yaml, silent_alerts: [Brokn]}",
                "scenario.yaml:8:49: rules.silent_alerts: silent_alerts names \"Brokn\", which no rule"
            ),
            (
                "rules: {alert_rules: rules.yaml, expect_alerts: [Fine], silent_alerts: [Fine]}",
                "scenario.yaml:8:72: rules.silent_alerts: silent_alerts names \"Fine\", which expect_alerts says must fire",
            ),
        ] {
            try (Self.base + rulesLine + "\n").write(to: scenario, atomically: true, encoding: .utf8)
            #expect {
                try ScenarioLoader.load(path: scenario.path)
            } throws: { error in
                let text = "\(error)"
                if !text.contains(message) { Issue.record("expected \(message)\ngot \(text)") }
                return text.contains(message)
            }
        }
    }
}

/// Expressions in scenario and rule files may nest as deep as the parser allows (5,000 levels): parsing one
/// must not overflow the stack of the thread that loads the scenario (8 MB holds about 1,900 levels in a debug
/// build), and one level more is a parse error naming the limit.
@Suite struct DeepExpressionTests {
    static func scenario(depth: Int) -> String {
        let expression = String(repeating: "abs(", count: depth) + "up" + String(repeating: ")", count: depth)
        return """
            name: deep
            services: {builtin: {}}
            workload:
              phases: [{name: p, duration: 1s, arrival: constant, rate: 1}]
              requests: [{name: r, service: tasks, path: /}]
            rules:
              slos: [{name: s, expr: "\(expression) < 1"}]

            """
    }

    @Test func anExpressionAsDeepAsTheParserAllowsLoads() async throws {
        let text = Self.scenario(depth: 4_990)
        let scenario = try await Task { try ScenarioLoader.parse(text, file: "deep.yaml") }.value
        #expect(scenario.rules.slos.count == 1)
    }

    @Test func oneTooDeepIsAParseErrorNamingTheLimit() async throws {
        let text = Self.scenario(depth: 5_000)
        await #expect {
            try await Task { try ScenarioLoader.parse(text, file: "deep.yaml") }.value
        } throws: { error in
            "\(error)".contains("rules.slos[0].expr: PromQL: expression nests more than 5000 levels deep")
        }
    }
}
