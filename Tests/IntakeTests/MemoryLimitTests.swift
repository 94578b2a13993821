import AsyncHTTPClient
import Foundation
import NIOCore
import OTelBenchProtos
import SwiftProtobuf
import Telemetry
import TestSupport
import Testing
import Workload

/// The memory limit holds request bodies while they are read and decoded, not only what the store keeps: a body
/// it cannot cover is refused retryably (503 + `Retry-After`), before it is read when its length is declared and
/// at the chunk that passes the limit when it is not; whatever is refused leaves nothing reserved, and what is
/// accepted is stored whole. Over OTLP/HTTP with AsyncHTTPClient and raw sockets.
@Suite(.serialized) struct MemoryLimitTests {
    static func tracesBody(spans: Int) throws -> [UInt8] {
        var factory = OTLPPayloadFactory(seed: 31)
        return try factory.traces(spanCount: spans, attributesPerSpan: 3).serializedBytes()
    }

    /// A declared `Content-Length` the limit cannot cover now is answered 503 with `Retry-After` before a byte of
    /// the body is sent; once the room is back, the same request is accepted.
    @Test func aDeclaredBodyThatCannotBeCoveredIsRefusedBeforeItIsRead() async throws {
        let body = try Self.tracesBody(spans: 16)
        try await withIntake(memoryLimit: body.count * 10) { intake in
            let inFlight = (intake.store.reservableBytes ?? 0) - body.count + 1
            #expect(intake.store.reserve(bytes: inFlight))
            let connection = try RawConnection(port: intake.httpPort)
            try connection.send(
                "POST /v1/traces HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-protobuf\r\nContent-Length: \(body.count)\r\n\r\n"
            )
            let answer = connection.readUntil("\r\n\r\n", timeout: .seconds(20)).lowercased()
            #expect(answer.hasPrefix("http/1.1 503"), "\(answer)")
            #expect(answer.contains("retry-after: 1"))
            intake.store.release(bytes: inFlight)
            #expect(try await intake.send("/v1/traces", body: body).status == 200)
            #expect(intake.store.totals.spans == 16)
            let counts = intake.store.counts[.otlpHTTPProtobuf]?[.traces]
            #expect(counts?.requestsRejected == 1 && counts?.requestsAccepted == 1)
        }
    }

    /// A body of undeclared length (chunked) is reserved as it arrives: when the limit cannot cover it the request
    /// is refused retryably, nothing of it stored, and nothing left reserved; with room, it is accepted whole.
    @Test func aChunkedBodyIsReservedAsItIsRead() async throws {
        let body = try Self.tracesBody(spans: 64)
        try await withIntake(memoryLimit: body.count * 10) { intake in
            let room = intake.store.reservableBytes ?? 0
            // Other requests in flight leave less than the body.
            let inFlight = room - body.count / 2
            #expect(intake.store.reserve(bytes: inFlight))
            let refused = try await Self.sendChunked(body, to: intake)
            #expect(refused.status == 503)
            #expect(refused.headers["retry-after"] == "1")
            #expect(refused.text.contains("--memory-limit"))
            #expect(intake.store.totals.spans == 0)
            intake.store.release(bytes: inFlight)
            #expect(intake.store.reservableBytes == room, "the refused body left nothing reserved")
            let accepted = try await Self.sendChunked(body, to: intake)
            #expect(accepted.status == 200)
            #expect(intake.store.totals.spans == 64, "accepted whole")
            #expect(intake.store.counts[.otlpHTTPProtobuf]?[.traces]?.requestsRejected == 1)
        }
    }

    /// Under a limit that holds a few requests' spans, many requests in a row are all accepted: each one's body
    /// and decoding reservation are given back, and the oldest traces make room; what is retained stays under the
    /// limit, charged what it costs.
    @Test func acceptedRequestsGiveTheirReservationsBack() async throws {
        let body = try Self.tracesBody(spans: 64)
        let limit = body.count * 12
        try await withIntake(memoryLimit: limit) { intake in
            for _ in 0..<20 {
                let answer = try await intake.send("/v1/traces", body: body)
                #expect(answer.status == 200)
            }
            let totals = intake.store.totals
            #expect(totals.spans == 20 * 64 && totals.rejectedRequests == 0)
            #expect(totals.evictedTraces > 0)
            #expect(totals.retainedBytes <= limit)
            let spans = intake.store.spans
            let charged = spans.reduce(0) { $0 + ResidentCost.span($1) }
            #expect(totals.retainedBytes > charged, "each span's own heap, and its trace's array and index on top")
        }
    }

    /// A chunked answer's status, headers (lower-cased names) and text.
    struct Answer {
        var status: Int
        var headers: [String: String]
        var text: String
    }

    static func sendChunked(_ body: [UInt8], to intake: RunningIntake) async throws -> Answer {
        var request = HTTPClientRequest(url: intake.url("/v1/traces"))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-protobuf")
        let chunks = stride(from: 0, to: body.count, by: 1024).map { ByteBuffer(bytes: body[$0..<min($0 + 1024, body.count)]) }
        request.body = .stream(
            AsyncStream { continuation in
                for chunk in chunks { continuation.yield(chunk) }
                continuation.finish()
            },
            length: .unknown
        )
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return Answer(status: Int(response.status.code), headers: headers, text: String(buffer: collected))
    }
}

extension RawConnection {
    /// What arrives until `marker` has, the peer closes, or `timeout` passes.
    func readUntil(_ marker: String, timeout: Duration) -> String {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        while ContinuousClock.now < deadline, !String(decoding: bytes, as: UTF8.self).contains(marker) {
            let more = readUntilClosed(timeout: .milliseconds(100))
            bytes += more.bytes
            if more.closed { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
