import Scenario
import Services
import Testing

/// The harness's W3C cases (what the driver sends, and what it expects a correct service to do) agree with the
/// built-in services' parsers, which pass the official suite (W3CTraceContextTests): two independent statements
/// of the same spec text, each checking the other.
@Suite struct TraceContextCaseTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let spanID = "00f067aa0ba902b7"

    @Test(arguments: TraceContextCase.allCases)
    func theServicesParsersAgreeWithTheCase(_ w3c: TraceContextCase) {
        let headers = w3c.headers(traceID: Self.traceID, spanID: Self.spanID)
        // Header names are case-insensitive; an HTTP server hands a field's value over without the optional
        // whitespace around it.
        let traceparents = headers.filter { $0.0.lowercased() == "traceparent" }.map { $0.1 }
        let tracestates = headers.filter { $0.0.lowercased() == "tracestate" }.map { $0.1 }
        let parent = traceparents.count == 1 ? W3CTraceParent(parsing: traceparents[0]) : nil
        switch w3c.expectation {
        case .restart:
            #expect(parent == nil, "\(w3c.rawValue): a correct service restarts the trace")
        case .continues(let tracestate):
            #expect(parent?.traceID == Self.traceID && parent?.parentID == Self.spanID, "\(w3c.rawValue): continued")
            let parsed = try? W3CTraceState(combining: tracestates)
            #expect(parsed?.headerValue == tracestate, "\(w3c.rawValue): the tracestate forwarded")
        case .dropsTracestate:
            #expect(parent?.traceID == Self.traceID, "\(w3c.rawValue): continued")
            #expect(throws: TraceStateRejection.self, "\(w3c.rawValue): the tracestate is refused") { try W3CTraceState(combining: tracestates) }
        }
    }
}
