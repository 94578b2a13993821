import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Logging
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import OTelBenchProtos
import Telemetry
import TestSupport
import Testing
import Workload

@testable import Intake

/// Each gRPC request stream reserves a message's memory under the store's limit as the message's prefix arrives,
/// before any of its bytes reach grpc-swift's message decoder (`GRPCMessageInflation`): a message that does not fit
/// is refused retryably in its place and its bytes are dropped as they come; one that fits passes whole, and its
/// reservation goes to the deserializer and admission, given back exactly once on every path.
@Suite struct GRPCMessageReservationTests {
    private typealias TraceService = Opentelemetry_Proto_Collector_Trace_V1_TraceService

    /// A store limit with room for one message of ``message``'s size being admitted, and some more.
    static let limit = 64 << 10

    /// A valid `ExportTraceServiceRequest` of a few kilobytes.
    static let message: [UInt8] = {
        var factory = OTLPPayloadFactory(seed: 161)
        return try! factory.traces(spanCount: 20, attributesPerSpan: 4).serializedBytes()
    }()

    static var deserializer: SizedProtobufDeserializer<Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest> {
        SizedProtobufDeserializer(specName: "ExportTraceServiceRequest", maxBytes: 1 << 20)
    }

    static var quiet: Logger {
        var logger = Logger(label: "test.grpc-reservation")
        logger.logLevel = .critical
        return logger
    }

    /// What `store` has reserved now, read without changing it: it holds no items here, so all of the limit but
    /// what is reserved can be reserved.
    static func reserved(_ store: TelemetryStore) -> Int { limit - (store.reservableBytes ?? 0) }

    /// `message` with a gRPC prefix.
    static func framed(_ message: [UInt8], compressed: Bool = false) -> [UInt8] {
        [compressed ? 1 : 0] + bigEndian(UInt32(message.count)) + message
    }

    /// A request stream's handler in a channel of its own, as the listener installs it, after the request's headers.
    static func stream(store: TelemetryStore, encoding: String? = nil) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: GRPCMessageInflationHandler(limit: 1 << 20, reservingIn: store))
        var headers: HPACKHeaders = [":method": "POST", ":path": "/opentelemetry.proto.collector.trace.v1.TraceService/Export"]
        if let encoding { headers.add(name: "grpc-encoding", value: encoding) }
        try channel.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: headers)))
        _ = try channel.readInbound(as: HTTP2Frame.FramePayload.self)
        return channel
    }

    /// Writes `bytes` to `channel` as DATA frames of `chunkSize` bytes (the last one ending the stream when asked) and
    /// returns every byte the handler passed on.
    static func send(_ bytes: [UInt8], inChunksOf chunkSize: Int, to channel: EmbeddedChannel, endingStream: Bool = true) throws -> [UInt8] {
        var passedOn: [UInt8] = []
        var offset = 0
        repeat {
            let end = offset + min(chunkSize, bytes.count - offset)
            let last = end == bytes.count
            let frame = HTTP2Frame.FramePayload.Data(data: .byteBuffer(ByteBuffer(bytes: bytes[offset..<end])), endStream: last && endingStream)
            try channel.writeInbound(HTTP2Frame.FramePayload.data(frame))
            while let output = try channel.readInbound(as: HTTP2Frame.FramePayload.self) {
                guard case .data(let data) = output, case .byteBuffer(let buffer) = data.data else {
                    Issue.record("only DATA frames come out: \(output)")
                    continue
                }
                passedOn += Array(buffer: buffer)
            }
            offset = end
        } while offset < bytes.count
        return passedOn
    }

    /// The messages in a deframed stream of uncompressed gRPC messages.
    static func messages(in stream: [UInt8]) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var rest = stream[...]
        while rest.count >= 5 {
            #expect(rest.first == 0, "passed on uncompressed")
            let length = rest.dropFirst().prefix(4).reduce(0) { $0 << 8 | Int($1) }
            messages.append(Array(rest.dropFirst(5).prefix(length)))
            rest = rest.dropFirst(5 + length)
        }
        #expect(rest.isEmpty, "whole messages only")
        return messages
    }

    // MARK: The handler

    /// With the budget full when its prefix arrives, a message is refused with the overload mark in its place, which
    /// the deserializer turns into UNAVAILABLE with `RetryInfo` (as admission's overload refusal), and none of its
    /// bytes is passed on, however they come; nothing is left reserved.
    @Test(arguments: [1, 7, 4096, Int.max])
    func messageOverTheBudgetIsRefusedAndItsBytesDropped(chunkSize: Int) throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let inFlight = Self.limit - ResidentCost.admission(bytes: Self.message.count) + 1
        #expect(store.reserve(bytes: inFlight), "other requests in flight hold all but too little room")
        let channel = try Self.stream(store: store)
        let passedOn = try Self.send(Self.framed(Self.message), inChunksOf: chunkSize, to: channel)
        let messages = Self.messages(in: passedOn)
        #expect(messages.count == 1)
        let refusal = try #require(GRPCInboundRefusal(decoding: messages[0]))
        #expect(refusal == .overloaded(limit: Self.limit))
        #expect(passedOn.count == 5 + refusal.encoded.readableBytes, "the refusal alone, none of the message's bytes")
        let error = #expect(throws: RPCError.self) { try Self.deserializer.deserialize(messages[0]) }
        #expect(error?.code == .unavailable)
        #expect(error?.message == Refusal.overloaded(limit: Self.limit).message)
        let status = try #require(try error?.unpackGoogleRPCStatus())
        #expect(status.details.compactMap(\.retryInfo).map(\.delay) == [.seconds(1)], "the retry signal admission's refusal gives")
        #expect(Self.reserved(store) == inFlight, "the refused message reserved nothing")
        _ = try channel.finish()
        store.release(bytes: inFlight)
        #expect(Self.reserved(store) == 0)
    }

    /// A message that fits is reserved for as its prefix arrives (what admission reserves: its bytes and the items
    /// decoded from them), passed on whole and byte for byte behind the reservation's mark, and its reservation is
    /// taken over by the deserializer and then by admission (never reserved twice), and given back once.
    @Test(arguments: [1, 7, 4096, Int.max])
    func messageThatFitsPassesWholeAndItsReservationIsHandedOver(chunkSize: Int) async throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let admission = Admission(store: store, logger: Self.quiet)
        let needed = ResidentCost.admission(bytes: Self.message.count)
        let channel = try Self.stream(store: store)
        let stream = Self.framed(Self.message)
        // The prefix alone reserves the whole message.
        var passedOn = try Self.send(Array(stream.prefix(5)), inChunksOf: chunkSize, to: channel, endingStream: false)
        #expect(Self.reserved(store) == needed)
        passedOn += try Self.send(Array(stream.dropFirst(5)), inChunksOf: chunkSize, to: channel)
        let messages = Self.messages(in: passedOn)
        #expect(messages.count == 1)
        let mark = try #require(messages[0].withUnsafeBytes { GRPCReservedMessage(decoding: $0) })
        #expect(Array(messages[0].dropFirst(GRPCReservedMessage.headerLength)) == Self.message, "byte for byte behind the mark")

        let sized = try Self.deserializer.deserialize(messages[0])
        #expect(sized.byteCount == Self.message.count && sized.wireByteCount == 5 + Self.message.count)
        let reservation = try #require(sized.reservation)
        #expect(reservation.bytes == needed)
        #expect(GRPCReservationHandOver.shared.redeem(mark.id) == nil, "redeemed once")
        // The stream closing now must not give back what the deserializer took over.
        _ = try channel.finish()
        #expect(Self.reserved(store) == needed)
        try await admission.admit(.traces, on: .otlpGRPC, bytes: sized.byteCount, reservation: reservation) { ticket in
            #expect(ticket.reservation == needed)
            #expect(Self.reserved(store) == needed, "admission took the reservation over instead of reserving again")
        }
        #expect(Self.reserved(store) == 0, "given back once when the request was settled")
    }

    /// The stream closing before the message came whole (a reset, a client gone) releases its reservation, and the
    /// mark already passed on can no longer be redeemed.
    @Test func streamClosedMidMessageReleasesTheReservation() throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let channel = try Self.stream(store: store)
        let stream = Self.framed(Self.message)
        let passedOn = try Self.send(Array(stream.prefix(stream.count / 2)), inChunksOf: 100, to: channel, endingStream: false)
        #expect(Self.reserved(store) == ResidentCost.admission(bytes: Self.message.count))
        let mark = try #require(Array(passedOn.dropFirst(5)).withUnsafeBytes { GRPCReservedMessage(decoding: $0) })
        _ = try channel.finish()
        #expect(Self.reserved(store) == 0)
        #expect(GRPCReservationHandOver.shared.redeem(mark.id) == nil)
    }

    /// A whole message the call never reads (refused before reading it: a wrong token, too many requests in flight)
    /// is released when its stream closes; one the deserializer refuses, as soon as it refuses it.
    @Test func messageNeverAdmittedIsReleased() throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let unread = try Self.stream(store: store)
        _ = try Self.send(Self.framed(Self.message), inChunksOf: 4096, to: unread)
        #expect(Self.reserved(store) == ResidentCost.admission(bytes: Self.message.count))
        _ = try unread.finish()
        #expect(Self.reserved(store) == 0)

        let undecodable = try Self.stream(store: store)
        let passedOn = try Self.send(Self.framed([0xff, 0xff, 0xff, 0x0f]), inChunksOf: 4096, to: undecodable)
        #expect(Self.reserved(store) == ResidentCost.admission(bytes: 4))
        let error = #expect(throws: RPCError.self) { try Self.deserializer.deserialize(Self.messages(in: passedOn)[0]) }
        #expect(error?.code == .invalidArgument)
        #expect(Self.reserved(store) == 0, "released with the refusal, before the stream closes")
        _ = try undecodable.finish()
        #expect(Self.reserved(store) == 0, "and not again")
    }

    /// A compressed message reserves its compressed bytes while they are buffered, then what admitting the inflated
    /// message takes; the deserializer takes that over with the inflated size and the compressed size on the wire.
    @Test func compressedMessageIsReservedWhileBufferedThenForItsInflatedSize() throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let compressed = try gzip(Self.message)
        let channel = try Self.stream(store: store, encoding: "gzip")
        let stream = Self.framed(compressed, compressed: true)
        var passedOn = try Self.send(Array(stream.prefix(stream.count - 1)), inChunksOf: 512, to: channel, endingStream: false)
        #expect(passedOn.isEmpty, "buffered until whole")
        #expect(Self.reserved(store) == compressed.count)
        passedOn += try Self.send(Array(stream.suffix(1)), inChunksOf: 1, to: channel)
        let needed = ResidentCost.admission(bytes: Self.message.count)
        #expect(Self.reserved(store) == needed, "the compressed bytes given back, the inflated message reserved")
        let sized = try Self.deserializer.deserialize(Self.messages(in: passedOn)[0])
        #expect(sized.byteCount == Self.message.count && sized.wireByteCount == 5 + compressed.count)
        #expect(sized.reservation?.bytes == needed)
        _ = try channel.finish()
        #expect(Self.reserved(store) == needed, "the deserializer holds it")
        sized.reservation?.release()
        #expect(Self.reserved(store) == 0)
    }

    /// A compressed message whose prefix arrives when its compressed bytes do not fit is refused as overloaded and not
    /// buffered; with room again, the stream's next message passes.
    @Test func compressedMessageOverTheBudgetIsRefusedWithoutBuffering() throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let compressed = try gzip(Self.message)
        let inFlight = Self.limit - compressed.count + 1
        #expect(store.reserve(bytes: inFlight))
        let channel = try Self.stream(store: store, encoding: "gzip")
        let refused = try Self.send(Self.framed(compressed, compressed: true), inChunksOf: 100, to: channel, endingStream: false)
        #expect(Self.messages(in: refused).map { GRPCInboundRefusal(decoding: $0) } == [.overloaded(limit: Self.limit)])
        #expect(Self.reserved(store) == inFlight)
        store.release(bytes: inFlight)
        let accepted = try Self.send(Self.framed(compressed, compressed: true), inChunksOf: 100, to: channel)
        let sized = try Self.deserializer.deserialize(Self.messages(in: accepted)[0])
        #expect(sized.byteCount == Self.message.count && sized.reservation != nil)
        sized.reservation?.release()
        _ = try channel.finish()
        #expect(Self.reserved(store) == 0)
    }

    /// A message whose admission needs more than the whole limit is refused as too large (not retryable: it could
    /// never be stored), as admission refuses it, before any of it is passed on.
    @Test func messageLargerThanTheWholeLimitIsTooLarge() throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let channel = try Self.stream(store: store)
        let large = [UInt8](repeating: 0, count: Self.limit / 4)
        let messages = Self.messages(in: try Self.send(Self.framed(large), inChunksOf: 4096, to: channel))
        let refusal = try #require(messages.first.flatMap { GRPCInboundRefusal(decoding: $0) })
        #expect(refusal.kind == .tooLarge)
        #expect(refusal.message.contains("can never be stored"), "\(refusal.message)")
        #expect(Self.reserved(store) == 0)
        _ = try channel.finish()
    }

    // MARK: Through a real client

    /// Over a real grpc-swift client: a large message that does not fit under a small memory limit now is refused
    /// UNAVAILABLE with `RetryInfo`, counted once, leaves nothing reserved, and is accepted once there is room.
    @Test(arguments: [CompressionAlgorithm.none, .gzip])
    func largeMessageOverTheMemoryLimitIsRefusedRetryablyThenAccepted(compression: CompressionAlgorithm) async throws {
        var factory = OTLPPayloadFactory(seed: 162)
        let traces = factory.traces(spanCount: 400, attributesPerSpan: 10)
        let size = (try traces.serializedBytes() as [UInt8]).count
        let limit = ResidentCost.admission(bytes: size) + (256 << 10)
        try await withIntake(memoryLimit: limit) { intake in
            let store = intake.store
            // Requests in flight hold all but half the room the message needs.
            let inFlight = limit - ResidentCost.admission(bytes: size) / 2
            #expect(store.reserve(bytes: inFlight))
            try await withGRPCClient(port: intake.grpcPort, compression: compression) { client in
                let error = await #expect(throws: RPCError.self) {
                    try await TraceService.Client(wrapping: client).export(traces)
                }
                #expect(error?.code == .unavailable, "\(String(describing: error))")
                #expect(error?.message.contains("--memory-limit") == true)
                let status = try #require(try error?.unpackGoogleRPCStatus())
                #expect(status.details.compactMap(\.retryInfo).map(\.delay) == [.seconds(1)])
                #expect(store.counts[.otlpGRPC]?[.traces]?.requestsRejected == 1, "counted once")
                #expect(limit - (store.reservableBytes ?? 0) == inFlight, "the refused call left nothing reserved")
                store.release(bytes: inFlight)

                _ = try await TraceService.Client(wrapping: client).export(traces)
            }
            #expect(store.spans.count == 400)
            #expect(store.counts[.otlpGRPC]?[.traces]?.requestsAccepted == 1)
            #expect(store.counts[.otlpGRPC]?[.traces]?.requestsRejected == 1)
            // Nothing reserved once the accepted request is stored: with every trace evicted to make room for all it
            // can reserve, the store holds what cannot be evicted and that room, the whole limit.
            #expect(Self.reservedWithEveryTraceEvicted(store, limit: limit) == 0, "nothing left reserved")
        }
    }

    /// Many calls at once under a limit that admits a few of them, some cut short by their own deadline (their
    /// streams reset mid-message or mid-call): each is accepted, refused retryably or timed out by its client; what
    /// was accepted is stored; and once the streams have closed nothing is left reserved.
    @Test func concurrentCallsLeaveNothingReserved() async throws {
        var factory = OTLPPayloadFactory(seed: 163)
        let traces = factory.traces(spanCount: 200, attributesPerSpan: 10)
        let size = (try traces.serializedBytes() as [UInt8]).count
        let limit = ResidentCost.admission(bytes: size) * 3
        try await withIntake(memoryLimit: limit) { intake in
            let codes = try await withGRPCClient(port: intake.grpcPort) { client in
                await withTaskGroup(of: RPCError.Code?.self) { group in
                    for index in 0..<48 {
                        group.addTask {
                            var options = CallOptions.defaults
                            if index % 4 == 0 { options.timeout = .milliseconds(1) }
                            do {
                                _ = try await TraceService.Client(wrapping: client).export(traces, options: options)
                                return nil
                            } catch let error as RPCError {
                                return error.code
                            } catch {
                                return .unknown
                            }
                        }
                    }
                    var codes: [RPCError.Code?] = []
                    for await code in group { codes.append(code) }
                    return codes
                }
            }
            let accepted = codes.filter { $0 == nil }.count
            #expect(accepted > 0)
            #expect(codes.allSatisfy { $0 == nil || $0 == .unavailable || $0 == .deadlineExceeded }, "\(codes)")
            // A call its client gave up on may still have been accepted.
            let stored = intake.store.counts[.otlpGRPC]?[.traces]?.requestsAccepted ?? 0
            #expect(stored >= accepted && stored <= accepted + codes.filter { $0 == .deadlineExceeded }.count)
            #expect(intake.store.totals.spans == stored * 200)
            let released = await eventually(timeout: .seconds(30)) {
                Self.reservedWithEveryTraceEvicted(intake.store, limit: limit) == 0
            }
            #expect(released, "nothing left reserved once every stream closed")
        }
    }

    /// What `store` has reserved now: every trace evicted to make room for all it can reserve, it holds only what
    /// cannot be evicted and that room, unless something is still reserved. Empties the store's window.
    static func reservedWithEveryTraceEvicted(_ store: TelemetryStore, limit: Int) -> Int {
        let room = store.reservableBytes ?? 0
        guard store.reserve(bytes: room) else { return -1 }
        defer { store.release(bytes: room) }
        return limit - store.retainedBytes - room
    }
}
