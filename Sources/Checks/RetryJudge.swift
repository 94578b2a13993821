package import Scenario
package import Telemetry

/// Judges exporters' timelines (``ExporterTimeline``) against the OTLP specification's retry rules, one
/// ``RuleResult`` per exporter and point of ``RetryRule``. Pure: the tests hand it timelines built by hand.
///
/// A point with nothing to judge (no refusal of that kind reached the exporter) is `no_data`, never a pass.
///
/// ```swift
/// let results = RetryJudge(rule: RetryRule()).judge(store.exports.timelines)
/// ```
package struct RetryJudge: Sendable {
    package let rule: RetryRule
    /// The most evidence lines one result carries (violations first, then the timeline).
    package static let evidenceLimit = 40

    package init(rule: RetryRule) { self.rule = rule }

    /// One result per judged exporter and point, exporters in order; a `no_data` result when no exporter was refused
    /// (or none of `services`).
    package func judge(_ timelines: [ExporterKey: ExporterTimeline], droppedExporterRequests: Int = 0) -> [RuleResult] {
        let refused = timelines.filter { entry in entry.value.attempts.contains { $0.answer.outcome != .accepted } }
        var results: [RuleResult] = []
        for service in rule.services where !refused.keys.contains(where: { $0.service == service }) {
            results.append(
                RuleResult(
                    kind: .retry,
                    name: "exporter retry: \(service)",
                    verdict: .noData,
                    measured: "no exporter of \(service) was refused",
                    expected: "intake.faults refuse some of its OTLP requests",
                    evidence: ["exporters seen: " + (timelines.keys.sorted().map(\.description).joined(separator: ", ").nonEmpty ?? "none")]
                )
            )
        }
        let judged = refused.keys.sorted().filter { rule.services.isEmpty || rule.services.contains($0.service) }
        if judged.isEmpty && rule.services.isEmpty {
            return [
                RuleResult(
                    kind: .retry,
                    name: "exporter retry",
                    verdict: .noData,
                    measured: "no OTLP exporter was refused",
                    expected: "intake.faults refuse some OTLP requests, so that retries can be judged",
                    evidence: droppedExporterRequests > 0
                        ? ["\(droppedExporterRequests) requests of exporters beyond the first \(ExportLedger.maxExporters) were not followed"] : []
                )
            ]
        }
        for exporter in judged {
            let timeline = refused[exporter]!
            let batches = Batches(timeline.attempts)
            for point in RetryRule.Point.allCases where rule.points.contains(point) {
                results.append(result(point, exporter: exporter, timeline: timeline, batches: batches))
            }
        }
        return results
    }

    /// Each batch's attempts, in order.
    struct Batches {
        var order: [UInt64] = []
        var attempts: [UInt64: [ExportAttempt]] = [:]

        init(_ all: [ExportAttempt]) {
            for attempt in all.sorted(by: { $0.at < $1.at }) {
                if attempts[attempt.batch] == nil { order.append(attempt.batch) }
                attempts[attempt.batch, default: []].append(attempt)
            }
        }
    }

    /// What one point found: how many cases it judged and the ones that break it.
    private struct Finding {
        var judged = 0
        var violations: [String] = []
    }

    private func result(_ point: RetryRule.Point, exporter: ExporterKey, timeline: ExporterTimeline, batches: Batches) -> RuleResult {
        var finding = find(point, batches: batches)
        // Batches accepted the first time were checked against being sent again as they arrived (ExportLedger).
        if point == .noDuplicates { finding.judged += timeline.acceptedFirstTime }
        let verdict: RuleResult.Verdict = finding.judged == 0 ? .noData : finding.violations.isEmpty ? .pass : .fail
        let measured: String
        switch verdict {
        case .noData: measured = "nothing to judge: \(Self.missing(point))"
        case .pass: measured = "\(finding.judged) of \(finding.judged) \(Self.unit(point)) hold"
        case .fail: measured = "\(finding.violations.count) of \(finding.judged) \(Self.unit(point)) break it"
        }
        var evidence = finding.violations.prefix(Self.evidenceLimit / 2).map { $0 }
        if finding.violations.count > Self.evidenceLimit / 2 { evidence.append("… \(finding.violations.count - Self.evidenceLimit / 2) more") }
        evidence.append(
            "timeline of \(exporter) (\(timeline.acceptedFirstTime) batches accepted the first time are not listed"
                + (timeline.droppedAttempts > 0
                    ? "; \(timeline.droppedAttempts) requests after the first \(ExportLedger.attemptsPerExporter) were not kept" : "")
                + "):"
        )
        let lines = Self.timelineLines(timeline.attempts)
        let room = max(0, Self.evidenceLimit - evidence.count)
        evidence += lines.prefix(room)
        if lines.count > room { evidence.append("… \(lines.count - room) more requests") }
        return RuleResult(
            kind: .retry,
            name: "exporter retry: \(exporter): \(point.rawValue)",
            verdict: verdict,
            measured: measured,
            expected: point.expectation,
            evidence: evidence
        )
    }

    private func find(_ point: RetryRule.Point, batches: Batches) -> Finding {
        var finding = Finding()
        for batch in batches.order {
            let attempts = batches.attempts[batch]!
            let name = Self.batchName(batch)
            switch point {
            case .retried:
                for (index, attempt) in attempts.enumerated() where attempt.answer.outcome == .refused && attempt.answer.retryable {
                    finding.judged += 1
                    if index == attempts.count - 1 {
                        finding.violations.append("batch \(name), refused at \(Self.time(attempt.at)) with \(attempt.answer), was never sent again")
                    }
                }
            case .backoff:
                // Waits after consecutive retryable refusals that advertised no delay.
                var previousWait: Duration?
                for index in attempts.indices.dropLast() {
                    let attempt = attempts[index]
                    guard attempt.answer.outcome == .refused, attempt.answer.retryable, attempt.answer.advertisedDelay == nil else {
                        previousWait = nil
                        continue
                    }
                    let wait = attempts[index + 1].at - attempt.at
                    if let previous = previousWait {
                        finding.judged += 1
                        let grew = rule.backoffTolerance == 0 ? wait > previous : wait >= previous * (1 - rule.backoffTolerance)
                        if !grew {
                            finding.violations.append(
                                "batch \(name): waited \(ExportLedger.format(wait)) after the refusal at \(Self.time(attempt.at)), "
                                    + "not longer than the \(ExportLedger.format(previous)) before it"
                            )
                        }
                    }
                    previousWait = wait
                }
            case .advertisedDelay:
                for index in attempts.indices.dropLast() {
                    let attempt = attempts[index]
                    guard attempt.answer.outcome == .refused, attempt.answer.retryable, let delay = attempt.answer.advertisedDelay else { continue }
                    finding.judged += 1
                    let wait = attempts[index + 1].at - attempt.at
                    if wait < delay {
                        finding.violations.append(
                            "batch \(name): retried \(ExportLedger.format(wait)) after \(attempt.answer) at \(Self.time(attempt.at))"
                        )
                    }
                }
            case .notRetried:
                for index in attempts.indices {
                    let attempt = attempts[index]
                    guard attempt.answer.outcome == .partialSuccess || (attempt.answer.outcome == .refused && !attempt.answer.retryable) else { continue }
                    finding.judged += 1
                    if index < attempts.count - 1 {
                        finding.violations.append(
                            "batch \(name) answered \(attempt.answer) at \(Self.time(attempt.at)) was sent again at \(Self.time(attempts[index + 1].at))"
                        )
                    }
                }
            case .noDuplicates:
                guard let first = attempts.firstIndex(where: { $0.answer.outcome != .refused }) else { continue }
                finding.judged += 1
                let again = attempts[(first + 1)...].filter { $0.answer.outcome != .refused }
                if let duplicate = again.first {
                    finding.violations.append(
                        "batch \(name) accepted at \(Self.time(attempts[first].at)) was stored again at \(Self.time(duplicate.at))"
                            + (again.count > 1 ? " (and \(again.count - 1) more times)" : "")
                    )
                }
            case .delivered:
                guard let firstRefusal = attempts.first(where: { $0.answer.outcome == .refused && $0.answer.retryable }) else { continue }
                finding.judged += 1
                if !attempts.contains(where: { $0.answer.outcome != .refused }) {
                    finding.violations.append(
                        "batch \(name), first refused at \(Self.time(firstRefusal.at)), was never accepted (\(attempts.count) request\(attempts.count == 1 ? "" : "s"), the last answered \(attempts.last!.answer))"
                    )
                }
            }
        }
        return finding
    }

    /// One line per request: `+1.204 s  batch 3f2a9c01  503 retryable, asks to wait 1.000 s`.
    static func timelineLines(_ attempts: [ExportAttempt]) -> [String] {
        attempts.sorted { $0.at < $1.at }.map { "\(time($0.at))  batch \(batchName($0.batch))  \($0.answer)" }
    }

    static func time(_ at: Duration) -> String { "+" + ExportLedger.format(at) }

    /// The digest's first 8 hex digits: enough to tell a run's batches apart in a report.
    static func batchName(_ digest: UInt64) -> String {
        let hex = String(digest, radix: 16)
        return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(8))
    }

    private static func unit(_ point: RetryRule.Point) -> String {
        switch point {
        case .retried: "retryable refusals"
        case .backoff: "backoff waits"
        case .advertisedDelay: "retries after an advertised delay"
        case .notRetried: "non-retryable answers"
        case .noDuplicates: "accepted batches"
        case .delivered: "batches refused as retryable"
        }
    }

    private static func missing(_ point: RetryRule.Point) -> String {
        switch point {
        case .retried, .delivered: "no retryable refusal (script 429 or 503 in intake.faults)"
        case .backoff: "no batch was refused twice in a row without an advertised delay (script three 503s without retry_after)"
        case .advertisedDelay: "no retryable refusal advertised a delay, or none was retried (script 429 or 503 with retry_after)"
        case .notRetried: "no non-retryable answer (script 400 or partial_success in intake.faults)"
        case .noDuplicates: "no batch of this exporter that was refused or sent again was accepted"
        }
    }
}

extension String {
    /// The string, or `nil` when it is empty.
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
