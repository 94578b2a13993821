package import Logging
package import Scenario
package import Telemetry

/// The one path every request takes through intake, whatever protocol brought it: it is **admitted** (scripted
/// faults, then the store's memory limit), decoded by its receiver, then **accepted** (stored, counted,
/// recorded) — or refused, counted once, with nothing left reserved.
///
/// Receivers decode; this type owns everything around the decoding, as grpc-swift-2's interceptors run once
/// for every call. A receiver's whole admission is one call:
///
/// ```swift
/// let accepted = try await admission.admit(.traces, on: .jaegerThrift, bytes: body.count) { ticket throws(Refusal) in
///     let spans = try decodeAndValidate(body)      // a thrown refusal releases the reservation
///     ticket.accept(Batch(spans: spans), recording: .converted)
/// }
/// ```
/// and the receiver's server (``HTTPReceiver``, ``GRPCReceiver``) counts each refusal with ``countRefusal(_:channel:signal:)``.
package struct Admission: Sendable {
    /// Where accepted items go, and whose memory limit applies.
    package let store: TelemetryStore
    /// Where accepted requests are recorded, when `--record` asked for it.
    package let recorder: RecordingWriter?
    /// Scripted refusals and latency (a scenario's `intake.faults`); `nil`: none.
    package let faults: FaultInjector?
    /// The bearer token every request must carry (the receiver's ``ListenerSecurity/token``); `nil`: none.
    package var token: BearerToken?
    /// Requests in flight across the intake beyond which a new one is refused before its body is read (the
    /// receiver's ``ConnectionLimits/maxRequestsInFlight``; see ``enterInFlight()``).
    package var maxRequestsInFlight = ConnectionLimits.default.maxRequestsInFlight
    let logger: Logger

    /// Creates the pipeline writing into `store` and, if given, `recorder`.
    package init(
        store: TelemetryStore,
        recorder: RecordingWriter? = nil,
        faults: FaultInjector? = nil,
        logger: Logger = Logger(label: "otelbench.intake")
    ) {
        self.store = store
        self.recorder = recorder
        self.faults = faults
        self.logger = logger
    }

    /// Admits one request of `bytes` (its decompressed size), runs `body` with the ticket, and returns what
    /// `body` returns.
    ///
    /// Admission waits out any scripted latency, then throws a scripted refusal, then reserves room for the body and
    /// its decoded items (``Telemetry/ResidentCost/admission(bytes:)``, a multiple of `bytes`) under the store's
    /// memory limit, throwing ``Refusal/overloaded(limit:)`` when it does not fit now (after evicting the oldest
    /// traces and log records), and ``Refusal/largerThanTheStore(bytes:reservation:limit:)`` when it never could, so that
    /// no sender retries it for ever. `body` decodes and
    /// settles the ticket: ``Ticket/accept(_:rejectedItems:recording:)`` or ``Ticket/refuseItems(_:)``; if it throws
    /// (or returns without settling), the reservation is released.
    ///
    /// - Parameters:
    ///   - partialSuccess: whether the protocol can answer a partial success; when it cannot, a scripted
    ///     partial success is refused whole (``Refusal/scripted(_:retryAfterSeconds:)``).
    ///   - wireBytes: the request's size as it came over the wire (``IntakeCounts/wireBytesAccepted``); `nil`:
    ///     `bytes` (it was not compressed).
    ///   - export: the OTLP exporter and batch the request carries (``wantsExportIdentity``): only the faults scripted
    ///     for its service apply, and the answer goes to the store's ``ExportLedger`` while a `retry` rule follows it.
    ///   - reservation: room reserved for the request already, before it was decoded (each gRPC request stream
    ///     reserves ``Telemetry/ResidentCost/admission(bytes:)`` for a message as it arrives, see
    ///     ``GRPCMessageInflation``): taken over instead of reserving again, or released when the request is refused
    ///     before it is (a scripted refusal). When it was released already (its stream closed), admission reserves
    ///     as without one.
    package func admit<Result>(
        _ signal: Signal,
        on channel: IntakeChannel,
        bytes: Int,
        wireBytes: Int? = nil,
        partialSuccess: Bool = false,
        export: ExportIdentity? = nil,
        reservation: Reservation? = nil,
        _ body: (Ticket) async throws(Refusal) -> Result
    ) async throws(Refusal) -> Result {
        guard let export, store.exports.isFollowing else {
            return try await admitOnce(
                signal,
                on: channel,
                bytes: bytes,
                wireBytes: wireBytes,
                partialSuccess: partialSuccess,
                service: export?.service,
                reservation: reservation,
                body
            )
        }
        return try await admitRecording(
            export,
            signal,
            on: channel,
            bytes: bytes,
            wireBytes: wireBytes,
            partialSuccess: partialSuccess,
            reservation: reservation,
            body
        )
    }

    /// ``admit(_:on:bytes:wireBytes:partialSuccess:export:_:)`` for a request of `service` (`nil`: unknown), unrecorded.
    func admitOnce<Result>(
        _ signal: Signal,
        on channel: IntakeChannel,
        bytes: Int,
        wireBytes: Int?,
        partialSuccess: Bool,
        service: String?,
        reservation held: Reservation? = nil,
        _ body: (Ticket) async throws(Refusal) -> Result
    ) async throws(Refusal) -> Result {
        var scriptedPartialSuccess = false
        if let decision = faults?.decide(signal, service: service) {
            if let latency = decision.addedLatency { try? await Task.sleep(for: latency) }
            switch decision.response {
            case .ok: break
            case .partialSuccess where partialSuccess: scriptedPartialSuccess = true
            default:
                held?.release()
                throw Refusal.scripted(decision.response, retryAfterSeconds: decision.retryAfterSeconds)
            }
        }
        // Room for the body and the items decoded from it (``ResidentCost/admission(bytes:)``); once stored, the
        // items are charged what they cost instead.
        let reservation: Int
        if let held, held.take() {
            reservation = held.bytes
        } else {
            reservation = ResidentCost.admission(bytes: bytes)
            if let limit = store.limits.maxRetainedBytes, reservation > limit {
                throw Refusal.largerThanTheStore(bytes: bytes, reservation: reservation, limit: limit)
            }
            guard store.reserve(bytes: reservation) else { throw Refusal.overloaded(limit: store.limits.maxRetainedBytes) }
        }
        let ticket = Ticket(
            admission: self,
            channel: channel,
            signal: signal,
            bytes: bytes,
            reservation: reservation,
            wireBytes: wireBytes ?? bytes,
            partialSuccess: scriptedPartialSuccess
        )
        defer { ticket.releaseIfUnsettled() }
        return try await body(ticket)
    }

    /// Checks a request's `Authorization` header (or `authorization` metadata) against ``token``, before anything
    /// of the request is read: a request refused here stores nothing. The receiver counts the refusal.
    ///
    /// - Throws: ``Refusal/unauthenticated(_:)`` when a token is asked for and the request does not carry it.
    package func authenticate(authorization: String?) throws(Refusal) {
        guard let token, let failure = token.check(authorization: authorization) else { return }
        throw Refusal.unauthenticated(failure)
    }

    /// Counts a request refused whole; the receiver's server calls it once for every refusal it answers.
    ///
    /// - Parameter reason: the refusal (or the transport's error), for the debug log.
    package func countRefusal(_ reason: any Error, channel: IntakeChannel, signal: Signal) {
        store.countRejectedRequest(channel: channel, signal: signal)
        logger.debug("\(channel) \(signal): refused: \(reason)")
    }

    /// One admitted request's reservation, settled exactly once: accepted, answered with every item refused, or
    /// (by ``Admission/admit(_:on:bytes:partialSuccess:_:)`` when the request is refused) released.
    package final class Ticket {
        let admission: Admission
        package let channel: IntakeChannel
        package let signal: Signal
        /// The request's size, decompressed.
        package let bytes: Int
        /// What is reserved for it under the memory limit until it is settled (``ResidentCost/admission(bytes:)``).
        package let reservation: Int
        /// The request's size on the wire, counted when it is accepted.
        package let wireBytes: Int
        /// A scripted partial success: answer with every item refused (``refuseItems(_:)``) instead of storing.
        package let partialSuccess: Bool
        private var settled = false

        init(admission: Admission, channel: IntakeChannel, signal: Signal, bytes: Int, reservation: Int, wireBytes: Int, partialSuccess: Bool) {
            self.admission = admission
            self.channel = channel
            self.signal = signal
            self.bytes = bytes
            self.reservation = reservation
            self.wireBytes = wireBytes
            self.partialSuccess = partialSuccess
        }

        /// What the recording keeps of an accepted request.
        package enum Recording: Sendable {
            /// The request as received (OTLP).
            case original(RecordedRequest)
            /// An OTLP request of `signal` as received, in protobuf (`bytes`, read only when a recording is being
            /// written), and as decoded when the receiver decoded it into messages (the trace receivers convert the
            /// wire format directly and build none): the recording writes the bytes as they are, or transcodes them to
            /// OTLP/JSON (``RecordingWriter/appendProtobuf(_:signal:decoded:)``).
            case protobuf(Signal, bytes: @Sendable () -> [UInt8], decoded: RecordedRequest?)
            /// The accepted items, converted to OTLP (the other protocols; see ``SinkRecording``).
            case converted
        }

        /// Stores `batch` whole, giving back the reservation and charging its items what they cost resident, counts
        /// it and records it.
        package func accept(_ batch: Batch, rejectedItems: Int = 0, recording: Recording) {
            precondition(!settled, "a ticket is settled once")
            settled = true
            let store = admission.store
            store.store(
                batch,
                channel: channel,
                signal: signal,
                rejectedItems: rejectedItems,
                reservedBytes: reservation,
                bodyBytes: bytes,
                wireBytes: wireBytes
            )
            if rejectedItems > 0 { admission.logger.debug("\(channel) \(signal): rejected \(rejectedItems) \(signal.itemName)") }
            guard let recorder = admission.recorder else { return }
            switch recording {
            case .original(let request):
                do {
                    try recorder.append(request)
                } catch {
                    admission.logger.error("recording to \(recorder.path) failed: \(error)")
                }
            case .protobuf(let signal, let bytes, let decoded):
                do {
                    try recorder.appendProtobuf(bytes(), signal: signal, decoded: decoded)
                } catch {
                    admission.logger.error("recording to \(recorder.path) failed: \(error)")
                }
            case .converted:
                if let problem = SinkRecording.record(batch, to: recorder) { admission.logger.error("\(problem)") }
            }
        }

        /// Answers a scripted partial success: `items` counted as rejected, nothing stored, the reservation released.
        package func refuseItems(_ items: Int) {
            precondition(!settled, "a ticket is settled once")
            settled = true
            admission.store.release(bytes: reservation)
            admission.store.countRejectedItems(channel: channel, signal: signal, items: items)
        }

        fileprivate func releaseIfUnsettled() {
            guard !settled else { return }
            settled = true
            admission.store.release(bytes: reservation)
        }
    }
}
