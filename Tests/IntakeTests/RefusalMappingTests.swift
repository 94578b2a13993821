import AsyncHTTPClient
import GRPCCore
import Intake
import Logging
import NIOCore
import NIOHTTP1
import OTelBenchProtos
import Scenario
import ServiceLifecycle
import Telemetry
import TestSupport
import Testing
import Workload

/// Every receiver through the one admission pipeline, with real clients: a scripted fault, the memory limit
/// and an undecodable body each get the protocol's own answer, count one refused request on the receiver's
/// channel, store nothing and leave nothing reserved; and the receiver keeps accepting.
@Suite(.serialized) struct RefusalMappingTests {
    enum Receiver: String, CaseIterable, Sendable {
        case otlpHTTP, otlpGRPC, jaegerThrift, jaegerGRPC, remoteWrite, elasticsearch

        var channel: IntakeChannel {
            switch self {
            case .otlpHTTP: .otlpHTTPProtobuf
            case .otlpGRPC: .otlpGRPC
            case .jaegerThrift: .jaegerThrift
            case .jaegerGRPC: .jaegerGRPC
            case .remoteWrite: .prometheusRemoteWrite
            case .elasticsearch: .elasticsearch
            }
        }

        var signal: Signal {
            switch self {
            case .otlpHTTP, .otlpGRPC, .jaegerThrift, .jaegerGRPC: .traces
            case .remoteWrite: .metrics
            case .elasticsearch: .logs
            }
        }
    }

    enum Trouble: String, Sendable {
        case scripted429, scripted503, memoryLimit, undecodable

        var fault: IntakeFaultResponse? {
            switch self {
            case .scripted429: .tooManyRequests
            case .scripted503: .serviceUnavailable
            case .memoryLimit, .undecodable: nil
            }
        }
    }

    /// What a client sees.
    enum Answer: Equatable, Sendable, CustomStringConvertible {
        case http(Int, retryAfter: String?)
        case grpc(RPCError.Code)
        case accepted

        var description: String {
            switch self {
            case .http(let status, let retryAfter): "HTTP \(status)" + (retryAfter.map { ", Retry-After \($0)" } ?? "")
            case .grpc(let code): "gRPC \(code)"
            case .accepted: "accepted"
            }
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var receiver: Receiver
        var trouble: Trouble
        var answer: Answer
        var testDescription: String { "\(receiver.rawValue), \(trouble.rawValue) → \(answer)" }
    }

    static let cases: [Case] = [
        Case(receiver: .otlpHTTP, trouble: .scripted429, answer: .http(429, retryAfter: "3")),
        Case(receiver: .otlpHTTP, trouble: .scripted503, answer: .http(503, retryAfter: "3")),
        Case(receiver: .otlpHTTP, trouble: .memoryLimit, answer: .http(503, retryAfter: "1")),
        Case(receiver: .otlpHTTP, trouble: .undecodable, answer: .http(400, retryAfter: nil)),
        Case(receiver: .otlpGRPC, trouble: .scripted429, answer: .grpc(.resourceExhausted)),
        Case(receiver: .otlpGRPC, trouble: .scripted503, answer: .grpc(.unavailable)),
        Case(receiver: .otlpGRPC, trouble: .memoryLimit, answer: .grpc(.unavailable)),
        Case(receiver: .otlpGRPC, trouble: .undecodable, answer: .grpc(.invalidArgument)),
        Case(receiver: .jaegerThrift, trouble: .scripted429, answer: .http(429, retryAfter: "3")),
        Case(receiver: .jaegerThrift, trouble: .scripted503, answer: .http(503, retryAfter: "3")),
        Case(receiver: .jaegerThrift, trouble: .memoryLimit, answer: .http(503, retryAfter: "1")),
        Case(receiver: .jaegerThrift, trouble: .undecodable, answer: .http(400, retryAfter: nil)),
        Case(receiver: .jaegerGRPC, trouble: .scripted429, answer: .grpc(.resourceExhausted)),
        Case(receiver: .jaegerGRPC, trouble: .scripted503, answer: .grpc(.unavailable)),
        Case(receiver: .jaegerGRPC, trouble: .memoryLimit, answer: .grpc(.unavailable)),
        Case(receiver: .jaegerGRPC, trouble: .undecodable, answer: .grpc(.invalidArgument)),
        Case(receiver: .remoteWrite, trouble: .scripted429, answer: .http(429, retryAfter: "3")),
        Case(receiver: .remoteWrite, trouble: .scripted503, answer: .http(503, retryAfter: "3")),
        Case(receiver: .remoteWrite, trouble: .memoryLimit, answer: .http(503, retryAfter: "1")),
        Case(receiver: .remoteWrite, trouble: .undecodable, answer: .http(400, retryAfter: nil)),
        // Elasticsearch's clients retry 429, and its error bodies carry no Retry-After.
        Case(receiver: .elasticsearch, trouble: .scripted429, answer: .http(429, retryAfter: nil)),
        Case(receiver: .elasticsearch, trouble: .scripted503, answer: .http(429, retryAfter: nil)),
        Case(receiver: .elasticsearch, trouble: .memoryLimit, answer: .http(429, retryAfter: nil)),
        Case(receiver: .elasticsearch, trouble: .undecodable, answer: .http(400, retryAfter: nil)),
    ]

    static let limit = 1 << 20
    /// Room left under the limit while other requests are in flight: less than any request sent here. (A request
    /// larger than the whole limit is too large, not retryable: see HostileInputTests.)
    static let cramped = 4

    @Test(arguments: cases)
    func refusalIsAnsweredInTheProtocolsTermsCountedOnceAndReleased(_ test: Case) async throws {
        let limit = Self.limit
        let store = TelemetryStore(limits: .init(maxRetainedBytes: limit))
        let faults = test.trouble.fault.map { FaultInjector(rules: [.init(sequence: [$0], retryAfter: .seconds(3))]) }
        let admission = Admission(store: store, faults: faults, logger: Self.quiet)
        try await withReceiver(test.receiver, admission: admission) { port in
            let inFlight = test.trouble == .memoryLimit ? limit - Self.cramped : 0
            #expect(store.reserve(bytes: inFlight))
            let answer = try await Self.send(test.receiver, valid: test.trouble != .undecodable, port: port)
            store.release(bytes: inFlight)
            #expect(answer == test.answer)
            let counts = store.counts[test.receiver.channel]?[test.receiver.signal]
            #expect(counts?.requestsRejected == 1, "one refusal, counted once")
            #expect((counts?.requestsAccepted ?? 0) == 0)
            #expect(store.retainedBytes == 0 && store.spans.isEmpty && store.series.isEmpty && store.logs.isEmpty)
            let free = limit - store.retainedBytes
            #expect(store.reserve(bytes: free) && !store.reserve(bytes: 1), "nothing left reserved")
            store.release(bytes: free)
            if test.trouble.fault != nil {
                // The scripted sequence is spent: the same request is now accepted.
                #expect(try await Self.send(test.receiver, valid: true, port: port) == .accepted)
                #expect(store.counts[test.receiver.channel]?[test.receiver.signal]?.requestsAccepted == 1)
            }
        }
    }

    // MARK: Receivers and clients

    static var quiet: Logger {
        var logger = Logger(label: "test.refusals")
        logger.logLevel = .critical
        return logger
    }

    private func withReceiver(_ receiver: Receiver, admission: Admission, _ body: @Sendable (Int) async throws -> Void) async throws {
        let configuration = ReceiverConfiguration.loopback(port: 0)
        let logger = Self.quiet
        switch receiver {
        case .otlpHTTP:
            try await run(HTTPReceiver(configuration: configuration, endpoint: OTLPHTTPEndpoint(), admission: admission, logger: logger), body)
        case .otlpGRPC:
            try await run(GRPCReceiver(configuration: configuration, endpoint: OTLPGRPCEndpoint(), admission: admission), body)
        case .jaegerThrift:
            try await run(HTTPReceiver(configuration: configuration, endpoint: JaegerThriftEndpoint(), admission: admission, logger: logger), body)
        case .jaegerGRPC:
            try await run(GRPCReceiver(configuration: configuration, endpoint: JaegerGRPCEndpoint(), admission: admission), body)
        case .remoteWrite:
            try await run(HTTPReceiver(configuration: configuration, endpoint: RemoteWriteEndpoint(), admission: admission, logger: logger), body)
        case .elasticsearch:
            try await run(HTTPReceiver(configuration: configuration, endpoint: ElasticsearchEndpoint(), admission: admission, logger: logger), body)
        }
    }

    /// Runs `service` for `body` and always shuts it down, even when `body` throws.
    private func run<Receiving: Service>(
        _ service: Receiving,
        _ body: @Sendable (Int) async throws -> Void
    ) async throws where Receiving: BoundReceiver {
        let group = ServiceGroup(services: [service], logger: Self.quiet)
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body(try await service.boundAddress.value().port)
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Sends one request, valid or not, and reads what came back.
    private static func send(_ receiver: Receiver, valid: Bool, port: Int) async throws -> Answer {
        switch receiver {
        case .otlpHTTP:
            var factory = OTLPPayloadFactory(seed: 31)
            let body: [UInt8] = valid ? try factory.traces(spanCount: 2).serializedBytes() : [0xff, 0xff, 0xff, 0xff, 0x0f]
            return try await post(port: port, "/v1/traces", contentType: "application/x-protobuf", body: body, accepted: 200)
        case .otlpGRPC:
            var factory = OTLPPayloadFactory(seed: 32)
            let traces = factory.traces(spanCount: 2)
            return try await withGRPCClient(port: port) { client in
                try await grpcAnswer {
                    if valid {
                        _ = try await Opentelemetry_Proto_Collector_Trace_V1_TraceService.Client(wrapping: client).export(traces)
                    } else {
                        _ = try await rawExport(
                            [0xff, 0xff, 0xff, 0x0f],
                            method: Opentelemetry_Proto_Collector_Trace_V1_TraceService.Method.Export.descriptor,
                            client: client
                        )
                    }
                }
            }
        case .jaegerThrift:
            // Batch{1: Process{1: serviceName "app"}, 2: spans []}, in Thrift's binary protocol; cut short when invalid.
            let batch: [UInt8] = [0x0c, 0x00, 0x01, 0x0b, 0x00, 0x01, 0, 0, 0, 3] + Array("app".utf8) + [0x00, 0x0f, 0x00, 0x02, 0x0c, 0, 0, 0, 0, 0x00]
            return try await post(port: port, "/api/traces", contentType: "application/x-thrift", body: valid ? batch : Array(batch.prefix(8)), accepted: 202)
        case .jaegerGRPC:
            var request = Jaeger_ApiV2_PostSpansRequest()
            request.batch.process.serviceName = "app"
            let message = request
            return try await withGRPCClient(port: port) { client in
                try await grpcAnswer {
                    if valid {
                        _ = try await Jaeger_ApiV2_CollectorService.Client(wrapping: client).postSpans(message)
                    } else {
                        _ = try await rawExport([0xff, 0xff, 0xff, 0x0f], method: Jaeger_ApiV2_CollectorService.Method.PostSpans.descriptor, client: client)
                    }
                }
            }
        case .remoteWrite:
            var request = Prometheus_WriteRequest()
            var series = Prometheus_TimeSeries()
            var name = Prometheus_Label()
            name.name = "__name__"
            name.value = "up"
            series.labels = [name]
            var sample = Prometheus_Sample()
            sample.timestamp = 1_000
            sample.value = 1
            series.samples = [sample]
            request.timeseries = [series]
            let body = SnappyBlock.encodeLiterals(valid ? try request.serializedBytes() : [0xff, 0xff, 0xff])
            return try await post(
                port: port,
                "/api/v1/write",
                contentType: "application/x-protobuf",
                headers: [("Content-Encoding", "snappy")],
                body: body,
                accepted: 204
            )
        case .elasticsearch:
            let body = Array((valid ? #"{"message":"kept"}"# : "{nope").utf8)
            return try await post(port: port, "/logs/_doc", contentType: "application/json", body: body, accepted: 201)
        }
    }

    private static func post(
        port: Int,
        _ path: String,
        contentType: String,
        headers: [(String, String)] = [],
        body: [UInt8],
        accepted: Int
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        let status = Int(response.status.code)
        return status == accepted ? .accepted : .http(status, retryAfter: response.headers.first(name: "Retry-After"))
    }

    private static func grpcAnswer(_ call: () async throws -> Void) async throws -> Answer {
        do {
            try await call()
            return .accepted
        } catch let error as RPCError {
            return .grpc(error.code)
        }
    }
}

/// A receiver that reports the address it listens on.
protocol BoundReceiver: Sendable {
    var boundAddress: BoundAddress { get }
}

extension HTTPReceiver: BoundReceiver {}
extension GRPCReceiver: BoundReceiver {}
