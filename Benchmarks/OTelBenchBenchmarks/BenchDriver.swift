import ArgumentParser
import Foundation
import Intake
import Logging
import Scenario
import ServiceLifecycle
import Telemetry
import Workload

/// Requests per second the workload driver sustains against endpoints that live in neither tool's process (the
/// built-in services started standalone, and Debian's nginx serving a small file), next to wrk against the
/// same endpoint in the same run; the driver's open-loop accuracy against nginx; and `generate`'s spans/s.
struct BenchDriver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driver",
        abstract: "Requests/s of the workload driver vs. wrk on two outside endpoints; open-loop accuracy; generate's spans/s.",
        discussion: """
            Two endpoints, each in a process of its own: (1) `otelbench services` (the release binary next to this \
            one) on free ports, exporting OTLP/gRPC to an `otelbench receive` child, target the tasks service's \
            /health/live; (2) Debian's nginx (--nginx-workers worker processes) serving a --nginx-bytes file. \
            Against each: wrk (closed loop, -t2 -c--connections) and then the driver (closed loop, --connections \
            users with no think time and --connections connections, latency recorded from the intended send \
            time) for --seconds each: requests/s, the ratio driver/wrk, the driver's p50/p99, and each client's \
            CPU per request (getrusage: wrk as a reaped child, the driver as this process). Then the driver in \
            open loop (constant arrival rate, --open-connections connections) against nginx at each --rates: the \
            achieved rate against the target, scheduled/sent/dropped slots, and the scheduling error (how late \
            sends left their intended time: p50/p99/max). Last, unless --skip-generate, `generate` (gRPC, 4 \
            workers, 512-span batches, unlimited rate) into an intake in this process. Every process shares this \
            machine's cores. Needs wrk and nginx (Debian: apt-get install wrk nginx).
            """
    )

    @Option(help: "Seconds per measurement.") var seconds = 10
    @Option(help: "Connections (wrk) and users and connections (driver) in the closed loop.") var connections = 32
    @Option(help: "Open-loop target rates in requests/s, comma-separated.") var rates = "5000,10000,20000"
    @Option(help: "Connections of the driver in open loop.") var openConnections = 64
    @Option(help: "nginx worker processes.") var nginxWorkers = 1
    @Option(help: "Size of the file nginx serves, in bytes.") var nginxBytes = 100
    @Flag(help: "Skip the `generate` measurement.") var skipGenerate = false

    func validate() throws {
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be 1...600 (got \(seconds))") }
        guard (1...1024).contains(connections) else { throw ValidationError("--connections must be 1...1024 (got \(connections))") }
        guard (1...4096).contains(openConnections) else { throw ValidationError("--open-connections must be 1...4096 (got \(openConnections))") }
        guard (1...16).contains(nginxWorkers) else { throw ValidationError("--nginx-workers must be 1...16 (got \(nginxWorkers))") }
        guard (0...1 << 20).contains(nginxBytes) else { throw ValidationError("--nginx-bytes must be 0...1048576 (got \(nginxBytes))") }
        _ = try targetRates()
    }

    /// --rates as numbers.
    func targetRates() throws -> [Double] {
        let parsed = rates.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 1_000_000 }) else {
            throw ValidationError("--rates must be comma-separated rates in (0, 1000000] requests/s (got \(rates))")
        }
        return parsed.compactMap { $0 }
    }

    func run() async throws {
        _ = try await measure()
    }

    /// One endpoint's closed-loop figures: wrk, then the driver with the same concurrency.
    struct EndpointFigures {
        var endpoint: String
        var wrk: WrkResult
        var wrkCPUMicrosecondsPerRequest: Double
        var driverRate: Double
        var driverCPUMicrosecondsPerRequest: Double
        var driverFailures: Int
        var p50: Double
        var p99: Double
        var ratio: Double { wrk.requestsPerSecond > 0 ? driverRate / wrk.requestsPerSecond : 0 }
    }

    /// One open-loop phase against nginx.
    struct OpenLoopFigures {
        var target: Double
        var achieved: Double
        var scheduled: Int
        var sent: Int
        var dropped: Int
        var failures: Int
        /// Send time minus intended time, ms.
        var lateness: LatencySummary?
        /// Latency from the intended send time, ms.
        var p50: Double
        var p99: Double
    }

    struct Figures {
        var endpoints: [EndpointFigures] = []
        var openLoop: [OpenLoopFigures] = []
        var generateSpansPerSecond: Double?
    }

    /// Runs every measurement, printing each as it ends; returns the figures.
    func measure() async throws -> Figures {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-bench-driver-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var figures = Figures()
        print("driver vs wrk: \(ProcessInfo.processInfo.activeProcessorCount) cores shared by the client, the endpoint and (services) the intake")

        // (1) The built-in services, standalone, exporting to a receiver of their own.
        let receive = try await BenchPeers.startReceive(summary: nil)
        do {
            let services = try await BenchPeers.startServices(otlpEndpoint: "http://127.0.0.1:\(receive.grpcPort)")
            do {
                let measured = try await closedLoop(
                    endpoint: "otelbench services /health/live",
                    base: services.tasks,
                    path: "/health/live",
                    folder: folder
                )
                figures.endpoints.append(measured)
            } catch {
                await services.child.stop()
                throw error
            }
            await services.child.stop()
        } catch {
            await receive.child.stop()
            throw error
        }
        await receive.child.stop()

        // (2) nginx: closed loop, then open loop at each rate.
        let nginx = try await BenchPeers.startNginx(in: folder, bytes: nginxBytes, workers: nginxWorkers)
        do {
            let base = String(nginx.url.dropLast("/file.txt".count))
            figures.endpoints.append(
                try await closedLoop(endpoint: "nginx \(nginxBytes)-byte file (\(nginxWorkers) worker)", base: base, path: "/file.txt", folder: folder)
            )
            for rate in try targetRates() {
                figures.openLoop.append(try await openLoop(rate: rate, base: base, path: "/file.txt"))
            }
        } catch {
            await nginx.child.stop()
            throw error
        }
        await nginx.child.stop()

        if !skipGenerate { figures.generateSpansPerSecond = try await generate() }
        return figures
    }

    /// wrk, then the driver, closed loop against `base + path`.
    private func closedLoop(endpoint: String, base: String, path: String, folder: URL) async throws -> EndpointFigures {
        let childrenBefore = Self.cpuSeconds(RUSAGE_CHILDREN)
        let wrk = try await WrkResult.run(url: base + path, connections: connections, seconds: seconds, folder: folder)
        let wrkCPU = Self.cpuSeconds(RUSAGE_CHILDREN) - childrenBefore
        guard wrk.requestsPerSecond > 0 else { throw BenchmarkError("wrk measured no requests against \(base + path)") }

        let workload = WorkloadSection(
            phases: [Phase(name: "closed", duration: .seconds(seconds), arrival: .closed(users: connections, thinkTime: .zero))],
            requests: [RequestTemplate(name: "get", service: "endpoint", path: path)],
            connections: connections
        )
        let selfBefore = BenchIntake.cpuSeconds()
        let report = try await WorkloadDriver(workload: workload, targets: ["endpoint": base]).run()
        let driverCPU = BenchIntake.cpuSeconds() - selfBefore
        let phase = report.phases[0]
        let rate = Double(phase.sentCount) / phase.elapsed.inSeconds
        let latency = phase.requests["get"]?.latency
        let failures = phase.requests.values.reduce(0) { $0 + $1.outcomes.filter { $0.key != RequestOutcome.ok.rawValue }.values.reduce(0, +) }
        let figures = EndpointFigures(
            endpoint: endpoint,
            wrk: wrk,
            wrkCPUMicrosecondsPerRequest: wrkCPU / (wrk.requestsPerSecond * Double(seconds)) * 1e6,
            driverRate: rate,
            driverCPUMicrosecondsPerRequest: phase.sentCount > 0 ? driverCPU / Double(phase.sentCount) * 1e6 : 0,
            driverFailures: failures,
            p50: latency?.p50 ?? 0,
            p99: latency?.p99 ?? 0
        )
        print(
            String(
                format: "%@: wrk (-t2 -c%d) %.0f requests/s (%.1f CPU-us/request, %d non-2xx, %d socket errors)",
                endpoint,
                connections,
                wrk.requestsPerSecond,
                figures.wrkCPUMicrosecondsPerRequest,
                wrk.non2xx,
                wrk.socketErrors
            )
        )
        print(
            String(
                format: "%@: driver (closed loop, %d users) %.0f requests/s (%.2fx wrk, %.1f CPU-us/request, %d failed), p50 %.2f ms, p99 %.2f ms",
                endpoint,
                connections,
                rate,
                figures.ratio,
                figures.driverCPUMicrosecondsPerRequest,
                failures,
                figures.p50,
                figures.p99
            )
        )
        return figures
    }

    /// The driver at a constant arrival rate against `base + path`.
    private func openLoop(rate: Double, base: String, path: String) async throws -> OpenLoopFigures {
        let workload = WorkloadSection(
            phases: [Phase(name: "open", duration: .seconds(seconds), arrival: .constant(rate: rate))],
            requests: [RequestTemplate(name: "get", service: "endpoint", path: path)],
            connections: openConnections
        )
        let report = try await WorkloadDriver(workload: workload, targets: ["endpoint": base]).run()
        let phase = report.phases[0]
        let latency = phase.requests["get"]?.latency
        let failures = phase.requests.values.reduce(0) { $0 + $1.outcomes.filter { $0.key != RequestOutcome.ok.rawValue }.values.reduce(0, +) }
        let figures = OpenLoopFigures(
            target: rate,
            achieved: phase.achievedRate,
            scheduled: phase.scheduled,
            sent: phase.sentCount,
            dropped: phase.droppedSlots,
            failures: failures,
            lateness: phase.sendLateness,
            p50: latency?.p50 ?? 0,
            p99: latency?.p99 ?? 0
        )
        let lateness =
            phase.sendLateness.map { String(format: "send lateness p50 %.3f ms, p99 %.3f ms, max %.1f ms", $0.p50, $0.p99, $0.max) }
            ?? "send lateness not reported"
        print(
            String(
                format:
                    "driver open loop against nginx, target %.0f/s (%d connections): achieved %.0f/s (%.3fx), %d scheduled, %d sent, %d dropped, %d failed; %@; latency p50 %.2f ms, p99 %.2f ms",
                rate,
                openConnections,
                figures.achieved,
                figures.achieved / rate,
                figures.scheduled,
                figures.sent,
                figures.dropped,
                failures,
                lateness,
                figures.p50,
                figures.p99
            )
        )
        return figures
    }

    /// `generate` (gRPC, 4 workers, 512-span batches, unlimited rate) into a gRPC receiver in this process.
    private func generate() async throws -> Double {
        var logger = Logger(label: "otelbench.bench")
        logger.logLevel = .error
        let store = TelemetryStore(limits: .init(maxRetainedBytes: nil))
        let grpc = OTLPGRPCReceiver(
            configuration: .init(address: ListenAddress(host: "127.0.0.1", port: 0)),
            ingestor: OTLPIngestor(store: store, logger: logger),
            logger: logger
        )
        let intake = ServiceGroup(services: [grpc], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await intake.run() }
            let grpcPort = try await grpc.boundAddress.value().port
            let generated = try await OTLPLoadGenerator(
                configuration: .init(
                    signal: .traces,
                    endpoint: "127.0.0.1:\(grpcPort)",
                    transport: .grpc,
                    rate: 0,
                    duration: .seconds(seconds),
                    workers: 4,
                    batchSize: 512
                )
            ).run()
            print(
                String(
                    format: "generate (gRPC, 4 workers, 512-span batches, into this process): %.0f spans/s sent, %d accepted, export p99 %.1f ms",
                    generated.achievedItemsPerSecond,
                    generated.acceptedItems,
                    generated.exportLatency.p99
                )
            )
            await intake.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return generated.achievedItemsPerSecond
        }
    }

    /// User + system CPU seconds of `who` (RUSAGE_SELF, or RUSAGE_CHILDREN: children that ended and were reaped).
    static func cpuSeconds(_ who: __rusage_who) -> Double {
        var usage = rusage()
        getrusage(who.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
