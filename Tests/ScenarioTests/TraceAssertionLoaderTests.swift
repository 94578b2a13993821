import Scenario
import Testing

/// `rules.traces`: every selector and assertion field is read, and every mistake in one is reported with the
/// file, line, column and field, like any other scenario mistake.
@Suite struct TraceAssertionLoaderTests {
    static let base = ScenarioLoaderTests.base

    static func rules(_ traces: String) -> String { base + "rules:\n  traces:\n" + traces }

    @Test func everyFieldIsRead() throws {
        let yaml = Self.rules(
            """
                - name: create calls tasks
                  traces_with: {name_matches: "POST /projects/.*", kind: server}
                  select: {service: cf_core.services.projects, name: POST /projects/create_with_tasks, kind: server, status: unset,
                           attributes: {http.request.method: POST, url.path: {matches: "/projects/.+"}, error.type: {exists: false}}}
                  count: {min: 1, max: 2}
                  duration: {min: 0s, max: 2s}
                  attributes: {http.response.status_code: {equals: "201"}, http.route: {exists: true}}
                  status: [unset, ok]
                  root: false
                  child: {kind: internal}
                  descendant: {kind: client, name: POST /tasks, child: {service: cf_core.services.tasks, kind: server}}
                  parent: {root: false}
                - {name: tasks is never a root, select: {service: cf_core.services.tasks}, root: false}

            """
        )
        let traces = try ScenarioLoader.parse(yaml, file: "ok.yaml").rules.traces
        try #require(traces.count == 2)
        let first = traces[0]
        #expect(first.name == "create calls tasks")
        #expect(first.scope?.namePattern?.source == "POST /projects/.*" && first.scope?.kind == .server)
        #expect(first.select.service == "cf_core.services.projects" && first.select.name == "POST /projects/create_with_tasks")
        #expect(first.select.kind == .server && first.select.status == .unset)
        #expect(
            first.select.attributes == [
                AttributeCondition(key: "error.type", test: .exists(false)),
                AttributeCondition(key: "http.request.method", test: .equals("POST")),
                AttributeCondition(key: "url.path", test: .matches(try TextPattern("/projects/.+"))),
            ]
        )
        #expect(first.count == .init(min: 1, max: 2))
        #expect(first.duration == .init(min: .zero, max: .seconds(2)))
        #expect(
            first.attributes == [
                AttributeCondition(key: "http.response.status_code", test: .equals("201")), AttributeCondition(key: "http.route", test: .exists(true)),
            ]
        )
        #expect(first.status == [.unset, .ok] && first.root == false)
        #expect(first.child == SpanSelector(kind: .internal))
        #expect(
            first.descendant
                == SpanSelector(name: "POST /tasks", kind: .client, structure: [.child(SpanSelector(service: "cf_core.services.tasks", kind: .server))])
        )
        #expect(first.parent == SpanSelector(root: false))
        #expect(traces[1].root == false && traces[1].select == SpanSelector(service: "cf_core.services.tasks"))
    }

    /// Trace assertions alone are rules: a scenario with only them needs nothing else.
    @Test func traceAssertionsAloneAreRules() throws {
        let scenario = try ScenarioLoader.parse(Self.rules("    - {name: a, select: {kind: server}, count: {min: 1}}\n"), file: "ok.yaml")
        #expect(!scenario.rules.isEmpty && scenario.rules.traces[0].count == .init(min: 1))
    }

    @Test(arguments: [
        (
            "bad regex", "    - {name: a, select: {name_matches: \"POST (\"}, count: {min: 1}}\n",
            "bad.yaml:10:40: rules.traces[0].select.name_matches: 'POST (' is not a regular expression"
        ),
        (
            "bad attribute regex", "    - {name: a, select: {}, attributes: {url.path: {matches: \"[a-\"}}}\n",
            "rules.traces[0].attributes.url.path.matches: '[a-' is not a regular expression"
        ),
        (
            "unknown kind", "    - {name: a, select: {kind: sever}, count: {min: 1}}\n",
            "bad.yaml:10:32: rules.traces[0].select.kind: unknown value 'sever' (did you mean 'server'?)"
        ),
        (
            "unknown status", "    - {name: a, select: {}, status: failed}\n",
            "bad.yaml:10:37: rules.traces[0].status: unknown value 'failed'; expected one of unset, ok, error"
        ),
        (
            "unknown status in a list", "    - {name: a, select: {}, status: [ok, eror]}\n",
            "rules.traces[0].status[1]: unknown value 'eror' (did you mean 'error'?)"
        ),
        (
            "unknown selector key", "    - {name: a, select: {span_name: x}, count: {min: 1}}\n",
            "bad.yaml:10:26: rules.traces[0].select.span_name: unknown key 'span_name'"
        ),
        (
            "unknown nested key", "    - {name: a, select: {}, child: {kind: client, chlid: {}}}\n",
            "rules.traces[0].child.chlid: unknown key 'chlid' (did you mean 'child'?)"
        ),
        ("unknown assertion key", "    - {name: a, select: {}, count: {min: 1}, spans: 3}\n", "rules.traces[0].spans: unknown key 'spans'"),
        ("no assertion", "    - {name: a, select: {kind: server}}\n", "bad.yaml:10:7: rules.traces[0]: give at least one assertion"),
        ("no selector", "    - {name: a, count: {min: 1}}\n", "rules.traces[0]: missing required key 'select'"),
        ("min above max", "    - {name: a, select: {}, count: {min: 3, max: 1}}\n", "rules.traces[0].count: min 3 is above max 1"),
        ("a count that always holds", "    - {name: a, select: {}, count: {min: 0}}\n", "count: {min: 0} holds for every trace"),
        ("negative count", "    - {name: a, select: {}, count: {max: -1}}\n", "rules.traces[0].count.max: -1 is out of range"),
        ("duration without a unit", "    - {name: a, select: {}, duration: {max: 5}}\n", "rules.traces[0].duration.max: expected a duration"),
        ("two ways to name", "    - {name: a, select: {name: x, name_matches: x.*}, count: {min: 1}}\n", "give either name (exact) or name_matches"),
        ("a root with a parent", "    - {name: a, select: {root: true, parent: {}}, count: {min: 1}}\n", "a root has no parent"),
        (
            "two tests on one attribute", "    - {name: a, select: {}, attributes: {x: {equals: 1, exists: true}}}\n",
            "give one of equals, matches or exists for x"
        ),
        (
            "duplicate names", "    - {name: a, select: {}, root: false}\n    - {name: a, select: {}, root: true}\n",
            "bad.yaml:11:7: rules.traces[1]: a second trace assertion named 'a'"
        ),
        ("not a list", "    {name: a}\n", "rules.traces: expected a list"),
    ])
    func mistakeIsReportedWithFileLineAndField(_ name: String, _ traces: String, _ expected: String) {
        #expect {
            try ScenarioLoader.parse(Self.rules(traces), file: "bad.yaml")
        } throws: { error in
            let text = "\(error)"
            let found = text.contains(expected) && text.hasPrefix("bad.yaml:")
            if !found { Issue.record("\(name): expected \(expected)\ngot \(text)") }
            return found
        }
    }
}

/// `rules.semconv`: `true`, or the services to check; anything else is a mistake with its line and field.
@Suite struct SemanticConventionsLoaderTests {
    @Test func readsTrueAndServices() throws {
        let base = ScenarioLoaderTests.base
        #expect(try ScenarioLoader.parse(base + "rules: {semconv: true}\n", file: "ok.yaml").rules.semanticConventions == SemanticConventionsRule())
        let named = try ScenarioLoader.parse(base + "rules: {semconv: {services: [billing]}}\n", file: "ok.yaml")
        #expect(named.rules.semanticConventions?.services == ["billing"])
    }

    @Test(arguments: [
        ("rules: {semconv: maybe}\n", "bad.yaml:8:18: rules.semconv: expected true or false"),
        ("rules: {semconv: {service: [x]}}\n", "rules.semconv.service: unknown key 'service' (did you mean 'services'?)"),
        ("rules: {semconv: {services: []}}\n", "rules.semconv.services: name at least one service"),
        ("rules: {semconv: false}\n", "a scenario needs at least one rule"),
    ])
    func mistakeIsReported(_ rules: String, _ expected: String) {
        #expect {
            try ScenarioLoader.parse(ScenarioLoaderTests.base + rules, file: "bad.yaml")
        } throws: { error in
            let found = "\(error)".contains(expected)
            if !found { Issue.record("expected \(expected)\ngot \(error)") }
            return found
        }
    }
}
