import Foundation
import Services
import TestSupport
import Testing

/// The case categories of the official W3C Trace Context test suite (w3c/trace-context `test/test.py`, strict
/// level 2), restated as our own tables: the header parsers on their own, then end to end through `POST /test`.
///
/// Where the suite's strict key cases still use the old tenant/system key grammar, the expectation follows the
/// current spec text (`key = (lcalpha / DIGIT) 0*255 keychar`, `@` a key character), and the case says so.
@Suite(.serialized) struct W3CTraceContextTests {
    static let traceID = "12345678901234567890123456789012"
    static let parentID = "1234567890123456"
    static func parent(_ flags: String, version: String = "00", trailer: String = "") -> String {
        "\(version)-\(traceID)-\(parentID)-\(flags)\(trailer)"
    }

    // MARK: traceparent

    struct TraceParentCase: Sendable, CustomTestStringConvertible {
        var category: String
        var header: String
        /// The parsed trace-flags, nil when the trace must restart.
        var flags: UInt8?
        var testDescription: String { "\(category): \(header.debugDescription)" }
    }

    static let traceParentCases: [TraceParentCase] = [
        .init(category: "traceparent included", header: parent("01"), flags: 0x01),
        .init(category: "traceparent included", header: parent("00"), flags: 0x00),
        .init(category: "version 0x00 trailing characters", header: parent("01", trailer: "."), flags: nil),
        .init(category: "version 0x00 trailing characters", header: parent("01", trailer: "-what-the-future-will-be-like"), flags: nil),
        .init(category: "version 0xcc", header: parent("01", version: "cc"), flags: 0x01),
        .init(category: "version 0xcc", header: parent("01", version: "cc", trailer: "-what-the-future-will-be-like"), flags: 0x01),
        .init(category: "version 0xcc", header: parent("01", version: "cc", trailer: ".what-the-future-will-be-like"), flags: nil),
        .init(category: "version 0xcc", header: "cc-\(traceID)-\(parentID)", flags: nil),
        .init(category: "version 0xff", header: parent("01", version: "ff"), flags: nil),
        .init(category: "version illegal characters", header: parent("01", version: ".0"), flags: nil),
        .init(category: "version illegal characters", header: parent("01", version: "0."), flags: nil),
        .init(category: "version illegal characters", header: parent("01", version: "CC"), flags: nil),
        .init(category: "version too long", header: parent("01", version: "000"), flags: nil),
        .init(category: "version too long", header: parent("01", version: "0000"), flags: nil),
        .init(category: "version too short", header: parent("01", version: "0"), flags: nil),
        .init(category: "trace-id all zero", header: "00-00000000000000000000000000000000-\(parentID)-01", flags: nil),
        .init(category: "trace-id illegal characters", header: "00-.2345678901234567890123456789012-\(parentID)-01", flags: nil),
        .init(category: "trace-id illegal characters", header: "00-1234567890123456789012345678901.-\(parentID)-01", flags: nil),
        .init(category: "trace-id illegal characters", header: "00-4BF92F3577B34DA6A3CE929D0E0E4736-\(parentID)-01", flags: nil),
        .init(category: "trace-id too long", header: "00-123456789012345678901234567890123-\(parentID)-01", flags: nil),
        .init(category: "trace-id too short", header: "00-1234567890123456789012345678901-\(parentID)-01", flags: nil),
        .init(category: "parent-id all zero", header: "00-\(traceID)-0000000000000000-01", flags: nil),
        .init(category: "parent-id illegal characters", header: "00-\(traceID)-.234567890123456-01", flags: nil),
        .init(category: "parent-id illegal characters", header: "00-\(traceID)-123456789012345.-01", flags: nil),
        .init(category: "parent-id too long", header: "00-\(traceID)-12345678901234567-01", flags: nil),
        .init(category: "parent-id too short", header: "00-\(traceID)-123456789012345-01", flags: nil),
        .init(category: "trace-flags illegal characters", header: parent(".0"), flags: nil),
        .init(category: "trace-flags illegal characters", header: parent("0."), flags: nil),
        .init(category: "trace-flags illegal characters", header: parent("0A"), flags: nil),
        .init(category: "trace-flags too long", header: parent("001"), flags: nil),
        .init(category: "trace-flags too short", header: parent("1"), flags: nil),
        .init(category: "OWS handling", header: " " + parent("01"), flags: 0x01),
        .init(category: "OWS handling", header: "\t" + parent("01"), flags: 0x01),
        .init(category: "OWS handling", header: parent("01") + " ", flags: 0x01),
        .init(category: "OWS handling", header: parent("01") + "\t", flags: 0x01),
        .init(category: "OWS handling", header: "\t " + parent("01") + " \t", flags: 0x01),
        .init(category: "Level 2 random flag", header: parent("02"), flags: 0x02),
        .init(category: "Level 2 random flag", header: parent("03"), flags: 0x03),
        .init(category: "Level 2 random flag", header: parent("03", version: "cc", trailer: "-future"), flags: 0x03),
        .init(category: "reserved flags are zeroed", header: parent("09"), flags: 0x01),
        .init(category: "reserved flags are zeroed", header: parent("ff"), flags: 0x03),
        .init(category: "reserved flags are zeroed", header: parent("fc"), flags: 0x00),
        .init(category: "empty", header: "", flags: nil),
    ]

    @Test(arguments: traceParentCases)
    func traceparentParser(_ testCase: TraceParentCase) {
        let parsed = W3CTraceParent(parsing: testCase.header)
        #expect(parsed?.flags == testCase.flags)
        if let parsed {
            #expect(parsed.traceID == Self.traceID)
            #expect(parsed.parentID == Self.parentID)
            let hex = String(testCase.flags!, radix: 16)
            #expect(parsed.headerValue == "00-\(Self.traceID)-\(Self.parentID)-\(hex.count == 1 ? "0" + hex : hex)")
        }
    }

    // MARK: tracestate

    struct TraceStateCase: Sendable, CustomTestStringConvertible {
        var category: String
        var fields: [String]
        /// The combined, validated header value; nil when the list is discarded; "" when it is empty.
        var expected: String?
        var testDescription: String {
            let shown = fields.map { $0.count > 60 ? "\($0.prefix(24))…(\($0.count) characters)" : $0 }
            return "\(category): \(shown.debugDescription)"
        }
    }

    static let allKeyCharacters = "abcdefghijklmnopqrstuvwxyz0123456789_-*/"
    static let allValueCharacters = String((0x20...0x7E).filter { $0 != 0x2C && $0 != 0x3D }.map { Character(UnicodeScalar(UInt8($0))) })
    static func members(_ range: ClosedRange<Int>) -> String {
        range.map { String(format: "bar%02d=%02d", $0, $0) }.joined(separator: ",")
    }

    static let traceStateCases: [TraceStateCase] = [
        .init(category: "tracestate included", fields: ["foo=1,bar=2"], expected: "foo=1,bar=2"),
        .init(category: "tracestate missing", fields: [], expected: ""),
        .init(category: "empty header", fields: [""], expected: ""),
        .init(category: "empty header", fields: ["foo=1", ""], expected: "foo=1"),
        .init(category: "empty header", fields: ["", "foo=1"], expected: "foo=1"),
        .init(category: "empty list members", fields: [" , ,\t,foo=1,,", " \t "], expected: "foo=1"),
        .init(category: "multiple headers, different keys", fields: ["foo=1,bar=2", "rojo=1,congo=2", "baz=3"], expected: "foo=1,bar=2,rojo=1,congo=2,baz=3"),
        .init(category: "duplicated keys", fields: ["foo=1,foo=1"], expected: nil),
        .init(category: "duplicated keys", fields: ["foo=1,foo=2"], expected: nil),
        .init(category: "duplicated keys", fields: ["foo=1", "foo=1"], expected: nil),
        .init(category: "duplicated keys", fields: ["foo=1", "foo=2"], expected: nil),
        .init(
            category: "all allowed characters",
            fields: [allKeyCharacters + "=" + allValueCharacters],
            expected: allKeyCharacters + "=" + allValueCharacters
        ),
        .init(
            category: "all allowed characters",
            fields: [allKeyCharacters + "@a-z0-9_-*/=" + allValueCharacters],
            expected: allKeyCharacters + "@a-z0-9_-*/=" + allValueCharacters
        ),
        .init(category: "OWS handling", fields: ["foo=1 \t , \t bar=2, \t baz=3"], expected: "foo=1,bar=2,baz=3"),
        .init(category: "OWS handling", fields: ["foo=1\t \t,\t \tbar=2,\t \tbaz=3"], expected: "foo=1,bar=2,baz=3"),
        .init(category: "OWS handling", fields: [" foo=1"], expected: "foo=1"),
        .init(category: "OWS handling", fields: ["\tfoo=1"], expected: "foo=1"),
        .init(category: "OWS handling", fields: ["foo=1 "], expected: "foo=1"),
        .init(category: "OWS handling", fields: ["foo=1\t"], expected: "foo=1"),
        .init(category: "OWS handling", fields: ["\t foo=1 \t"], expected: "foo=1"),
        .init(category: "key illegal characters", fields: ["foo =1"], expected: nil),
        .init(category: "key illegal characters", fields: ["FOO=1"], expected: nil),
        .init(category: "key illegal characters", fields: ["foo.bar=1"], expected: nil),
        .init(category: "key illegal characters", fields: ["bar=2,Foo=1"], expected: nil),
        .init(category: "key illegal vendor format", fields: ["@foo=1,bar=2"], expected: nil),
        .init(category: "key illegal vendor format", fields: ["_foo=1,bar=2"], expected: nil),
        // The current grammar makes `@` an ordinary key character (the suite's strict cases predate it).
        .init(category: "key vendor format (current grammar)", fields: ["foo@=1,bar=2"], expected: "foo@=1,bar=2"),
        .init(category: "key vendor format (current grammar)", fields: ["foo@@bar=1,bar=2"], expected: "foo@@bar=1,bar=2"),
        .init(category: "key vendor format (current grammar)", fields: ["foo@bar@baz=1,bar=2"], expected: "foo@bar@baz=1,bar=2"),
        .init(category: "key vendor format (current grammar)", fields: ["0tenant@system=1"], expected: "0tenant@system=1"),
        .init(category: "member count limit", fields: [members(1...10), members(11...20), members(21...30), members(31...32)], expected: members(1...32)),
        .init(category: "member count limit", fields: [members(1...10), members(11...20), members(21...30), members(31...33)], expected: nil),
        .init(category: "member count limit", fields: [members(1...32) + ",,, ,"], expected: members(1...32)),
        .init(
            category: "key length limit",
            fields: ["foo=1", String(repeating: "z", count: 256) + "=1"],
            expected: "foo=1," + String(repeating: "z", count: 256) + "=1"
        ),
        .init(category: "key length limit", fields: ["foo=1", String(repeating: "z", count: 257) + "=1"], expected: nil),
        .init(
            category: "key length limit",
            fields: ["foo=1", String(repeating: "t", count: 241) + "@" + String(repeating: "v", count: 14) + "=1"],
            expected: "foo=1," + String(repeating: "t", count: 241) + "@" + String(repeating: "v", count: 14) + "=1"
        ),
        // 244 and 17 characters: within the 256 of the current grammar (the old tenant/system limits are gone).
        .init(
            category: "key length limit (current grammar)",
            fields: ["foo=1", String(repeating: "t", count: 242) + "@v=1"],
            expected: "foo=1," + String(repeating: "t", count: 242) + "@v=1"
        ),
        .init(
            category: "key length limit (current grammar)",
            fields: ["foo=1", "t@" + String(repeating: "v", count: 15) + "=1"],
            expected: "foo=1,t@" + String(repeating: "v", count: 15) + "=1"
        ),
        .init(
            category: "key length limit",
            fields: ["foo=1", String(repeating: "t", count: 200) + "@" + String(repeating: "v", count: 56) + "=1"],
            expected: nil
        ),
        .init(category: "value illegal characters", fields: ["foo=bar=baz"], expected: nil),
        .init(category: "value illegal characters", fields: ["foo=,bar=3"], expected: nil),
        .init(category: "value illegal characters", fields: ["foo=a\tb"], expected: nil),
        .init(category: "value illegal characters", fields: ["foo=caf\u{e9}"], expected: nil),
        .init(category: "value illegal characters", fields: ["foo"], expected: nil),
        .init(category: "value leading spaces are kept", fields: ["foo= 1 ,bar=2"], expected: "foo= 1,bar=2"),
        .init(category: "value length limit", fields: ["foo=" + String(repeating: "v", count: 256)], expected: "foo=" + String(repeating: "v", count: 256)),
        .init(category: "value length limit", fields: ["foo=" + String(repeating: "v", count: 257)], expected: nil),
    ]

    @Test(arguments: traceStateCases)
    func tracestateValidator(_ testCase: TraceStateCase) {
        let combined: String?
        do {
            combined = try W3CTraceState(combining: testCase.fields).headerValue ?? ""
        } catch {
            combined = nil
        }
        #expect(combined == testCase.expected)
    }

    // MARK: End to end

    /// What the service must forward for one request.
    enum Forwarded: Sendable {
        /// The trace continues: same trace-id, a new parent-id, these flags and exactly this tracestate (nil: none).
        case continues(flags: String, tracestate: String?)
        /// The trace restarts: a new trace-id (random and sampled: flags 03), no tracestate.
        case restarts
    }

    struct Exchange: Sendable {
        var headers: [[String]]
        var forwarded: Forwarded
        init(_ headers: [[String]], _ forwarded: Forwarded) {
            self.headers = headers
            self.forwarded = forwarded
        }
    }

    struct Category: Sendable, CustomTestStringConvertible {
        var name: String
        var exchanges: [Exchange]
        var testDescription: String { name }
    }

    static let continued = parent("00")
    static let categories: [Category] = [
        .init(name: "both headers missing", exchanges: [.init([], .restarts)]),
        .init(name: "traceparent included, tracestate missing", exchanges: [.init([["traceparent", parent("01")]], .continues(flags: "01", tracestate: nil))]),
        .init(
            name: "traceparent duplicated",
            exchanges: [.init([["traceparent", "00-12345678901234567890123456789011-\(parentID)-01"], ["traceparent", parent("01")]], .restarts)]
        ),
        .init(
            name: "traceparent header name",
            exchanges: [.init([["trace-parent", parent("01")]], .restarts), .init([["trace.parent", parent("01")]], .restarts)]
        ),
        .init(
            name: "traceparent header name casing",
            exchanges: ["TraceParent", "TrAcEpArEnT", "TRACEPARENT"].map { .init([[$0, parent("01")]], .continues(flags: "01", tracestate: nil)) }
        ),
        .init(
            name: "traceparent version 0x00",
            exchanges: [
                .init([["traceparent", parent("01", trailer: ".")]], .restarts),
                .init([["traceparent", parent("01", trailer: "-what-the-future-will-be-like")]], .restarts),
            ]
        ),
        .init(
            name: "traceparent version 0xcc",
            exchanges: [
                .init([["traceparent", parent("01", version: "cc")]], .continues(flags: "01", tracestate: nil)),
                .init([["traceparent", parent("01", version: "cc", trailer: "-what-the-future-will-be-like")]], .continues(flags: "01", tracestate: nil)),
                .init([["traceparent", parent("01", version: "cc", trailer: ".what-the-future-will-be-like")]], .restarts),
            ]
        ),
        .init(
            name: "traceparent invalid fields",
            exchanges: [
                parent("01", version: "ff"), parent("01", version: ".0"), parent("01", version: "000"), parent("01", version: "0"),
                "00-00000000000000000000000000000000-\(parentID)-01", "00-1234567890123456789012345678901.-\(parentID)-01",
                "00-123456789012345678901234567890123-\(parentID)-01", "00-1234567890123456789012345678901-\(parentID)-01",
                "00-\(traceID)-0000000000000000-01", "00-\(traceID)-123456789012345.-01", "00-\(traceID)-12345678901234567-01",
                "00-\(traceID)-123456789012345-01", parent(".0"), parent("001"), parent("1"),
            ].map { .init([["traceparent", $0]], .restarts) }
        ),
        .init(
            name: "traceparent OWS handling",
            exchanges: [" " + parent("01"), "\t" + parent("01"), parent("01") + " ", parent("01") + "\t", "\t " + parent("01") + " \t"].map {
                .init([["traceparent", $0]], .continues(flags: "01", tracestate: nil))
            }
        ),
        .init(
            name: "Level 2 random flag",
            exchanges: [
                .init([["traceparent", parent("02")]], .continues(flags: "02", tracestate: nil)),
                .init([["traceparent", parent("03")]], .continues(flags: "03", tracestate: nil)),
                .init([["traceparent", parent("03", version: "cc", trailer: "-future")]], .continues(flags: "03", tracestate: nil)),
                .init([["traceparent", parent("ff")]], .continues(flags: "03", tracestate: nil)),
            ]
        ),
        .init(
            name: "tracestate without traceparent",
            exchanges: [.init([["tracestate", "foo=1"]], .restarts), .init([["tracestate", "foo=1,bar=2"]], .restarts)]
        ),
        .init(
            name: "tracestate included",
            exchanges: [
                .init([["traceparent", continued], ["tracestate", "foo=1,bar=2"]], .continues(flags: "00", tracestate: "foo=1,bar=2")),
                .init([["traceparent", continued], ["trace-state", "foo=1"]], .continues(flags: "00", tracestate: nil)),
                .init([["traceparent", continued], ["TrAcEsTaTe", "foo=1"]], .continues(flags: "00", tracestate: "foo=1")),
            ]
        ),
        .init(
            name: "tracestate empty header",
            exchanges: [
                .init([["traceparent", continued], ["tracestate", ""]], .continues(flags: "00", tracestate: nil)),
                .init([["traceparent", continued], ["tracestate", "foo=1"], ["tracestate", ""]], .continues(flags: "00", tracestate: "foo=1")),
                .init([["traceparent", continued], ["tracestate", ""], ["tracestate", "foo=1"]], .continues(flags: "00", tracestate: "foo=1")),
            ]
        ),
        .init(
            name: "tracestate multiple headers",
            exchanges: [
                .init(
                    [["traceparent", continued], ["tracestate", "foo=1,bar=2"], ["tracestate", "rojo=1,congo=2"], ["tracestate", "baz=3"]],
                    .continues(flags: "00", tracestate: "foo=1,bar=2,rojo=1,congo=2,baz=3")
                )
            ]
        ),
        .init(
            name: "tracestate duplicated keys",
            exchanges: [["foo=1,foo=1"], ["foo=1,foo=2"], ["foo=1", "foo=1"], ["foo=1", "foo=2"]].map { fields in
                .init([["traceparent", continued]] + fields.map { ["tracestate", $0] }, .continues(flags: "00", tracestate: nil))
            }
        ),
        .init(
            name: "tracestate all allowed characters",
            exchanges: [allKeyCharacters, allKeyCharacters + "@a-z0-9_-*/"].map { key in
                .init(
                    [["traceparent", continued], ["tracestate", key + "=" + allValueCharacters]],
                    .continues(flags: "00", tracestate: key + "=" + allValueCharacters)
                )
            }
        ),
        .init(
            name: "tracestate OWS handling",
            exchanges: [
                .init(
                    [["traceparent", continued], ["tracestate", "foo=1 \t , \t bar=2, \t baz=3"]],
                    .continues(flags: "00", tracestate: "foo=1,bar=2,baz=3")
                ),
                .init(
                    [["traceparent", continued], ["tracestate", "foo=1\t \t,\t \tbar=2,\t \tbaz=3"]],
                    .continues(flags: "00", tracestate: "foo=1,bar=2,baz=3")
                ),
            ]
                + [" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"].map {
                    .init([["traceparent", continued], ["tracestate", $0]], .continues(flags: "00", tracestate: "foo=1"))
                }
        ),
        .init(
            name: "tracestate invalid keys and values",
            exchanges: ["foo =1", "FOO=1", "foo.bar=1", "@foo=1,bar=2", "foo=bar=baz", "foo=,bar=3"].map {
                .init([["traceparent", continued], ["tracestate", $0]], .continues(flags: "00", tracestate: nil))
            }
        ),
        .init(
            name: "tracestate keys with @ (current grammar)",
            exchanges: ["foo@=1,bar=2", "foo@@bar=1,bar=2", "foo@bar@baz=1,bar=2"].map {
                .init([["traceparent", continued], ["tracestate", $0]], .continues(flags: "00", tracestate: $0))
            }
        ),
        .init(
            name: "tracestate member count limit",
            exchanges: [
                .init(
                    [
                        ["traceparent", continued], ["tracestate", members(1...10)], ["tracestate", members(11...20)], ["tracestate", members(21...30)],
                        ["tracestate", members(31...32)],
                    ],
                    .continues(flags: "00", tracestate: members(1...32))
                ),
                .init(
                    [
                        ["traceparent", continued], ["tracestate", members(1...10)], ["tracestate", members(11...20)], ["tracestate", members(21...30)],
                        ["tracestate", members(31...33)],
                    ],
                    .continues(flags: "00", tracestate: nil)
                ),
            ]
        ),
        .init(
            name: "tracestate key length limit",
            exchanges: [
                .init(
                    [["traceparent", continued], ["tracestate", "foo=1"], ["tracestate", String(repeating: "z", count: 256) + "=1"]],
                    .continues(flags: "00", tracestate: "foo=1," + String(repeating: "z", count: 256) + "=1")
                ),
                .init(
                    [["traceparent", continued], ["tracestate", "foo=1"], ["tracestate", String(repeating: "z", count: 257) + "=1"]],
                    .continues(flags: "00", tracestate: nil)
                ),
                .init(
                    [["traceparent", continued], ["tracestate", "foo=1"], ["tracestate", String(repeating: "t", count: 242) + "@v=1"]],
                    .continues(flags: "00", tracestate: "foo=1," + String(repeating: "t", count: 242) + "@v=1")
                ),
            ]
        ),
    ]

    /// Each category through the tasks service's `POST /test`: what the callee receives.
    @Test(arguments: categories)
    func endToEnd(_ category: Category) async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let recorder = HeaderRecorder()
                try await recorder.run { callee in
                    for (index, exchange) in category.exchanges.enumerated() {
                        let answer = try await services.send(
                            .POST,
                            .tasks,
                            "/test",
                            body: #"[{"url":"\#(callee)/\#(index)","arguments":[]}]"#,
                            headers: exchange.headers.map { ($0[0], $0[1]) }
                        )
                        #expect(answer.status == 200, "exchange \(index)")
                        let received = try #require(recorder.requests.first { $0.path == "/\(index)" }, "exchange \(index): no callback")
                        let traceparent = try #require(received.headers["traceparent"], "exchange \(index): no traceparent")
                        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                        #expect(parts.count == 4 && parts[0] == "00", "exchange \(index): \(traceparent)")
                        guard parts.count == 4, let forwarded = W3CTraceParent(parsing: traceparent) else {
                            Issue.record("exchange \(index): forwarded traceparent \(traceparent) is not valid")
                            continue
                        }
                        switch exchange.forwarded {
                        case .continues(let flags, let tracestate):
                            #expect(forwarded.traceID == Self.traceID, "exchange \(index): trace restarted")
                            #expect(forwarded.parentID != Self.parentID, "exchange \(index)")
                            #expect(parts[3] == flags, "exchange \(index): flags")
                            #expect(received.headers["tracestate"] == tracestate, "exchange \(index): tracestate")
                        case .restarts:
                            #expect(!exchange.headers.contains { $0[1].contains(forwarded.traceID) }, "exchange \(index): trace continued")
                            #expect(parts[3] == "03", "exchange \(index): a new random, sampled trace")
                            #expect(received.headers["tracestate"] == nil, "exchange \(index): tracestate")
                        }
                    }
                }
            }
        }
    }

    /// The suite's advanced cases: several callbacks of one request share the trace (continued or new) and each
    /// has its own parent-id.
    @Test(arguments: [("valid", parent("01")), ("missing", nil), ("illegal", "00-00000000000000000000000000000000-\(parentID)-01")])
    func multipleCallbacks(_ kind: String, _ traceparent: String?) async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let recorder = HeaderRecorder()
                try await recorder.run { callee in
                    let body = "[" + (0..<3).map { #"{"url":"\#(callee)/\#($0)","arguments":[]}"# }.joined(separator: ",") + "]"
                    let answer = try await services.send(.POST, .tasks, "/test", body: body, headers: traceparent.map { [("traceparent", $0)] } ?? [])
                    #expect(answer.status == 200)
                    let forwarded = recorder.requests.compactMap { $0.headers["traceparent"].flatMap(W3CTraceParent.init(parsing:)) }
                    #expect(forwarded.count == 3)
                    #expect(Set(forwarded.map(\.traceID)).count == 1)
                    #expect(Set(forwarded.map(\.parentID)).count == 3)
                    let traceID = try #require(forwarded.first?.traceID)
                    #expect((traceID == Self.traceID) == (kind == "valid"))
                }
            }
        }
    }
}
