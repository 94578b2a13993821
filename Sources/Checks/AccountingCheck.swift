import Foundation
import Telemetry

/// What was sent against what was received: every sampled request the driver sent (and got an answer for)
/// must have produced spans, every item the receivers refused is a loss, and so is every export request they
/// refused whole (its items unknown: the intake refuses before it decodes), all named by channel and signal.
///
/// The loss is the largest of three fractions: answered sampled requests without spans, items refused of
/// items received, and requests refused whole of requests received. A refused export that the sender retried
/// successfully still counts: the intake cannot tell a retry from new data.
///
/// Subjects: the traces of answered requests that produced no span (at most 20).
package struct AccountingCheck: Check {
    /// The loss allowed, as a fraction (0: nothing may be lost).
    package var tolerance: Double

    package init(tolerance: Double) {
        self.tolerance = tolerance
    }

    package var kind: RuleResult.Kind { .accounting }

    package func evaluate(_ run: RunData) -> [RuleResult] { [result(run)] }

    /// The one rule, `nothing lost`.
    package func result(_ run: RunData) -> RuleResult {
        let requests = run.requests?.finish() ?? RequestLedger.Tallies()
        let answered = requests.answeredSampled
        let missing = requests.missing
        var evidence: [String] = []
        var refused = 0
        var accepted = 0
        var requestsRefused = 0
        var requestsAccepted = 0
        for (channel, bySignal) in run.store.counts.sorted(by: { $0.key < $1.key }) {
            for (signal, counts) in bySignal.sorted(by: { $0.key < $1.key }) {
                accepted += counts.itemsAccepted
                refused += counts.itemsRejected
                requestsAccepted += counts.requestsAccepted
                requestsRefused += counts.requestsRejected
                if counts.itemsRejected > 0 || counts.requestsRejected > 0 {
                    evidence.append("\(channel) \(signal): \(counts.itemsRejected) \(signal.itemName) rejected, \(counts.requestsRejected) requests refused")
                }
                if counts.requestsRejected > 0 {
                    evidence.append(
                        "\(channel) \(signal): \(counts.requestsRejected) requests refused whole (items unknown) of "
                            + "\(counts.requestsAccepted + counts.requestsRejected) received"
                    )
                }
            }
        }
        if let first = requests.firstMissing.first {
            evidence.append("\(missing) of \(answered) answered sampled requests produced no span, e.g. trace \(first.traceID) (\(first.name))")
        }
        let lostRequests = answered == 0 ? 0 : Double(missing) / Double(answered)
        let lostItems = accepted + refused == 0 ? 0 : Double(refused) / Double(accepted + refused)
        // A request refused whole lost items nobody counted: it weighs as one request of all received.
        let received = requestsAccepted + requestsRefused
        let lostExports = received == 0 ? 0 : Double(requestsRefused) / Double(received)
        let loss = max(lostRequests, lostItems, lostExports)
        guard answered > 0 || accepted + refused > 0 || requestsRefused > 0 else {
            return RuleResult(
                kind: .accounting,
                name: "nothing lost",
                verdict: .noData,
                measured: "nothing was sent or received",
                expected: "loss <= \(tolerance)"
            )
        }
        return RuleResult(
            kind: .accounting,
            name: "nothing lost",
            verdict: loss <= tolerance ? .pass : .fail,
            measured: String(
                format: "%.2f%% lost (%d of %d traces missing; %d items refused, %d accepted",
                loss * 100,
                missing,
                answered,
                refused,
                accepted
            ) + (requestsRefused == 0 ? ")" : "; \(requestsRefused) requests refused whole (items unknown))"),
            expected: String(format: "loss <= %.2f%%", tolerance * 100),
            evidence: evidence,
            subjects: requests.firstMissing.prefix(20).map { .trace(id: $0.traceID, problem: "\($0.name): answered, but no span arrived") }
        )
    }
}
