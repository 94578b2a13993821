package import Scenario
import Synchronization

/// An exporter as intake sees it: a resource (`service.name`, `service.instance.id`) on one channel and signal.
package struct ExporterKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// `service.name` of the requests' first resource (`unknown_service` when they carry none).
    package var service: String
    /// `service.instance.id`, when the resource has one.
    package var instance: String?
    package var channel: IntakeChannel
    package var signal: Signal

    package init(service: String, instance: String? = nil, channel: IntakeChannel, signal: Signal) {
        self.service = service
        self.instance = instance
        self.channel = channel
        self.signal = signal
    }

    /// `cf_core.services.tasks otlp-grpc traces`, with ` (instance …)` when there is one.
    package var description: String {
        "\(service)\(instance.map { " (instance \($0))" } ?? "") \(channel) \(signal)"
    }

    package static func < (lhs: ExporterKey, rhs: ExporterKey) -> Bool {
        (lhs.service, lhs.instance ?? "", lhs.channel.name, lhs.signal.rawValue) < (rhs.service, rhs.instance ?? "", rhs.channel.name, rhs.signal.rawValue)
    }
}

/// What intake answered one export request, as the OTLP specification sorts answers: accepted, a partial success
/// (never to be retried), or a refusal that is retryable or not, with the delay it advertised.
package struct ExportAnswer: Sendable, Hashable, CustomStringConvertible {
    package enum Outcome: Sendable, Hashable {
        case accepted, partialSuccess, refused
    }

    package var outcome: Outcome
    /// The answer in its protocol's words: `200`, `503`, `UNAVAILABLE`, `OK`.
    package var code: String
    /// Whether the OTLP specification lets the exporter retry it (see ``http(status:retryAfter:)``, ``grpc(code:name:retryInfo:)``).
    package var retryable: Bool
    /// The delay the answer asked for: HTTP `Retry-After`, gRPC `RetryInfo.retry_delay`.
    package var advertisedDelay: Duration?

    package init(outcome: Outcome, code: String, retryable: Bool, advertisedDelay: Duration? = nil) {
        self.outcome = outcome
        self.code = code
        self.retryable = retryable
        self.advertisedDelay = advertisedDelay
    }

    /// A success.
    package static func accepted(code: String) -> ExportAnswer { ExportAnswer(outcome: .accepted, code: code, retryable: false) }

    /// A success whose `partial_success` rejected items: "The client MUST NOT retry the request" (OTLP, Partial Success).
    package static func partialSuccess(code: String) -> ExportAnswer { ExportAnswer(outcome: .partialSuccess, code: code, retryable: false) }

    /// An OTLP/HTTP refusal. Retryable: 429, 502, 503 and 504; "All other 4xx or 5xx response status codes MUST NOT
    /// be retried" (OTLP/HTTP, Retryable Response Codes).
    package static func http(status: Int, retryAfter: Duration?) -> ExportAnswer {
        ExportAnswer(outcome: .refused, code: String(status), retryable: [429, 502, 503, 504].contains(status), advertisedDelay: retryAfter)
    }

    /// An OTLP/gRPC refusal, by its `google.rpc.Code` number. Retryable: CANCELLED, DEADLINE_EXCEEDED, ABORTED,
    /// OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED only when the status carries `RetryInfo`
    /// ("If no such status is returned, then the RESOURCE_EXHAUSTED code SHOULD be treated as non-retryable",
    /// OTLP/gRPC, Failures).
    package static func grpc(code: Int, name: String, retryInfo: Duration?) -> ExportAnswer {
        let retryable = [1, 4, 10, 11, 14, 15].contains(code) || (code == 8 && retryInfo != nil)
        return ExportAnswer(outcome: .refused, code: name, retryable: retryable, advertisedDelay: retryInfo)
    }

    /// `503 retryable, Retry-After 2s`, `INVALID_ARGUMENT not retryable`, `200 accepted`.
    package var description: String {
        switch outcome {
        case .accepted: return "\(code) accepted"
        case .partialSuccess: return "\(code) partial success (not retryable)"
        case .refused:
            let delay = advertisedDelay.map { ", asks to wait \(ExportLedger.format($0))" } ?? ""
            return "\(code) \(retryable ? "retryable" : "not retryable")\(delay)"
        }
    }
}

/// One request of an exporter: when intake answered it, the batch it carried, and the answer.
package struct ExportAttempt: Sendable, Hashable {
    /// Since the ledger began following.
    package var at: Duration
    /// The batch's ``ExportIdentity/digest``.
    package var batch: UInt64
    package var answer: ExportAnswer

    package init(at: Duration, batch: UInt64, answer: ExportAnswer) {
        self.at = at
        self.batch = batch
        self.answer = answer
    }
}

/// One exporter's requests that matter for retrying: every request of a batch that was ever refused, and both
/// requests of a batch sent again after it was accepted. Batches accepted the first time are only counted.
package struct ExporterTimeline: Sendable, Hashable {
    /// In the order intake answered them.
    package var attempts: [ExportAttempt] = []
    /// Requests left out once ``ExportLedger/attemptsPerExporter`` were kept.
    package var droppedAttempts = 0
    /// Batches accepted the first time they were sent (not in ``attempts`` unless sent again).
    package var acceptedFirstTime = 0

    package init(attempts: [ExportAttempt] = [], droppedAttempts: Int = 0, acceptedFirstTime: Int = 0) {
        self.attempts = attempts
        self.droppedAttempts = droppedAttempts
        self.acceptedFirstTime = acceptedFirstTime
    }
}

/// Every OTLP exporter's requests and intake's answers, for the `retry` rule: fed by intake's admission, off until
/// a check calls ``follow()`` (so a run without the rule hashes nothing).
///
/// Memory is bounded: at most ``maxExporters`` exporters, ``attemptsPerExporter`` requests each, and the digests of
/// each exporter's last ``recentBatchesPerExporter`` accepted batches (to recognise a batch sent again after success).
///
/// ```swift
/// store.exports.follow()
/// // ... intake records every answer with record(_:channel:signal:answer:) ...
/// for (exporter, timeline) in store.exports.timelines { print(exporter, timeline.attempts.count) }
/// ```
package final class ExportLedger: Sendable {
    /// Requests kept per exporter.
    package static let attemptsPerExporter = 2048
    /// Exporters followed; requests of any further exporter are counted in ``droppedExporterRequests``.
    package static let maxExporters = 256
    /// Accepted batches remembered per exporter, to recognise one sent again.
    package static let recentBatchesPerExporter = 4096

    fileprivate struct Following {
        var timeline = ExporterTimeline()
        /// Batches with requests in the timeline.
        var followed: Set<UInt64> = []
        /// Recently accepted batches and the request that delivered each, oldest first in `recentOrder`.
        var recent: [UInt64: ExportAttempt] = [:]
        var recentOrder: [UInt64] = []
        var recentStart = 0
    }

    private struct State {
        var start: ContinuousClock.Instant?
        var exporters: [ExporterKey: Following] = [:]
        var droppedExporterRequests = 0
    }

    private let state = Mutex(State())
    private let following = Atomic<Bool>(false)

    package init() {}

    /// Starts keeping timelines; times are measured from now. Calling it again changes nothing.
    package func follow() {
        state.withLock { state in
            if state.start == nil { state.start = .now }
        }
        following.store(true, ordering: .releasing)
    }

    /// Whether ``follow()`` was called: receivers compute an ``ExportIdentity`` only then.
    package var isFollowing: Bool { following.load(ordering: .acquiring) }

    /// Records intake's answer to one request of `identity`'s exporter on `channel`.
    package func record(_ identity: ExportIdentity, channel: IntakeChannel, signal: Signal, answer: ExportAnswer) {
        guard isFollowing else { return }
        let key = ExporterKey(service: identity.service ?? "unknown_service", instance: identity.instance, channel: channel, signal: signal)
        let now = ContinuousClock.now
        state.withLock { state in
            guard let start = state.start else { return }
            guard state.exporters[key] != nil || state.exporters.count < Self.maxExporters else {
                state.droppedExporterRequests += 1
                return
            }
            let at = now - start
            state.exporters[key, default: Following()].record(ExportAttempt(at: at, batch: identity.digest, answer: answer))
        }
    }

    /// Every followed exporter's timeline.
    package var timelines: [ExporterKey: ExporterTimeline] {
        state.withLock { $0.exporters.mapValues(\.timeline) }
    }

    /// Requests of exporters beyond ``maxExporters``, not followed.
    package var droppedExporterRequests: Int { state.withLock { $0.droppedExporterRequests } }

    /// `1.250 s`.
    package static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.3f s", seconds)
    }
}

extension ExportLedger.Following {
    fileprivate mutating func record(_ attempt: ExportAttempt) {
        let batch = attempt.batch
        if !followed.contains(batch) {
            if let delivered = recent[batch] {
                // Sent again after it was accepted: keep the first success too, as evidence.
                append(delivered)
            } else if attempt.answer.outcome != .refused {
                timeline.acceptedFirstTime += 1
                remember(attempt)
                return
            }
        }
        append(attempt)
        if attempt.answer.outcome != .refused { remember(attempt) }
    }

    private mutating func append(_ attempt: ExportAttempt) {
        guard timeline.attempts.count < ExportLedger.attemptsPerExporter else {
            timeline.droppedAttempts += 1
            return
        }
        followed.insert(attempt.batch)
        timeline.attempts.append(attempt)
    }

    private mutating func remember(_ attempt: ExportAttempt) {
        let batch = attempt.batch
        if recent[batch] == nil {
            if recentOrder.count - recentStart >= ExportLedger.recentBatchesPerExporter {
                recent[recentOrder[recentStart]] = nil
                recentStart += 1
                if recentStart > ExportLedger.recentBatchesPerExporter {
                    recentOrder.removeFirst(recentStart)
                    recentStart = 0
                }
            }
            recentOrder.append(batch)
        }
        recent[batch] = attempt
    }
}
