import NIOCore
import Scenario
import Testing

@testable import Workload

/// The driver's response reader: every framing RFC 9112 allows a server, in whatever pieces the bytes arrive.
struct HTTP1ResponseParserTests {
    /// Feeds `response` in pieces of `piece` bytes; returns what the parser made of it and the bytes left over.
    private func parse(_ response: String, toHead: Bool = false, piece: Int = .max) throws -> (HTTP1ResponseParser.Progress, String) {
        var parser = HTTP1ResponseParser()
        parser.expectResponse(toHead: toHead)
        let bytes = Array(response.utf8)
        var start = 0
        var progress = HTTP1ResponseParser.Progress.needMore
        var leftover = ""
        while start < bytes.count {
            var buffer = ByteBuffer(bytes: bytes[start..<min(bytes.count, start + piece)])
            start += piece
            progress = try parser.parse(&buffer)
            if case .complete = progress {
                leftover = String(buffer: buffer) + String(decoding: bytes[min(start, bytes.count)...], as: UTF8.self)
                break
            }
        }
        return (progress, leftover)
    }

    /// Every way of splitting the bytes gives the same answer.
    private func expectEverySplit(_ response: String, toHead: Bool = false, _ expected: HTTP1ResponseParser.Progress, leftover: String = "") throws {
        for piece in [1, 2, 3, 7, 1000] {
            let (progress, rest) = try parse(response, toHead: toHead, piece: piece)
            #expect(progress == expected, "pieces of \(piece)")
            #expect(rest == leftover, "pieces of \(piece)")
        }
    }

    @Test func contentLengthEndsTheResponseAndLeavesWhatFollows() throws {
        try expectEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloNEXT", .complete(status: 200, closes: false), leftover: "NEXT")
        try expectEverySplit("HTTP/1.1 404 Not Found\r\ncontent-length:0\r\n\r\n", .complete(status: 404, closes: false))
        // A bare LF ends lines too (RFC 9112 §2.2 allows a recipient to accept it).
        try expectEverySplit("HTTP/1.1 503 \nContent-Length: 2\n\nok", .complete(status: 503, closes: false))
    }

    @Test func chunkedBodiesWithExtensionsAndTrailers() throws {
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;a=b\r\nhello\r\nA \r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"
        try expectEverySplit(chunked, .complete(status: 200, closes: false))
        try expectEverySplit("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .complete(status: 200, closes: false))
        // Empty list elements are skipped (RFC 9110 §5.6.1): the final coding is still chunked.
        try expectEverySplit("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip ,, chunked ,\r\n\r\n0\r\n\r\n", .complete(status: 200, closes: false))
    }

    @Test func responsesWithoutABody() throws {
        try expectEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", toHead: true, .complete(status: 200, closes: false))
        try expectEverySplit("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", .complete(status: 204, closes: false))
        try expectEverySplit("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", .complete(status: 304, closes: false))
    }

    @Test func interimResponsesAreSkipped() throws {
        try expectEverySplit(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
            .complete(status: 201, closes: false)
        )
    }

    @Test func whoClosesTheConnection() throws {
        try expectEverySplit("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n", .complete(status: 200, closes: true))
        try expectEverySplit("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", .complete(status: 200, closes: true))
        try expectEverySplit("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", .complete(status: 200, closes: false))
        try expectEverySplit("HTTP/1.0 200 OK\r\nConnection: , ,keep-alive\t,\r\nContent-Length: 0\r\n\r\n", .complete(status: 200, closes: false))
        try expectEverySplit("HTTP/1.1 200 OK\r\nConnection: upgrade,close\r\nContent-Length: 0\r\n\r\n", .complete(status: 200, closes: true))
    }

    @Test func aBodyWithoutALengthEndsAtTheClose() throws {
        var parser = HTTP1ResponseParser()
        parser.expectResponse(toHead: false)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome body")
        #expect(try parser.parse(&buffer) == .needMore)
        var more = ByteBuffer(string: String(repeating: "x", count: 10_000))
        #expect(try parser.parse(&more) == .needMore)
        #expect(parser.endsAtClose && parser.statusAtClose == 200)
        // A final coding other than chunked: the body runs until the close too (RFC 9112 §6.3).
        parser.expectResponse(toHead: false)
        var gzipLast = ByteBuffer(string: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello")
        #expect(try parser.parse(&gzipLast) == .needMore)
        #expect(parser.endsAtClose)
        // A length the parser knows is not ended by a close.
        parser.expectResponse(toHead: false)
        var cut = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        #expect(try parser.parse(&cut) == .needMore)
        #expect(!parser.endsAtClose)
    }

    @Test(arguments: [
        ("HTTP/2 200 OK\r\n\r\n", "not an HTTP/1.x status line"),
        ("NOT HTTP AT ALL\r\n\r\n", "not an HTTP/1.x status line"),
        ("HTTP/1.1 2x0 OK\r\n\r\n", "not three digits"),
        ("HTTP/1.1 099 Low\r\n\r\n", "below 100"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", "is not a length"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "is not a length"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "two different Content-Length"),
        ("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n", "without a name and a colon"),
        ("HTTP/1.1 200 OK\r\nA: b\r\n  folded\r\n\r\n", "folded header line"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not hexadecimal"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", "not followed by CRLF"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", "over 2^50"),
    ])
    func malformedResponsesAreNamed(response: String, problem: String) throws {
        for piece in [1, 1000] {
            let error = #expect(throws: HTTP1ResponseParser.Malformed.self) { try parse(response, piece: piece) }
            #expect(error?.description.contains(problem) == true, "\(error?.description ?? "no error") (pieces of \(piece))")
        }
    }

    @Test func headerSectionsAreBounded() throws {
        let huge = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: \(String(repeating: "y", count: 100))\r\n", count: 700) + "\r\n"
        let error = #expect(throws: HTTP1ResponseParser.Malformed.self) { try parse(huge, piece: 4096) }
        #expect(error?.description.contains("64 KiB") == true)
        let longLine = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "y", count: 70_000)
        #expect(throws: HTTP1ResponseParser.Malformed.self) { try parse(longLine, piece: 1000) }
    }
}

/// The bytes the driver writes for a request template.
struct HTTP1RequestTests {
    /// The request as sent; when the template's own trace spec could have produced `trace`, also checks that the
    /// header lines ``PreparedRequest`` encoded once give the same bytes as writing the template's headers anew.
    private func encode(_ template: RequestTemplate, trace: SentTraceContext, base: String = "http://127.0.0.1:8080") throws -> String {
        let origin = try #require(TargetOrigin(baseURL: base))
        func bytes(_ template: RequestTemplate) -> (text: String, usedPreparedLines: Bool) {
            let prepared = PreparedRequest(template, index: 0)
            var buffer = ByteBuffer()
            HTTP1Request.encode(Slot(intended: .now, request: prepared, trace: trace, index: 7), to: origin, into: &buffer)
            return (String(buffer: buffer), prepared.fitsHeaderLines(trace))
        }
        let sent = bytes(template)
        if trace.invalid == nil {
            var matching = template
            matching.trace = TraceContextSpec(propagate: trace.propagated, sampled: trace.sampled, tracestate: trace.tracestate)
            let prepared = bytes(matching)
            #expect(prepared.usedPreparedLines)
            #expect(prepared.text == sent.text)
        }
        return sent.text
    }

    private let trace = SentTraceContext(
        traceID: "0af7651916cd43dd8448eb211c80319c",
        spanID: "b7ad6b7169203331",
        sampled: true,
        tracestate: "congo=t61rcWkgMzE",
        invalid: nil,
        propagated: true
    )

    @Test func aGetWithTheTraceContextReplacingTheTemplatesHeaders() throws {
        let template = RequestTemplate(
            name: "get",
            weight: 1,
            service: "tasks",
            method: "GET",
            path: "/tasks/{{counter}}",
            body: nil,
            headers: [("TraceParent", "00-stale-stale-00"), ("Accept", "text/plain")],
            trace: TraceContextSpec()
        )
        #expect(
            try encode(template, trace: trace)
                == "GET /tasks/7 HTTP/1.1\r\nAccept: text/plain\r\nHost: 127.0.0.1:8080\r\n"
                + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\ntracestate: congo=t61rcWkgMzE\r\n\r\n"
        )
    }

    @Test func aSuiteCaseSendsItsOwnHeadersAndOnlyWhatTheContextSendsIsReplaced() throws {
        let template = RequestTemplate(
            name: "case",
            weight: 1,
            service: "tasks",
            method: "GET",
            path: "/",
            body: nil,
            // `traceparent` with a Kelvin sign (U+212A) is not `traceparent` in HTTP's ASCII-only case folding.
            headers: [("TRACEPARENT", "stale"), ("TRACESTATE", "kept=1"), ("\u{212A}eep", "x")],
            trace: TraceContextSpec()
        )
        let unsampled = SentTraceContext(traceID: trace.traceID, spanID: trace.spanID, sampled: false, tracestate: nil, invalid: nil, propagated: true)
        #expect(
            try encode(template, trace: unsampled)
                == "GET / HTTP/1.1\r\nTRACESTATE: kept=1\r\n___eep: x\r\nHost: 127.0.0.1:8080\r\n"
                + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\r\n\r\n"
        )
        let duplicated = SentTraceContext(
            traceID: trace.traceID,
            spanID: trace.spanID,
            sampled: true,
            tracestate: nil,
            invalid: .duplicateTraceparent,
            propagated: true
        )
        let caseHeaders = duplicated.headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        #expect(caseHeaders.components(separatedBy: "traceparent").count == 3)
        #expect(try encode(template, trace: duplicated) == "GET / HTTP/1.1\r\nTRACESTATE: kept=1\r\n___eep: x\r\nHost: 127.0.0.1:8080\r\n\(caseHeaders)\r\n")
        #expect(HTTP1Request.equalsIgnoringASCIICase("Content-Length", "content-LENGTH"))
        #expect(!HTTP1Request.equalsIgnoringASCIICase("traceparen\u{212A}", "traceparenk"))
        #expect(!HTTP1Request.equalsIgnoringASCIICase("a[", "A{"))
    }

    @Test func aBodyIsFramedByTheDriverAndThePrefixAndHostComeFromTheURL() throws {
        let template = RequestTemplate(
            name: "post",
            weight: 1,
            service: "tasks",
            method: "POST",
            path: "/tasks?trace={{trace_id}}",
            body: "{\"n\": {{counter}}}",
            headers: [("Content-Length", "999"), ("Transfer-Encoding", "chunked"), ("X-Evil", "a\r\nInjected: yes")],
            trace: TraceContextSpec(propagate: false)
        )
        let untraced = SentTraceContext(traceID: trace.traceID, spanID: trace.spanID, sampled: true, tracestate: nil, invalid: nil, propagated: false)
        #expect(
            try encode(template, trace: untraced, base: "https://[::1]/api/")
                == "POST /api/tasks?trace=0af7651916cd43dd8448eb211c80319c HTTP/1.1\r\nX-Evil: a  Injected: yes\r\nHost: [::1]\r\n"
                + "Content-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"n\": 7}"
        )
        let origin = try #require(TargetOrigin(baseURL: "https://[::1]/api/"))
        #expect(origin.host == "::1" && origin.port == 443 && origin.secure && origin.hostIsAddress)
        #expect(TargetOrigin(baseURL: "ftp://example.com") == nil && TargetOrigin(baseURL: "not a url") == nil)
    }

    @Test func aTemplateWithoutPlaceholdersIsEncodedOnceAsItWouldBeEachTime() throws {
        // Its own Host and Content-Type are kept, and so is its tracestate: the context sends none to replace it.
        let template = RequestTemplate(
            name: "fixed",
            service: "tasks",
            method: "PO ST",
            path: "items",
            body: "{}",
            headers: [("host", "example.test"), ("Content-Type", "text/plain"), ("tracestate", "a=1")],
            trace: TraceContextSpec(propagate: true, sampled: false, tracestate: nil)
        )
        let traced = SentTraceContext(traceID: trace.traceID, spanID: trace.spanID, sampled: false, tracestate: nil, invalid: nil, propagated: true)
        let prepared = PreparedRequest(template, index: 3)
        #expect(prepared.fixedTarget.map { String(buffer: $0) } == "/items" && !prepared.bodyHasPlaceholders && !prepared.isHead)
        #expect(
            try encode(template, trace: traced, base: "http://127.0.0.1:8080/v1")
                == "PO_ST /v1/items HTTP/1.1\r\nhost: example.test\r\nContent-Type: text/plain\r\ntracestate: a=1\r\n"
                + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\r\nContent-Length: 2\r\n\r\n{}"
        )
    }

    @Test func targetsThatARequestLineCannotCarryArePercentEncoded() throws {
        let template = RequestTemplate(
            name: "odd",
            weight: 1,
            service: "tasks",
            method: "GET",
            path: "/a b/é\r\n",
            body: nil,
            headers: [],
            trace: TraceContextSpec(propagate: false)
        )
        let untraced = SentTraceContext(traceID: trace.traceID, spanID: trace.spanID, sampled: true, tracestate: nil, invalid: nil, propagated: false)
        #expect(try encode(template, trace: untraced).hasPrefix("GET /a%20b/%C3%A9%0D%0A HTTP/1.1\r\n"))
    }
}
