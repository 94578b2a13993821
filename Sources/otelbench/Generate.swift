import ArgumentParser
import Foundation
package import Scenario
import Telemetry
import Workload

/// `otelbench generate traces|metrics|logs`: OTLP load against any endpoint, counting acknowledgements.
struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send synthetic OTLP traces, metrics or logs to an endpoint and count what it acknowledges.",
        discussion: """
            Workers send batches on an open-loop schedule. Unlike telemetrygen, every answer is counted: items \
            accepted, rejected as partial success, in requests refused (by status) or unanswered, with export-call \
            latency percentiles.
            """
    )

    @Argument(help: "traces, metrics or logs.") var signal: Signal
    @Option(help: ArgumentHelp("Receiver address.", valueName: "host:port")) var endpoint = "127.0.0.1:4317"
    @Option(name: .customLong("protocol"), help: "grpc or http.") var transport: OTLPProtocol = .grpc
    @Option(help: "Items per second (spans, data points, log records); 0 = as fast as possible.") var rate: Double = 1000
    @Option(help: ArgumentHelp("How long to send (e.g. 10s, 2m).", valueName: "duration")) var duration = DurationArgument(argument: "10s")!
    @Option(help: "Concurrent workers.") var workers = 1
    @Option(help: "Items per export request.") var batchSize = 100
    @Flag(help: "Compress requests with gzip.") var gzip = false
    @Option(help: "Spans per trace.") var spansPerTrace = 8
    @Option(help: "String attributes per span.") var attributes = 10
    @Option(help: "Distinct metric series the data points cycle through.") var series = 100
    @Option(help: ArgumentHelp("How long one export call may take before it counts as unanswered.", valueName: "duration"))
    var timeout = DurationArgument(argument: "10s")!
    @Option(help: ArgumentHelp("Write the counts as JSON to this file.", valueName: "file")) var summaryJSON: String?

    func validate() throws {
        guard rate >= 0, rate.isFinite else { throw ValidationError("--rate must be >= 0 (got \(rate))") }
        guard (1...1024).contains(workers) else { throw ValidationError("--workers must be 1...1024 (got \(workers))") }
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1...100000 (got \(batchSize))") }
        guard spansPerTrace >= 1 else { throw ValidationError("--spans-per-trace must be >= 1 (got \(spansPerTrace))") }
        guard attributes >= 0 else { throw ValidationError("--attributes must be >= 0 (got \(attributes))") }
        guard series >= 1 else { throw ValidationError("--series must be >= 1 (got \(series))") }
        guard endpoint.contains(":") else { throw ValidationError("--endpoint must be HOST:PORT (got \(endpoint))") }
    }

    func run() async throws {
        let generator = OTLPLoadGenerator(
            configuration: .init(
                signal: signal,
                endpoint: endpoint,
                transport: transport,
                rate: rate,
                duration: duration.duration,
                workers: workers,
                batchSize: batchSize,
                gzip: gzip,
                spansPerTrace: spansPerTrace,
                attributesPerSpan: attributes,
                seriesCount: series,
                requestTimeout: timeout.duration
            )
        )
        let report: GenerateReport
        do {
            report = try await generator.run()
        } catch let error as GenerateError {
            throw UsageError(error.message)
        }
        Terminal.out(report.text)
        if let summaryJSON {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                try encoder.encode(report).write(to: URL(fileURLWithPath: summaryJSON))
            } catch {
                throw UsageError("cannot write --summary-json \(summaryJSON): \(error)")
            }
        }
    }
}
