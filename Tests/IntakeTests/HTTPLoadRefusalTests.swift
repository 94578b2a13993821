import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import Intake

/// ``HTTPConnectionGuard`` answering a request refused for load from its header, on the connection's event loop
/// (issue 16, part 2: an overloaded intake spent as much CPU refusing a request in the responder as accepting one).
/// The guard runs here in an `EmbeddedChannel`, so what it passes on and what it writes are seen exactly.
@Suite struct HTTPLoadRefusalTests {
    /// Refuses every request to `/v1/traces`, with a `Retry-After` and a body.
    private static let refuseTraces: HTTPLoadRefusal = { head in
        guard head.uri == "/v1/traces" else { return nil }
        return RefusalAnswer(status: .serviceUnavailable, headers: [.retryAfter: "1"], body: ByteBuffer(string: "busy\n"))
    }

    @Test func aRefusedRequestIsAnsweredAtItsHeaderAndNeitherItNorItsBodyIsPassedOn() throws {
        let channel = try Self.guardedChannel()
        try channel.writeInbound(HTTPServerRequestPart.head(Self.post("/v1/traces")))
        let answer = try Self.readAnswer(channel)
        #expect(answer.head.status == .serviceUnavailable)
        #expect(answer.head.version == .http1_1)
        #expect(answer.head.headers["Retry-After"] == ["1"])
        #expect(answer.head.headers["Content-Length"] == ["5"])
        #expect(answer.head.headers["Connection"].isEmpty)
        #expect(answer.body == "busy\n")

        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "abc")))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil)
        #expect(channel.isActive)

        // The next request on the connection is the responder's again.
        try channel.writeInbound(HTTPServerRequestPart.head(Self.post("/v1/logs")))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .head(Self.post("/v1/logs")))
    }

    @Test func anAnswerWaitsItsTurnBehindAResponseStillOwed() throws {
        let channel = try Self.guardedChannel()
        // A request passed on to the responder, then one to refuse before the first is answered: it is passed on
        // too, since an answer written now would overtake the first one's.
        for part in [HTTPServerRequestPart.head(Self.post("/v1/logs")), .end(nil), .head(Self.post("/v1/traces")), .end(nil)] {
            try channel.writeInbound(part)
        }
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .head(Self.post("/v1/logs")))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .end(nil))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .head(Self.post("/v1/traces")))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .end(nil))
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)

        // Both answered by the responder; then nothing is owed, and the next one is refused here.
        for _ in 0..<2 {
            try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        }
        while try channel.readOutbound(as: HTTPServerResponsePart.self) != nil {}
        try channel.writeInbound(HTTPServerRequestPart.head(Self.post("/v1/traces")))
        #expect(try Self.readAnswer(channel).head.status == .serviceUnavailable)
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil)
    }

    @Test func aRefusedRequestThatClosesItsConnectionIsClosedOnceItHasAllCome() throws {
        let channel = try Self.guardedChannel()
        var head = Self.post("/v1/traces")
        head.headers.add(name: "Connection", value: "close")
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        #expect(try Self.readAnswer(channel).head.headers["Connection"] == ["close"])
        #expect(channel.isActive)
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(!channel.isActive)
    }

    @Test func anHTTP10RequestThatKeepsItsConnectionIsToldSo() throws {
        let channel = try Self.guardedChannel()
        var head = Self.post("/v1/traces")
        head.version = .http1_0
        head.headers.add(name: "Connection", value: "keep-alive")
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        let answer = try Self.readAnswer(channel)
        #expect(answer.head.version == .http1_0)
        #expect(answer.head.headers["Connection"] == ["keep-alive"])
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(channel.isActive)
    }

    /// An active channel with the guard (generous limits, no connection over them) and ``refuseTraces``.
    private static func guardedChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            HTTPConnectionGuard(limits: ConnectionLimits(), count: ConnectionCount(), loadRefusal: refuseTraces)
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4318)).wait()
        return channel
    }

    private static func post(_ uri: String) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: ["Host": "t", "Content-Length": "3"])
    }

    /// The whole answer the guard wrote: head, body and end.
    private static func readAnswer(_ channel: EmbeddedChannel) throws -> (head: HTTPResponseHead, body: String) {
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            throw AnswerMissing(part: "head")
        }
        guard case .body(.byteBuffer(let body)) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            throw AnswerMissing(part: "body")
        }
        guard case .end = try channel.readOutbound(as: HTTPServerResponsePart.self) else { throw AnswerMissing(part: "end") }
        return (head, String(buffer: body))
    }

    private struct AnswerMissing: Error {
        var part: String
    }
}
