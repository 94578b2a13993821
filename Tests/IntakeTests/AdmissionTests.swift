import GRPCCore
import Intake
import Logging
import Scenario
import Telemetry
import TestSupport
import Testing

/// The admission pipeline on its own: what it reserves, releases, stores and counts, and how every refusal
/// code reads on HTTP and gRPC.
@Suite struct AdmissionTests {
    /// Room for a few requests of a few hundred bytes: admission reserves ``ResidentCost/admission(bytes:)``, five
    /// times a request's size, until its items are stored and charged what they cost.
    static let limit = 10_000

    static var quiet: Logger {
        var logger = Logger(label: "test.admission")
        logger.logLevel = .critical
        return logger
    }

    /// One metric point: retained, and not evictable (traces and log records are a window the limit may evict).
    static let onePoint = Batch(
        series: [
            MetricSeries(
                key: SeriesKey(metricName: "m", attributes: [:], resource: Resource()),
                kind: .gauge,
                points: [.number(.init(timeUnixNano: 1, value: .int(1)))],
                channel: .otlpGRPC
            )
        ]
    )

    /// What ``onePoint`` is charged once stored: its series' header, slot and encoded point (``ResidentCost``).
    static let onePointCharge: Int = {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: nil))
        store.store(onePoint, channel: .otlpGRPC, signal: .metrics, rejectedItems: 0, reservedBytes: 0)
        return store.retainedBytes
    }()

    /// Whether `bytes` is what ``onePoint`` is charged: its encoded point's storage is charged at the array's
    /// capacity, which Swift takes from `malloc_usable_size`, so it may be one 16-byte granule (or two) larger.
    static func isOnePointCharge(_ bytes: Int) -> Bool { abs(bytes - onePointCharge) <= 32 }

    /// Whether nothing is reserved: exactly the room the stored bytes leave can be reserved, and no more.
    static func nothingReserved(_ store: TelemetryStore) -> Bool {
        let free = limit - store.retainedBytes
        guard store.reserve(bytes: free) else { return false }
        defer { store.release(bytes: free) }
        return !store.reserve(bytes: 1)
    }

    @Test func acceptedBytesAreStoredCountedAndNoLongerReserved() async throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let admission = Admission(store: store, logger: Self.quiet)
        try await admission.admit(.logs, on: .elasticsearch, bytes: 300) { ticket in
            #expect(!ticket.partialSuccess)
            #expect(ticket.reservation == 1500, "the body and its decoded items, reserved before decoding")
            ticket.accept(Self.onePoint, rejectedItems: 2, recording: .converted)
        }
        #expect(Self.isOnePointCharge(store.retainedBytes), "charged what the point costs, not what was reserved")
        #expect(Self.nothingReserved(store))
        let counts = store.counts[.elasticsearch]?[.logs]
        #expect(counts?.requestsAccepted == 1)
        #expect(counts?.itemsRejected == 2)
        #expect(counts?.bytesAccepted == 300)
    }

    @Test func aRefusalWhileDecodingReleasesTheReservation() async throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let admission = Admission(store: store, logger: Self.quiet)
        let refusal = await #expect(throws: Refusal.self) {
            try await admission.admit(.traces, on: .jaegerThrift, bytes: 600) { _ throws(Refusal) in
                #expect(!Self.nothingReserved(store), "the bytes are reserved while decoding")
                throw Refusal(.invalidArgument, "span 3 has no trace id")
            }
        }
        #expect(refusal?.code == .invalidArgument)
        #expect(refusal?.message == "span 3 has no trace id")
        #expect(Self.nothingReserved(store))
        #expect(store.retainedBytes == 0)
        #expect(store.counts.isEmpty, "the pipeline's server counts refusals, once")
    }

    @Test func aTicketLeftUnsettledIsReleased() async throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let admission = Admission(store: store, logger: Self.quiet)
        try await admission.admit(.metrics, on: .prometheusRemoteWrite, bytes: 999) { _ in }
        #expect(Self.nothingReserved(store))
        #expect(store.retainedBytes == 0)
    }

    @Test func overTheMemoryLimitIsUnavailableRetryableAndReservesNothing() async throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let admission = Admission(store: store, logger: Self.quiet)
        try await admission.admit(.metrics, on: .otlpGRPC, bytes: 800) { ticket in ticket.accept(Self.onePoint, recording: .converted) }
        // Other requests in flight hold all but 1000 bytes: a request of 201 bytes needs 1005 to be decoded.
        let inFlight = Self.limit - store.retainedBytes - 1000
        #expect(store.reserve(bytes: inFlight))
        let refusal = await #expect(throws: Refusal.self) {
            try await admission.admit(.traces, on: .otlpGRPC, bytes: 201) { _ in Issue.record("admitted over the limit") }
        }
        #expect(refusal?.code == .unavailable)
        #expect(refusal?.retryAfterSeconds == 1)
        #expect(
            refusal?.message
                == "otelbench's store is full (0 MiB retained and in flight, after evicting the oldest traces and log records): retry later, or raise --memory-limit"
        )
        store.release(bytes: inFlight)
        #expect(Self.nothingReserved(store))
        #expect(store.reserve(bytes: inFlight))
        try await admission.admit(.metrics, on: .otlpGRPC, bytes: 200) { ticket in
            #expect(!Self.nothingReserved(store) && !store.reserve(bytes: 1), "exactly the limit fits")
            ticket.refuseItems(1)
        }
        store.release(bytes: inFlight)
        #expect(Self.nothingReserved(store))
    }

    /// The look the receivers take from a request's header alone, to refuse it for load on the event loop: at the
    /// requests in flight, or a declared body the limit cannot cover now; everything else is left to the responder.
    @Test func aRefusalForLoadIsJudgedFromTheHeaderAsEnteringAndReservingWouldJudgeIt() {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        var admission = Admission(store: store, logger: Self.quiet)
        admission.maxRequestsInFlight = 1
        #expect(admission.refusalForLoad(declaredBodyBytes: 500, maxRequestBytes: 4_000) == nil)

        // Other requests hold all but 300 bytes: a declared 301 cannot be reserved now, a declared 300 can.
        let inFlight = Self.limit - 300
        #expect(store.reserve(bytes: inFlight))
        let full = admission.refusalForLoad(declaredBodyBytes: 301, maxRequestBytes: 4_000)
        #expect(full?.code == .unavailable && full?.retryAfterSeconds == 1 && full?.message.contains("store is full") == true)
        #expect(admission.refusalForLoad(declaredBodyBytes: 300, maxRequestBytes: 4_000) == nil)
        // Not known (chunked), over the request limit, or beyond what the whole limit could ever hold: the responder's.
        #expect(admission.refusalForLoad(declaredBodyBytes: nil, maxRequestBytes: 4_000) == nil)
        #expect(admission.refusalForLoad(declaredBodyBytes: 5_000, maxRequestBytes: 4_000) == nil)
        #expect(admission.refusalForLoad(declaredBodyBytes: Self.limit, maxRequestBytes: Self.limit) == nil)
        store.release(bytes: inFlight)

        // At the requests in flight, any request is refused, whatever it declares.
        #expect(store.requestsInFlight.enter(limit: 1))
        let busy = admission.refusalForLoad()
        #expect(busy?.code == .unavailable && busy?.message.contains("--max-requests-in-flight") == true)
        store.requestsInFlight.leave()
        #expect(admission.refusalForLoad() == nil)
    }

    /// A request whose decoding could never fit under the whole limit is too large, not retryable, even when it is
    /// smaller than the limit itself.
    @Test func aRequestThatCouldNeverBeDecodedUnderTheLimitIsTooLarge() async throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let admission = Admission(store: store, logger: Self.quiet)
        let refusal = await #expect(throws: Refusal.self) {
            try await admission.admit(.traces, on: .otlpGRPC, bytes: 2001) { _ in Issue.record("admitted over the limit") }
        }
        #expect(refusal?.code == .tooLarge)
        #expect(refusal?.retryAfterSeconds == nil)
        #expect(
            refusal?.message
                == "request of 2001 bytes (decompressed) needs 10005 bytes of memory to decode and store, more than otelbench's whole memory limit "
                + "of 10000 bytes, so it can never be stored: send smaller requests or raise --memory-limit"
        )
        #expect(Self.nothingReserved(store))
        try await admission.admit(.traces, on: .otlpGRPC, bytes: 2000) { ticket in ticket.accept(Batch(), recording: .converted) }
    }

    /// A scripted answer, whether the protocol can answer a partial success, and what admission does.
    struct ScriptedCase: CustomTestStringConvertible, Sendable {
        var response: IntakeFaultResponse
        var partialSuccessSupported: Bool
        /// The refusal's code, or `nil` for a ticket marked for a partial success.
        var code: Refusal.Code?
        var retryAfterSeconds: Int?
        var testDescription: String { "\(response), partial success \(partialSuccessSupported ? "supported" : "not supported")" }
    }

    static let scriptedCases: [ScriptedCase] = [
        ScriptedCase(response: .tooManyRequests, partialSuccessSupported: true, code: .tooManyRequests, retryAfterSeconds: 3),
        ScriptedCase(response: .serviceUnavailable, partialSuccessSupported: true, code: .unavailable, retryAfterSeconds: 3),
        ScriptedCase(response: .serviceUnavailable, partialSuccessSupported: false, code: .unavailable, retryAfterSeconds: 3),
        ScriptedCase(response: .partialSuccess, partialSuccessSupported: true, code: nil),
        ScriptedCase(response: .partialSuccess, partialSuccessSupported: false, code: .invalidArgument),
    ]

    @Test(arguments: scriptedCases)
    func scriptedFaultsAreAnsweredBeforeAnythingIsReserved(_ scripted: ScriptedCase) async throws {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: Self.limit))
        let faults = FaultInjector(rules: [.init(sequence: [scripted.response], retryAfter: .seconds(3))])
        let admission = Admission(store: store, faults: faults, logger: Self.quiet)
        do {
            try await admission.admit(.logs, on: .otlpHTTPJSON, bytes: 500, partialSuccess: scripted.partialSuccessSupported) { ticket in
                #expect(scripted.code == nil, "admitted despite a scripted \(scripted.response)")
                #expect(ticket.partialSuccess)
                ticket.refuseItems(7)
            }
            let counts = store.counts[.otlpHTTPJSON]?[.logs]
            #expect(counts?.itemsRejected == 7)
            #expect(counts?.requestsAccepted == 1)
            #expect(counts?.itemsAccepted == 0)
        } catch {
            #expect(error.code == scripted.code)
            #expect(error.retryAfterSeconds == scripted.retryAfterSeconds)
            #expect(error.message.contains("fault injection"))
        }
        #expect(Self.nothingReserved(store))
        #expect(store.retainedBytes == 0)
        // The sequence is spent: the next request is admitted as usual.
        try await admission.admit(.logs, on: .otlpHTTPJSON, bytes: 500, partialSuccess: scripted.partialSuccessSupported) { ticket in
            #expect(!ticket.partialSuccess)
            ticket.accept(Self.onePoint, recording: .converted)
        }
        #expect(Self.isOnePointCharge(store.retainedBytes))
    }

    /// A refusal code and its status on HTTP and on gRPC.
    struct CodeCase: CustomTestStringConvertible, Sendable {
        var code: Refusal.Code
        var httpStatus: Int
        var grpcCode: RPCError.Code
        var testDescription: String { "\(code)" }
    }

    static let codeCases: [CodeCase] = [
        CodeCase(code: .invalidArgument, httpStatus: 400, grpcCode: .invalidArgument),
        CodeCase(code: .notFound, httpStatus: 404, grpcCode: .notFound),
        CodeCase(code: .methodNotAllowed, httpStatus: 405, grpcCode: .unimplemented),
        CodeCase(code: .notAcceptable, httpStatus: 406, grpcCode: .invalidArgument),
        CodeCase(code: .tooLarge, httpStatus: 413, grpcCode: .resourceExhausted),
        CodeCase(code: .unsupportedMediaType, httpStatus: 415, grpcCode: .invalidArgument),
        CodeCase(code: .tooManyRequests, httpStatus: 429, grpcCode: .resourceExhausted),
        CodeCase(code: .unavailable, httpStatus: 503, grpcCode: .unavailable),
    ]

    @Test(arguments: codeCases)
    func everyCodeHasAnHTTPStatusAndAGRPCStatus(_ mapping: CodeCase) {
        let refusal = Refusal(mapping.code, "why", retryAfterSeconds: 4, allowedMethods: "POST")
        #expect(Int(refusal.status.code) == mapping.httpStatus)
        let error = RPCError(refusal)
        #expect(error.code == mapping.grpcCode)
        #expect(error.message == "why")
        let text = refusal.plainTextResponse
        #expect(Int(text.status.code) == mapping.httpStatus)
        #expect(text.headers[.retryAfter] == "4")
        #expect(text.headers[.allow] == "POST")
        #expect(text.headers[.contentType] == "text/plain; charset=utf-8")
    }
}
