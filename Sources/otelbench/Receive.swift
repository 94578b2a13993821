import ArgumentParser
import Foundation
import Harness
import Intake
import Logging
package import Scenario
import ServiceLifecycle
import Telemetry

/// `otelbench receive`: listen for OTLP, show what arrives, summarize it at the end.
struct Receive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Receive OTLP (gRPC and HTTP; traces, metrics, logs), and Jaeger and Prometheus when asked, and summarize what arrived.",
        discussion: """
            Runs until SIGINT/SIGTERM or --duration, then prints a summary: spans, traces, services, \
            metric series and data points by metric, log records, and per protocol the requests and items \
            accepted and rejected. Port 0 picks a free port; the chosen addresses are printed at start.
            """
    )

    @Option(name: .customLong("otlp-grpc"), help: ArgumentHelp("Address for OTLP/gRPC.", valueName: "host:port"))
    var otlpGRPC = ListenAddress(host: "127.0.0.1", port: 4317)

    @Option(name: .customLong("otlp-http"), help: ArgumentHelp("Address for OTLP/HTTP.", valueName: "host:port"))
    var otlpHTTP = ListenAddress(host: "127.0.0.1", port: 4318)

    @Option(
        name: .customLong("jaeger-grpc"),
        help: ArgumentHelp("Also accept Jaeger api_v2 gRPC PostSpans here (usually 127.0.0.1:14250).", valueName: "host:port")
    )
    var jaegerGRPC: ListenAddress?

    @Option(
        name: .customLong("jaeger-thrift"),
        help: ArgumentHelp("Also accept Jaeger Thrift over HTTP (POST /api/traces) here (usually 127.0.0.1:14268).", valueName: "host:port")
    )
    var jaegerThrift: ListenAddress?

    @Option(
        name: .customLong("jaeger-query"),
        help: ArgumentHelp("Serve Jaeger's query API over every received trace here (usually 127.0.0.1:16686).", valueName: "host:port")
    )
    var jaegerQuery: ListenAddress?

    @Option(help: ArgumentHelp("Also accept Prometheus remote write (POST /api/v1/write) here (usually 127.0.0.1:9090).", valueName: "host:port"))
    var prometheus: ListenAddress?

    @Option(
        help: ArgumentHelp(
            "Expose the metrics received over OTLP for Prometheus to scrape (GET /metrics) here (usually 127.0.0.1:9464).",
            valueName: "host:port"
        )
    )
    var exposition: ListenAddress?

    @Option(help: ArgumentHelp("Also accept log documents over Elasticsearch's _bulk and _doc APIs here (usually 127.0.0.1:9200).", valueName: "host:port"))
    var elasticsearch: ListenAddress?

    @Option(help: ArgumentHelp("Largest request accepted, after decompression (e.g. 64MiB).", valueName: "size"))
    var maxRequestBytes = ByteSize(bytes: 64 << 20)

    @Option(
        help: ArgumentHelp(
            "Refuse (retryably) once what is retained and in flight would pass this; the oldest traces and log records are evicted first.",
            valueName: "size"
        )
    )
    var memoryLimit = ByteSize(bytes: 1 << 30)

    @Option(help: ArgumentHelp("Traces kept for the query APIs (the oldest leave first); everything is still counted.", valueName: "count"))
    var maxTraces = 10_000

    @Option(help: ArgumentHelp("Stop after this long (e.g. 30s, 5m) instead of waiting for a signal.", valueName: "duration"))
    var duration: DurationArgument?

    @Option(help: ArgumentHelp("Write the summary as JSON to this file.", valueName: "file"))
    var summaryJSON: String?

    @Option(help: ArgumentHelp("Record every request received to this file (with --record-format proto: FILE.traces.binpb and so on).", valueName: "file"))
    var record: String?

    @OptionGroup var recording: RecordOptions

    @OptionGroup(title: "TLS and token") var security: ListenerSecurityOptions

    @OptionGroup(title: "Connections") var connections: ConnectionOptions

    @Flag(help: "No live progress line.")
    var quiet = false

    @OptionGroup var log: LogOptions

    func validate() throws {
        guard maxRequestBytes.bytes > 0 else { throw ValidationError("--max-request-bytes must be > 0 (got \(maxRequestBytes))") }
        guard maxTraces >= 0 else { throw ValidationError("--max-traces must be 0 or more (got \(maxTraces))") }
    }

    func run() async throws {
        let logger = log.logger(label: "otelbench")
        var security = try security.load()
        security.connections = connections.limits

        let store = TelemetryStore(limits: .init(maxRetainedBytes: memoryLimit.bytes, maxTraces: maxTraces))
        let recorder: RecordingWriter?
        do {
            recorder = try record.map { try RecordingWriter(path: $0, format: recording.recordFormat, compression: recording.recordCompression) }
        } catch {
            throw UsageError("\(error)")
        }
        let intake = IntakeServers(
            otlpGRPC: otlpGRPC,
            otlpHTTP: otlpHTTP,
            sinks: sinkAddresses,
            maxRequestBytes: maxRequestBytes.bytes,
            security: security,
            store: store,
            recorder: recorder,
            logger: logger
        )
        if !self.security.insecure, let (listener, address) = intake.unprotectedBeyondLoopback.first {
            switch listener {
            case .otlpGRPC: throw ListenerSecurityOptions.unprotected("--otlp-grpc", address)
            case .otlpHTTP: throw ListenerSecurityOptions.unprotected("--otlp-http", address)
            case .sink(let kind): throw ListenerSecurityOptions.unprotected(kind.flag, address)
            }
        }
        if let tls = security.tls, tls.notValidAfter < Date() {
            Terminal.err("warning: --tls-cert \(tls.files.certificate) expired on \(tls.notValidAfter): clients will refuse it")
        }
        let group = ServiceGroup(configuration: .init(services: intake.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))

        try await withThrowingTaskGroup(of: Finished.self) { tasks in
            tasks.addTask {
                try await group.run()
                return .serviceGroup
            }
            let endpoints: IntakeServers.Endpoints
            do throws(IntakeServers.ListenFailure) {
                endpoints = try await intake.listening()
            } catch {
                await group.triggerGracefulShutdown()
                switch error.listener {
                case .otlpGRPC, .otlpHTTP:
                    throw UsageError("cannot listen: \(error). Choose other addresses with --otlp-grpc and --otlp-http (port 0 picks a free one).")
                case .sink(let kind):
                    throw UsageError("cannot listen for \(kind.flag): \(error). Choose another address with \(kind.flag) (port 0 picks a free one).")
                }
            }
            let scheme = security.tls == nil ? "http" : "https"
            let protection = [
                security.tls.map { _ in "TLS" }, security.tls?.files.clientCA.map { _ in "client certificates" }, security.token.map { _ in "bearer token" },
            ]
            .compactMap { $0 }
            Terminal.out("OTLP/gRPC listening on \(endpoints.grpc)\(protection.isEmpty ? "" : " (\(protection.joined(separator: ", ")))")")
            Terminal.out("OTLP/HTTP listening on \(scheme)://\(endpoints.http) (POST /v1/traces, /v1/metrics, /v1/logs)")
            for sink in endpoints.sinks {
                let line = sink.kind.announcement(sink.address)
                Terminal.out(security.tls == nil ? line : line.replacingOccurrences(of: "http://", with: "https://"))
            }
            if let duration {
                tasks.addTask {
                    try? await Task.sleep(for: duration.duration)
                    await group.triggerGracefulShutdown()
                    return .helper
                }
            }
            if !quiet {
                tasks.addTask {
                    await ProgressLine.run(store: store)
                    return .helper
                }
            }
            // The service group ends after a signal or the duration (graceful shutdown drains the servers);
            // only then are the helpers stopped.
            while let finished = try await tasks.next() {
                if finished == .serviceGroup { break }
            }
            tasks.cancelAll()
        }

        Terminal.clearProgress(enabled: !quiet)
        if let recorder {
            try recorder.close()
            Terminal.out("recorded \(recorder.requestCount) requests to \(recorder.paths.isEmpty ? recorder.path : recorder.paths.joined(separator: ", "))")
        }
        let summary = IntakeSummary(store: store)
        Terminal.out(summary.text)
        if let summaryJSON {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                try encoder.encode(summary).write(to: URL(fileURLWithPath: summaryJSON))
            } catch {
                throw UsageError("cannot write --summary-json \(summaryJSON): \(error)")
            }
        }
    }
}

extension Receive {
    /// The sinks whose flags were given, by kind.
    fileprivate var sinkAddresses: [SinkKind: ListenAddress] {
        let given: [(SinkKind, ListenAddress?)] = [
            (.jaegerGRPC, jaegerGRPC), (.jaegerThrift, jaegerThrift), (.jaegerQuery, jaegerQuery),
            (.prometheus, prometheus), (.exposition, exposition), (.elasticsearch, elasticsearch),
        ]
        return Dictionary(uniqueKeysWithValues: given.compactMap { kind, address in address.map { (kind, $0) } })
    }
}

private enum Finished: Sendable {
    case serviceGroup
    case helper
}

/// An error in what the user asked for: printed as is, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The live line of counts while receiving: redrawn in place on a terminal, a plain line every 10 s otherwise.
enum ProgressLine {
    static func run(store: TelemetryStore) async {
        let interactive = Terminal.isInteractive
        var ticks = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { break }
            ticks += 1
            let totals = store.totals
            let line =
                "spans \(totals.spans) (traces \(totals.traces)) | series \(totals.series) points \(totals.dataPoints) | "
                + "logs \(totals.logRecords) | rejected requests \(totals.rejectedRequests) items \(totals.rejectedItems)"
            if interactive {
                Terminal.progress(line)
            } else if ticks % 10 == 0 {
                Terminal.err(line)
            }
        }
    }
}
