import AsyncHTTPClient
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
package import Scenario
package import Telemetry

/// A telemetrygen-like OTLP load generator that, unlike telemetrygen, counts what the receiver acknowledged.
///
/// Workers send batches on an open-loop schedule (the rate is kept whatever the receiver's latency, up to
/// what the workers can do; slots a busy worker could not use are counted as `missedSlots`).
///
/// ```swift
/// let report = try await OTLPLoadGenerator(configuration: .init(signal: .traces, endpoint: "127.0.0.1:4317")).run()
/// print(report.acceptedItems, report.exportLatency.p99)
/// ```
package struct OTLPLoadGenerator: Sendable {
    /// What to send, where and how fast.
    package struct Configuration: Sendable {

        /// Traces, metrics or logs.
        package var signal: Signal
        /// `HOST:PORT` of the receiver.
        package var endpoint: String
        package var transport: OTLPProtocol
        /// Items (spans, data points, log records) per second; 0 sends as fast as the workers can.
        package var rate: Double
        package var duration: Duration
        package var workers: Int
        /// Items per export request.
        package var batchSize: Int
        package var gzip: Bool
        package var spansPerTrace: Int
        package var attributesPerSpan: Int
        /// Distinct series that metric points cycle through.
        package var seriesCount: Int
        /// How long one export call may take, connecting included, before it counts as unanswered.
        package var requestTimeout: Duration

        package init(
            signal: Signal,
            endpoint: String,
            transport: OTLPProtocol = .grpc,
            rate: Double = 1000,
            duration: Duration = .seconds(10),
            workers: Int = 1,
            batchSize: Int = 100,
            gzip: Bool = false,
            spansPerTrace: Int = 8,
            attributesPerSpan: Int = 10,
            seriesCount: Int = 100,
            requestTimeout: Duration = .seconds(10)
        ) {
            self.signal = signal
            self.endpoint = endpoint
            self.transport = transport
            self.rate = rate
            self.duration = duration
            self.workers = workers
            self.batchSize = batchSize
            self.gzip = gzip
            self.spansPerTrace = spansPerTrace
            self.attributesPerSpan = attributesPerSpan
            self.seriesCount = seriesCount
            self.requestTimeout = requestTimeout
        }
    }

    package let configuration: Configuration

    package init(configuration: Configuration) { self.configuration = configuration }

    /// Sends for the configured duration and reports what was acknowledged.
    package func run() async throws -> GenerateReport {
        let configuration = configuration
        let start = ContinuousClock.now
        switch configuration.transport {
        case .http:
            let timeout = configuration.requestTimeout.components
            let client = OTLPHTTPExportClient(
                baseURL: "http://\(configuration.endpoint)",
                gzip: configuration.gzip,
                timeout: .nanoseconds(timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000)
            )
            let tallies = await runWorkers(start: start) { await client.export($0) }
            return GenerateReport(configuration: configuration, tallies: tallies, elapsed: ContinuousClock.now - start)
        case .grpc:
            let (host, port) = try Self.hostAndPort(configuration.endpoint)
            let transport = try HTTP2ClientTransport.Posix(
                target: .dns(host: host, port: port),
                transportSecurity: .plaintext,
                config: .defaults { $0.compression.enabledAlgorithms = [.gzip] }
            )
            let tallies = try await withGRPCClient(transport: transport) { grpc in
                let client = OTLPGRPCExportClient(client: grpc, gzip: configuration.gzip, timeout: configuration.requestTimeout)
                return await runWorkers(start: start) { await client.export($0) }
            }
            return GenerateReport(configuration: configuration, tallies: tallies, elapsed: ContinuousClock.now - start)
        }
    }

    /// Counts one worker keeps; merged at the end.
    struct Tallies: Sendable {
        var requests = 0
        var sentItems = 0
        var acceptedItems = 0
        var rejectedItems = 0
        var refusedItems = 0
        var failedItems = 0
        var missedSlots = 0
        var refusals: [String: Int] = [:]
        var failures: [String: Int] = [:]
        var latency = LatencyRecorder()

        mutating func merge(_ other: Tallies) {
            requests += other.requests
            sentItems += other.sentItems
            acceptedItems += other.acceptedItems
            rejectedItems += other.rejectedItems
            refusedItems += other.refusedItems
            failedItems += other.failedItems
            missedSlots += other.missedSlots
            refusals.merge(other.refusals, uniquingKeysWith: +)
            failures.merge(other.failures, uniquingKeysWith: +)
            latency.merge(other.latency)
        }
    }

    private func runWorkers(start: ContinuousClock.Instant, export: @escaping @Sendable (OTLPExportPayload) async -> ExportOutcome) async -> Tallies {
        let configuration = configuration
        let end = start + configuration.duration
        let workers = max(1, configuration.workers)
        // Each worker owns every workers-th slot of the schedule.
        let interval: Duration? =
            configuration.rate > 0
            ? .nanoseconds(Int64(Double(configuration.batchSize * workers) / configuration.rate * 1e9)) : nil
        return await withTaskGroup(of: Tallies.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var tallies = Tallies()
                    var factory = OTLPPayloadFactory(seed: UInt64(worker + 1) &* 0x9e37_79b9)
                    var next = start + (interval.map { $0 * worker / workers } ?? .zero)
                    var batchIndex = 0
                    while !Task.isCancelled {
                        if let interval {
                            let now = ContinuousClock.now
                            if next < now - interval {
                                // Behind schedule: count the slots that cannot be caught up, keep the rate.
                                let missed = Int((now - next) / interval)
                                tallies.missedSlots += missed
                                next = next + interval * missed
                            }
                            guard next < end else { break }
                            try? await Task.sleep(until: next, clock: .continuous)
                            next = next + interval
                        } else if ContinuousClock.now >= end {
                            break
                        }
                        let payload = makePayload(&factory, batchIndex: batchIndex, worker: worker)
                        batchIndex += 1
                        let sentAt = ContinuousClock.now
                        let outcome = await export(payload)
                        tallies.latency.record(ContinuousClock.now - sentAt)
                        tallies.requests += 1
                        tallies.sentItems += configuration.batchSize
                        switch outcome {
                        case .accepted(let rejected):
                            tallies.acceptedItems += configuration.batchSize - rejected
                            tallies.rejectedItems += rejected
                        case .refused(let status):
                            tallies.refusedItems += configuration.batchSize
                            tallies.refusals[status, default: 0] += 1
                        case .failed(let reason):
                            tallies.failedItems += configuration.batchSize
                            tallies.failures[String(reason.prefix(120)), default: 0] += 1
                        }
                    }
                    return tallies
                }
            }
            var total = Tallies()
            for await tallies in group { total.merge(tallies) }
            return total
        }
    }

    private func makePayload(_ factory: inout OTLPPayloadFactory, batchIndex: Int, worker: Int) -> OTLPExportPayload {
        switch configuration.signal {
        case .traces:
            return .traces(
                factory.traces(
                    spanCount: configuration.batchSize,
                    attributesPerSpan: configuration.attributesPerSpan,
                    spansPerTrace: configuration.spansPerTrace
                )
            )
        case .metrics:
            let first = (batchIndex * configuration.batchSize * max(1, configuration.workers) + worker * configuration.batchSize)
            return .metrics(
                factory.metrics(
                    seriesCount: configuration.batchSize,
                    firstSeries: first,
                    seriesModulo: max(1, configuration.seriesCount)
                )
            )
        case .logs:
            return .logs(factory.logs(count: configuration.batchSize))
        }
    }

    static func hostAndPort(_ endpoint: String) throws -> (String, Int) {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]) else {
            throw GenerateError(message: "--endpoint \(endpoint) is not HOST:PORT (for example 127.0.0.1:4317)")
        }
        var host = String(endpoint[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}

/// A generator setting that cannot work; the message names it.
package struct GenerateError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}

/// What `otelbench generate` sent and what the receiver made of it (`--summary-json`, schema `otelbench.generate/v1`).
package struct GenerateReport: Codable, Sendable {
    package var schema = "otelbench.generate/v1"
    package var signal: String
    package var transport: String
    package var endpoint: String
    package var targetRate: Double
    package var durationSeconds: Double
    package var requests: Int
    package var sentItems: Int
    /// Items the receiver kept.
    package var acceptedItems: Int
    /// Items refused as partial success.
    package var rejectedItems: Int
    /// Items in requests refused whole, by status.
    package var refusedItems: Int
    /// Items in requests that got no answer.
    package var failedItems: Int
    package var refusalsByStatus: [String: Int]
    package var failuresByReason: [String: Int]
    /// Schedule slots the workers could not use because earlier calls were still running.
    package var missedSlots: Int
    package var achievedItemsPerSecond: Double
    package var exportLatency: LatencySummary

    init(configuration: OTLPLoadGenerator.Configuration, tallies: OTLPLoadGenerator.Tallies, elapsed: Duration) {
        let seconds = elapsed.inSeconds
        signal = configuration.signal.rawValue
        transport = configuration.transport.rawValue
        endpoint = configuration.endpoint
        targetRate = configuration.rate
        durationSeconds = seconds
        requests = tallies.requests
        sentItems = tallies.sentItems
        acceptedItems = tallies.acceptedItems
        rejectedItems = tallies.rejectedItems
        refusedItems = tallies.refusedItems
        failedItems = tallies.failedItems
        refusalsByStatus = tallies.refusals
        failuresByReason = tallies.failures
        missedSlots = tallies.missedSlots
        achievedItemsPerSecond = seconds > 0 ? Double(tallies.sentItems) / seconds : 0
        exportLatency = tallies.latency.summary
    }

    /// The report as people read it.
    package var text: String {
        var lines = [
            "sent \(sentItems) \(Signal(rawValue: signal)?.itemName ?? "items") in \(requests) requests over \(transport) to \(endpoint) in "
                + String(
                    format: "%.1f s (%.0f/s, target %@)",
                    durationSeconds,
                    achievedItemsPerSecond,
                    targetRate > 0 ? String(format: "%.0f/s", targetRate) : "unlimited"
                ),
            "acknowledged: \(acceptedItems) accepted, \(rejectedItems) rejected (partial success), \(refusedItems) in refused requests, \(failedItems) unanswered",
            String(
                format: "export latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f",
                exportLatency.p50,
                exportLatency.p90,
                exportLatency.p99,
                exportLatency.p999,
                exportLatency.max
            ),
        ]
        if missedSlots > 0 { lines.append("missed schedule slots: \(missedSlots) (the workers could not keep the rate; add --workers)") }
        for (status, count) in refusalsByStatus.sorted(by: { $0.key < $1.key }) { lines.append("refused: \(status) x\(count)") }
        for (reason, count) in failuresByReason.sorted(by: { $0.key < $1.key }) { lines.append("failed: \(reason) x\(count)") }
        return lines.joined(separator: "\n")
    }
}
