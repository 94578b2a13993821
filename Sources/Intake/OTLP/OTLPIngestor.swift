public import Logging
public import Telemetry

/// The path every OTLP request takes once its body is decoded, whatever protocol brought it:
/// validate and convert, store, count, record, and build the response.
public struct OTLPIngestor: Sendable {
    /// Where accepted items go.
    public let store: TelemetryStore
    /// Where requests are recorded, when `--record` asked for it.
    public let recorder: RecordingWriter?
    /// Scripted refusals and latency (a scenario's `intake.faults`); nil: none.
    public let faults: FaultInjector?
    let logger: Logger

    /// Creates an ingestor writing into `store` and, if given, `recorder`.
    public init(
        store: TelemetryStore, recorder: RecordingWriter? = nil, faults: FaultInjector? = nil,
        logger: Logger = Logger(label: "otelbench.intake")
    ) {
        self.store = store
        self.recorder = recorder
        self.faults = faults
        self.logger = logger
    }

    /// The fault decision for the next request of `signal` (after waiting out any added latency).
    func injectedFault(for signal: Signal) async -> FaultInjector.Decision? {
        guard let decision = faults?.decide(signal) else { return nil }
        if let latency = decision.addedLatency { try? await Task.sleep(for: latency) }
        return decision.response == .ok ? nil : decision
    }

    /// Answers a request with an injected partial success: every item refused, nothing stored.
    func refuseAsPartialSuccess<Request: OTLPExportRequest>(_ request: Request, channel: IntakeChannel, reservedBytes: Int) -> Request.Response {
        let result = request.converted(channel: channel)
        let items = result.batch.itemCount + result.rejectedItems
        store.release(bytes: reservedBytes)
        store.countRejectedItems(channel: channel, signal: Request.signal, items: items)
        return Request.response(rejectedItems: items, errorMessage: FaultInjector.message)
    }

    /// Why a request is refused before it is decoded.
    public static func overloadMessage(limit: Int?) -> String {
        let limitText = limit.map { "\($0 / (1 << 20)) MiB" } ?? "its limit"
        return "otelbench's store is full (\(limitText) of accepted requests): retry later, or raise --memory-limit"
    }

    /// Stores a decoded request and answers it.
    ///
    /// - Parameter reservedBytes: what the receiver reserved with ``TelemetryStore/reserve(bytes:)``.
    public func ingest<Request: OTLPExportRequest>(
        _ request: Request, channel: IntakeChannel, reservedBytes: Int
    ) -> Request.Response {
        let result = request.converted(channel: channel)
        store.store(result.batch, channel: channel, signal: Request.signal, rejectedItems: result.rejectedItems, reservedBytes: reservedBytes)
        if let recorder {
            do {
                try recorder.append(request.recorded)
            } catch {
                logger.error("recording to \(recorder.path) failed: \(error)")
            }
        }
        if result.rejectedItems > 0 {
            logger.debug("\(channel) \(Request.signal): rejected \(result.rejectedItems) \(Request.signal.itemName): \(result.errorMessage)")
        }
        return Request.response(rejectedItems: result.rejectedItems, errorMessage: result.errorMessage)
    }
}
