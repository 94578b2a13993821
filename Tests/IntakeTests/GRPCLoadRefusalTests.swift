import Foundation
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import Testing

@testable import Intake

/// ``GRPCLoadRefusalHandler`` answering a gRPC call refused for load from its HEADERS, on the stream's event loop
/// (issue 16, part 2). It runs here in an `EmbeddedChannel`, so what it passes on and what it writes are seen exactly;
/// `RequestsInFlightTests` runs grpc-swift's client, nghttp and h2load against the receivers that use it.
@Suite struct GRPCLoadRefusalTests {
    private static let refusal = Refusal.tooManyRequestsInFlight(limit: 7)

    @Test func aRefusedCallIsAnsweredTrailersOnlyAndNothingOfItIsPassedOn() throws {
        let channel = EmbeddedChannel(
            handler: GRPCLoadRefusalHandler { headers in
                headers.first(name: ":path") == "/refused/Export" ? Self.refusal.grpcTrailersOnly : nil
            }
        )
        try channel.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: Self.request("/refused/Export"))))
        try channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(bytes: [0, 0, 0, 0, 1, 9])), endStream: true)))
        #expect(try channel.readInbound(as: HTTP2Frame.FramePayload.self) == nil)

        guard case .headers(let answer) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("no HEADERS written")
            return
        }
        #expect(answer.endStream)
        #expect(answer.headers.first(name: ":status") == "200")
        #expect(answer.headers.first(name: "content-type") == "application/grpc")
        #expect(answer.headers.first(name: "grpc-status") == "14")
        #expect(answer.headers.first(name: "grpc-message") == Self.refusal.message)
        // RetryInfo { retry_delay { seconds: 1 } }, where the OpenTelemetry Python SDK looks for it: unpadded base64.
        #expect(answer.headers.first(name: "google.rpc.retryinfo-bin") == "CgIIAQ")
        #expect(answer.headers.first(name: "grpc-status-details-bin").map { !$0.isEmpty && !$0.hasSuffix("=") } == true)
        #expect(try channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil)
    }

    @Test func aCallThatIsNotRefusedIsPassedOnWhole() throws {
        let channel = EmbeddedChannel(handler: GRPCLoadRefusalHandler { _ in nil })
        try channel.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: Self.request("/kept/Export"))))
        try channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(bytes: [0, 0, 0, 0, 0])), endStream: true)))
        guard case .headers(let headers) = try channel.readInbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("the HEADERS were not passed on")
            return
        }
        #expect(headers.headers == Self.request("/kept/Export"))
        guard case .data(let data) = try channel.readInbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("the DATA was not passed on")
            return
        }
        #expect(data.endStream)
        #expect(try channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil)
    }

    /// gRPC over HTTP/2: `grpc-message` is percent-encoded UTF-8, printable ASCII but `%` as it is.
    @Test func theMessageIsPercentEncodedAsTheGRPCProtocolSays() {
        #expect(Refusal.percentEncoded("retry later: 50% full") == "retry later: 50%25 full")
        #expect(Refusal.percentEncoded("über\nlimit") == "%C3%BCber%0Alimit")
        #expect(Refusal.percentEncoded("~ !") == "~ !")
    }

    private static func request(_ path: String) -> HPACKHeaders {
        [":method": "POST", ":scheme": "http", ":path": path, "content-type": "application/grpc", "te": "trailers"]
    }
}
