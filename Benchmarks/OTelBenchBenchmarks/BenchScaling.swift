import ArgumentParser
import Foundation
import SwiftProtobuf
import Telemetry
import Workload

/// The intake's spans/s and CPU per span as the receiver gets more cores and bigger batches: `otelbench receive`
/// as its own process, pinned with `taskset`, loaded by wrk (OTLP/HTTP) and h2load (OTLP/gRPC).
struct BenchScaling: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Intake spans/s and receiver CPU per span with the receiver pinned to 1..N cores, across batch sizes.",
        discussion: """
            For each --cores count K and each --batches size B: starts `otelbench receive` (the release binary next \
            to this one) pinned with `taskset -c` to CPUs 0..K-1, and sends one ExportTraceServiceRequest of B spans \
            (--attributes string attributes each) over and over for --seconds, from wrk (OTLP/HTTP, -t2 \
            -c--connections) and h2load (OTLP/gRPC, --connections connections x 4 streams). The senders run on \
            the CPUs the receiver does not have; when it has them all, they share its CPUs (the line says so) and \
            its spans/s is then bounded by the two together, while its CPU per span is still its own. Reports \
            spans/s stored (the receiver's --summary-json, after it stops), requests/s, and the receiver's CPU \
            per span and CPU % (/proc/PID/stat over the load). With --perf FOLDER, each load is also recorded \
            with `perf record -e cpu-clock` on the receiver (Debian: apt-get install linux-perf). Needs wrk, h2load.
            """
    )

    @Option(help: "Seconds of load per configuration.") var seconds = 10
    @Option(help: "Spans per request, comma-separated.") var batches = "1,64,512,4096"
    @Option(help: "Cores given to the receiver, comma-separated.") var cores = "1,2"
    @Option(help: "String attributes per span.") var attributes = 10
    @Option(help: "Concurrent connections of the load generators.") var connections = 8
    @Option(help: "Protocols: http, grpc or both, comma-separated.") var protocols = "http,grpc"
    @Option(help: "Record each load with perf (cpu-clock) into this folder.") var perf: String?

    func validate() throws {
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be 1...600 (got \(seconds))") }
        guard (0...1000).contains(attributes) else { throw ValidationError("--attributes must be 0...1000 (got \(attributes))") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be 1...256 (got \(connections))") }
        _ = try batchSizes()
        _ = try coreCounts()
        _ = try loadProtocols()
    }

    func batchSizes() throws -> [Int] {
        let sizes = batches.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ (1...100_000).contains($0 ?? 0) }) else {
            throw ValidationError("--batches must be comma-separated sizes in 1...100000 (got \(batches))")
        }
        return sizes.compactMap { $0 }
    }

    func coreCounts() throws -> [Int] {
        let available = ProcessInfo.processInfo.activeProcessorCount
        let counts = cores.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ (1...available).contains($0 ?? 0) }) else {
            throw ValidationError("--cores must be comma-separated counts in 1...\(available) (this machine's CPUs; got \(cores))")
        }
        return counts.compactMap { $0 }
    }

    func loadProtocols() throws -> [BenchIntake.LoadTarget] {
        let names = protocols.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let targets = names.compactMap { $0 == "http" ? BenchIntake.LoadTarget.http : $0 == "grpc" ? .grpc : nil }
        guard !targets.isEmpty, targets.count == names.count else {
            throw ValidationError("--protocols must be http, grpc or http,grpc (got \(protocols))")
        }
        return targets
    }

    /// One configuration's figures.
    struct Row {
        var cores: Int
        var batch: Int
        var target: BenchIntake.LoadTarget
        /// The senders had CPUs of their own (else they shared the receiver's).
        var sendersSeparate: Bool
        var spansPerSecond: Double
        var requestsPerSecond: Double
        var cpuMicrosecondsPerSpan: Double
        var cpuPercent: Double
        var rejectedRequests: Int
    }

    func run() async throws {
        _ = try await measure()
    }

    /// Every configuration, printed as a table row as it is measured.
    func measure() async throws -> [Row] {
        let wrk = try BenchIntake.tool("wrk", package: "wrk")
        let h2load = try BenchIntake.tool("h2load", package: "nghttp2-client")
        let perfTool = try perf.map { _ in try BenchIntake.tool("perf", package: "linux-perf") }
        if let perf { try FileManager.default.createDirectory(atPath: perf, withIntermediateDirectories: true) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-bench-scaling-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let available = ProcessInfo.processInfo.activeProcessorCount
        print("receiver: otelbench receive (release), pinned with taskset; \(available) CPUs; \(attributes) attributes per span; \(seconds) s per row")
        print("cores | senders          | batch | protocol           | spans/s   | requests/s | receiver CPU/span | receiver CPU | rejected")
        var rows: [Row] = []
        for batch in try batchSizes() {
            var factory = OTLPPayloadFactory(seed: 42)
            let body: [UInt8] = try factory.traces(spanCount: batch, attributesPerSpan: attributes).serializedBytes()
            try Data(body).write(to: folder.appendingPathComponent("body.bin"))
            let length = UInt32(body.count).bigEndian
            try Data([0] + withUnsafeBytes(of: length) { Array($0) } + body).write(to: folder.appendingPathComponent("body.grpc"))
            try Data(
                """
                wrk.method = "POST"
                wrk.headers["Content-Type"] = "application/x-protobuf"
                local f = io.open("\(folder.path)/body.bin", "rb"); wrk.body = f:read("*all"); f:close()
                """.utf8
            ).write(to: folder.appendingPathComponent("post.lua"))
            for coreCount in try coreCounts() {
                let receiverCPUs = (0..<coreCount).map(String.init).joined(separator: ",")
                let separate = coreCount < available
                let senderCPUs = separate ? (coreCount..<available).map(String.init).joined(separator: ",") : receiverCPUs
                for target in try loadProtocols() {
                    let row = try await measureOne(
                        target: target,
                        batch: batch,
                        cores: coreCount,
                        receiverCPUs: receiverCPUs,
                        senderCPUs: senderCPUs,
                        separate: separate,
                        folder: folder,
                        tools: (wrk, h2load, perfTool)
                    )
                    rows.append(row)
                    print(
                        String(
                            format: "%5d | %@ | %5d | %@ | %9.0f | %10.0f | %14.2f us | %10.0f %% | %d",
                            row.cores,
                            (separate ? "CPU \(senderCPUs) (own)" : "CPU \(senderCPUs) (shared)").padding(toLength: 16, withPad: " ", startingAt: 0),
                            row.batch,
                            target.name.padding(toLength: 18, withPad: " ", startingAt: 0),
                            row.spansPerSecond,
                            row.requestsPerSecond,
                            row.cpuMicrosecondsPerSpan,
                            row.cpuPercent,
                            row.rejectedRequests
                        )
                    )
                }
            }
        }
        return rows
    }

    private func measureOne(
        target: BenchIntake.LoadTarget,
        batch: Int,
        cores: Int,
        receiverCPUs: String,
        senderCPUs: String,
        separate: Bool,
        folder: URL,
        tools: (wrk: URL, h2load: URL, perf: URL?)
    ) async throws -> Row {
        let summary = folder.appendingPathComponent("summary.json")
        try? FileManager.default.removeItem(at: summary)
        let receive = try await BenchPeers.startReceive(summary: summary, cpus: receiverCPUs)
        var recorder: BenchChild?
        do {
            if let perfTool = tools.perf, let perf {
                let name = "receive-\(cores)core-\(batch)-\(target == .http ? "http" : "grpc").data"
                // perf stops when `sleep` (the load's length) ends.
                recorder = try BenchChild(
                    "perf record",
                    executable: perfTool,
                    arguments: [
                        "record", "-e", "cpu-clock", "-F", "999", "-g", "-p", "\(receive.child.process.processIdentifier)", "-o", "\(perf)/\(name)",
                        "--", "sleep", "\(seconds)",
                    ]
                )
            }
            let taskset = try BenchIntake.tool("taskset", package: "util-linux")
            let cpuBefore = receive.child.cpuSeconds
            let start = ContinuousClock.now
            switch target {
            case .http:
                try await BenchIntake.run(
                    taskset,
                    [
                        "-c", senderCPUs, tools.wrk.path, "-t2", "-c\(connections)", "-d\(seconds)s", "-s", folder.appendingPathComponent("post.lua").path,
                        "http://127.0.0.1:\(receive.httpPort)/v1/traces",
                    ],
                    output: FileHandle.nullDevice
                )
            case .grpc:
                try await BenchIntake.run(
                    taskset,
                    [
                        "-c", senderCPUs, tools.h2load.path, "-D", "\(seconds)", "-c", "\(connections)", "-m", "4", "-t", "2",
                        "-d", folder.appendingPathComponent("body.grpc").path, "-H", "content-type: application/grpc", "-H", "te: trailers",
                        "http://127.0.0.1:\(receive.grpcPort)/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                    ],
                    output: FileHandle.nullDevice
                )
            }
            let wall = (ContinuousClock.now - start).inSeconds
            let cpu = receive.child.cpuSeconds - cpuBefore
            if let recorder, await !recorder.waitForExit(timeout: .seconds(30)) {
                await recorder.stop()
                throw BenchmarkError("perf record did not finish within 30 s of the load; it printed:\n\(recorder.printed.suffix(2000))")
            }
            await receive.child.stop()
            guard let data = try? Data(contentsOf: summary),
                let document = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                let spans = document["spans"] as? Int
            else {
                throw BenchmarkError("otelbench receive wrote no readable --summary-json; it printed:\n\(receive.child.printed.suffix(2000))")
            }
            let channels = document["channels"] as? [[String: Any]] ?? []
            let accepted = channels.reduce(0) { $0 + ($1["requestsAccepted"] as? Int ?? 0) }
            let rejected = channels.reduce(0) { $0 + ($1["requestsRejected"] as? Int ?? 0) }
            return Row(
                cores: cores,
                batch: batch,
                target: target,
                sendersSeparate: separate,
                spansPerSecond: Double(spans) / wall,
                requestsPerSecond: Double(accepted) / wall,
                cpuMicrosecondsPerSpan: spans > 0 ? cpu / Double(spans) * 1e6 : 0,
                cpuPercent: cpu / wall * 100,
                rejectedRequests: rejected
            )
        } catch {
            if let recorder { await recorder.stop() }
            await receive.child.stop()
            throw error
        }
    }
}
