import AsyncHTTPClient
package import Checks
package import Foundation
package import Scenario
import Subprocess
import Synchronization
import SystemPackage

/// The user's own services of a run (`services.processes`), as processes: started with the OpenTelemetry SDK
/// environment pointing at this run's intake, waited for until ready, driven, then stopped with their signal and a
/// grace period (when SDKs flush) before SIGKILL. Each writes its standard output and error to the report folder.
///
/// Spawned with swift-subprocess, which starts each child with default signal handling and an empty signal mask
/// (a child spawned from one of this process's threads would otherwise inherit that thread's blocked signals and
/// never see its stop signal), and runs it inside a closure that waits for the run to stop it.
package final class RunningProcesses: Sendable {
    /// One started process.
    final class Child: Sendable {
        let spec: ProcessUnderTest
        /// Its own port (`${PORT}`).
        let port: Int
        /// The services it serves besides its own name (`${PORT:NAME}`), and their ports.
        let servedPorts: [(service: String, port: Int)]
        let logs: (stdout: String, stderr: String)
        let startedAt = ContinuousClock.now
        let state = Mutex(ChildState())
        /// Yields once when the run stops the process.
        let stopRequests = AsyncStream.makeStream(of: Void.self)
        /// The supervising task: it ends when the process has ended.
        let supervisor = Mutex<Task<Void, Never>?>(nil)

        init(spec: ProcessUnderTest, port: Int, servedPorts: [(service: String, port: Int)], logs: (String, String)) {
            self.spec = spec
            self.port = port
            self.servedPorts = servedPorts
            self.logs = logs
        }

        /// The ports its readiness is checked on: every service it serves (its own port only when it uses
        /// `${PORT}` or serves no named port).
        var readinessPorts: [Int] {
            (spec.usesOwnPort || servedPorts.isEmpty ? [port] : []) + servedPorts.map(\.port)
        }

        /// How it ended, if it has (looked at without reaping it, which swift-subprocess does).
        var exited: String? {
            guard let pid = state.withLock({ $0.pid }) else { return state.withLock { $0.ended } }
            var info = siginfo_t()
            guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0, info._sifields._sigchld.si_pid == pid else { return nil }
            let status = info._sifields._sigchld.si_status
            return info.si_code == Int32(CLD_EXITED) ? "exit \(status)" : "signal \(status)"
        }
    }

    struct ChildState {
        var pid: pid_t?
        var readyAfter: Duration?
        var notReady: String?
        /// How it ended, once it did: `exit 1` or `signal 9`.
        var ended: String?
        var endedBeforeStop: (how: String, after: Duration)?
        var launchFailure: String?
        var killed = false
    }

    let children: [Child]
    /// Samples every child's CPU and memory while ``measuring(_:)`` runs.
    let sampler: ProcessResourceSampler

    private init(children: [Child], sampler: ProcessResourceSampler) {
        self.children = children
        self.sampler = sampler
    }

    /// Base URL per process name and per service a process serves (`${PORT:NAME}`), for the workload's `service:`.
    package var targets: [String: String] {
        var targets: [String: String] = [:]
        for child in children {
            targets[child.spec.name] = "http://127.0.0.1:\(child.port)"
            for served in child.servedPorts { targets[served.service] = "http://127.0.0.1:\(served.port)" }
        }
        return targets
    }

    /// Starts every process with its environment, its port and its log files under `reportDirectory/processes`.
    ///
    /// - Parameters:
    ///   - endpoint: where their SDKs export: the OTLP/gRPC and OTLP/HTTP receivers' addresses.
    ///   - scenarioDirectory: where a process without `directory:` runs.
    ///   - sampler: samples their CPU and memory (from spawn) while ``measuring(_:)`` runs.
    package static func start(
        _ specs: [ProcessUnderTest],
        grpc: ListenAddress,
        http: ListenAddress,
        scenarioName: String,
        scenarioDirectory: String,
        reportDirectory: String,
        sampler: ProcessResourceSampler = ProcessResourceSampler()
    ) async throws(HarnessError) -> RunningProcesses {
        let folder = URL(fileURLWithPath: reportDirectory).appendingPathComponent("processes")
        var children: [Child] = []
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw HarnessError(code: .cannotWriteReports, message: "cannot create \(folder.path): \(error)", cause: error)
        }
        // Every port first: a process may name another's (`${PORT:NAME}`), whichever starts first.
        var ports: [String: Int] = [:]
        for name in specs.map(\.name) + specs.flatMap(\.namedPorts) where ports[name] == nil {
            do { ports[name] = try freePort(avoiding: Set(ports.values)) } catch {
                throw HarnessError(code: .cannotListen, message: "no free port for \(name) (services.processes): \(error)")
            }
        }
        let servedServices = ProcessUnderTest.servedServices(of: specs)
        for spec in specs {
            let port = ports[spec.name]!
            let served = (servedServices[spec.name] ?? []).map { (service: $0, port: ports[$0]!) }
            let directory = spec.directory ?? scenarioDirectory
            let substitute = { (text: String) in
                var text = text.replacingOccurrences(of: "${PORT}", with: String(port))
                for name in spec.namedPorts { text = text.replacingOccurrences(of: "${PORT:\(name)}", with: String(ports[name]!)) }
                return text
            }
            let environment = Self.environment(for: spec, port: port, grpc: grpc, http: http, scenarioName: scenarioName, substitute: substitute)
            guard let executable = ProcessUnderTest.resolveExecutable(spec.command[0], in: directory, environment: environment) else {
                throw HarnessError(code: .invalidScenario, message: "services.processes \(spec.name): command '\(spec.command[0])' is not an executable file")
            }
            let logs = (folder.appendingPathComponent("\(spec.name).stdout.log").path, folder.appendingPathComponent("\(spec.name).stderr.log").path)
            let files: (FileDescriptor, FileDescriptor)
            do {
                files = (
                    try FileDescriptor.open(
                        FilePath(logs.0),
                        .writeOnly,
                        options: [.create, .truncate],
                        permissions: [.ownerReadWrite, .groupRead, .otherRead]
                    ),
                    try FileDescriptor.open(
                        FilePath(logs.1),
                        .writeOnly,
                        options: [.create, .truncate],
                        permissions: [.ownerReadWrite, .groupRead, .otherRead]
                    )
                )
            } catch {
                throw HarnessError(
                    code: .cannotWriteReports,
                    message: "cannot write the logs of process \(spec.name) to \(folder.path): \(error)",
                    cause: error
                )
            }
            let child = Child(spec: spec, port: port, servedPorts: served, logs: logs)
            let arguments = Arguments(spec.command.dropFirst().map(substitute))
            let variables = Dictionary(uniqueKeysWithValues: environment.compactMap { key, value in Environment.Key(rawValue: key).map { ($0, value) } })
            let started = AsyncStream.makeStream(of: Bool.self)
            let task = Task {
                do {
                    let result = try await Subprocess.run(
                        .path(FilePath(executable)),
                        arguments: arguments,
                        environment: .custom(variables),
                        workingDirectory: FilePath(directory),
                        input: .none,
                        output: .fileDescriptor(files.0, closeAfterSpawningProcess: true),
                        error: .fileDescriptor(files.1, closeAfterSpawningProcess: true)
                    ) { execution in
                        child.state.withLock { $0.pid = execution.processIdentifier.value }
                        started.continuation.yield(true)
                        for await _ in child.stopRequests.stream { break }
                        let signal = Subprocess.Signal(rawValue: ProcessUnderTest.stopSignals[child.spec.stopSignal] ?? SIGTERM)
                        await execution.teardown(using: [.send(signal: signal, allowedDurationToNextStep: child.spec.stopGrace)])
                    }
                    let how =
                        switch result.terminationStatus {
                        case .exited(let code): "exit \(code)"
                        case .signaled(let signal): "signal \(signal)"
                        }
                    child.state.withLock { state in
                        state.ended = how
                        if how == "signal 9", state.endedBeforeStop == nil, child.spec.stopSignal != "KILL" { state.killed = true }
                    }
                } catch {
                    child.state.withLock { $0.launchFailure = "\(error)" }
                    started.continuation.yield(false)
                }
            }
            child.supervisor.withLock { $0 = task }
            var iterator = started.stream.makeAsyncIterator()
            guard await iterator.next() == true else {
                for running in children + [child] { running.stopRequests.continuation.yield() }
                let failure = child.state.withLock { $0.launchFailure } ?? "unknown"
                throw HarnessError(code: .invalidScenario, message: "services.processes \(spec.name): cannot start \(executable): \(failure)")
            }
            if let pid = child.state.withLock({ $0.pid }) { sampler.track(name: spec.name, pid: pid, startedAt: child.startedAt) }
            children.append(child)
        }
        return RunningProcesses(children: children, sampler: sampler)
    }

    /// Runs `body` (waiting for the processes, driving them, stopping them) while their CPU and memory are
    /// sampled once a second; sampling ends with `body`, by when every process has ended.
    package func measuring<Result: Sendable>(_ body: () async -> Result) async -> Result {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sampler.run() }
            defer { group.cancelAll() }
            return await body()
        }
    }

    /// The CPU and memory each process used, by name, as sampled during ``measuring(_:)``.
    package var resourceUsage: [String: ProcessResourceUsage] { sampler.usage }

    /// The environment of one process: the run's own, the OpenTelemetry SDK's variables pointing at this run's
    /// intake, `PORT`, then the scenario's `env` (which wins; `${PORT}` in it is the port).
    static func environment(
        for spec: ProcessUnderTest,
        port: Int,
        grpc: ListenAddress,
        http: ListenAddress,
        scenarioName: String,
        substitute: (String) -> String
    ) -> [String: String] {
        func local(_ address: ListenAddress) -> String {
            let host = address.host == "0.0.0.0" || address.host == "::" ? "127.0.0.1" : address.host
            return "http://\(host.contains(":") ? "[\(host)]" : host):\(address.port)"
        }
        var environment = ProcessInfo.processInfo.environment
        environment.merge(
            [
                "OTEL_EXPORTER_OTLP_ENDPOINT": spec.otlpProtocol == .grpc ? local(grpc) : local(http),
                "OTEL_EXPORTER_OTLP_PROTOCOL": spec.otlpProtocol == .grpc ? "grpc" : "http/protobuf",
                "OTEL_SERVICE_NAME": spec.name,
                "OTEL_RESOURCE_ATTRIBUTES": "service.namespace=otelbench,otelbench.scenario=\(scenarioName)",
                "OTEL_METRIC_EXPORT_INTERVAL": "1000",
                "OTEL_BSP_SCHEDULE_DELAY": "200",
                "OTEL_TRACES_SAMPLER": "parentbased_always_on",
                "OTEL_PROPAGATORS": "tracecontext,baggage",
                "PORT": String(port),
            ]
        ) { $1 }
        for (key, value) in spec.environment { environment[key] = substitute(value) }
        return environment
    }

    /// Waits until every process is ready (or exited, or ran past its timeout, or the run was interrupted);
    /// returns whether all are.
    package func waitUntilReady(interruption: RunInterruption, progress: (String) -> Void) async -> Bool {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { Task { try? await client.shutdown() } }
        return await withTaskGroup(of: Bool.self) { group in
            for child in children {
                group.addTask {
                    let deadline = child.startedAt + child.spec.readyTimeout
                    while ContinuousClock.now < deadline {
                        if let how = child.exited {
                            let after = ContinuousClock.now - child.startedAt
                            child.state.withLock { $0.notReady = "it ended (\(how)) after \(Self.seconds(after)) before it was ready" }
                            return false
                        }
                        if interruption.isInterrupted { return false }
                        if await Self.isReady(child, client: client) {
                            child.state.withLock { $0.readyAfter = ContinuousClock.now - child.startedAt }
                            return true
                        }
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                    let ports = child.readinessPorts.map(String.init).joined(separator: ", ")
                    let check =
                        switch child.spec.readiness {
                        case .http(let path): "GET \(path) did not answer 2xx" + (child.readinessPorts.count > 1 ? " on every port (\(ports))" : "")
                        case .tcp: "port \(ports) did not accept a connection"
                        }
                    child.state.withLock { $0.notReady = "not ready within \(child.spec.readyTimeout): \(check)" }
                    return false
                }
            }
            var all = true
            for await ready in group { all = all && ready }
            for child in children {
                let state = child.state.withLock { $0 }
                if let after = state.readyAfter {
                    let ports = child.readinessPorts.map(String.init).joined(separator: ", ")
                    progress("process \(child.spec.name): ready in \(Self.seconds(after)) on port \(ports) (pid \(state.pid ?? 0))")
                } else if let problem = state.notReady {
                    progress("process \(child.spec.name): \(problem); see \(child.logs.stderr)")
                }
            }
            return all
        }
    }

    private static func isReady(_ child: Child, client: HTTPClient) async -> Bool {
        for port in child.readinessPorts {
            switch child.spec.readiness {
            case .http(let path):
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                request.method = .GET
                guard let response = try? await client.execute(request, timeout: .seconds(1)) else { return false }
                _ = try? await response.body.collect(upTo: 1 << 20)
                guard (200..<300).contains(Int(response.status.code)) else { return false }
            case .tcp:
                guard canConnect(port: port) else { return false }
            }
        }
        return true
    }

    /// Stops every process still running: its stop signal, then up to its grace period (when its SDK flushes),
    /// then SIGKILL; returns when all have ended.
    package func stop() async {
        for child in children {
            if let how = child.exited {
                child.state.withLock { $0.endedBeforeStop = (how, ContinuousClock.now - child.startedAt) }
            }
            child.stopRequests.continuation.yield()
        }
        for child in children { await child.supervisor.withLock({ $0 })?.value }
    }

    /// One rule per process: it became ready and ran until it was stopped. The evidence of a failure gives how it
    /// ended and the last lines of its logs.
    package var rules: [RuleResult] {
        children.map { child in
            let state = child.state.withLock { $0 }
            let name = "process \(child.spec.name) was ready and ran until stopped"
            let expected = "ready, then running until the run stopped it with SIG\(child.spec.stopSignal)"
            var problem: String?
            if let notReady = state.notReady {
                problem = notReady
            } else if let ended = state.endedBeforeStop {
                problem = "it ended on its own (\(ended.how)) within \(Self.seconds(ended.after)), before the run stopped it"
            }
            guard let problem else {
                let ready = state.readyAfter.map { "ready in \(Self.seconds($0))" } ?? "ready"
                let stopped =
                    state.killed
                    ? "; did not stop within \(child.spec.stopGrace) of SIG\(child.spec.stopSignal) and was killed"
                    : state.ended.map { "; stopped (\($0))" } ?? ""
                return RuleResult(
                    kind: .processes,
                    name: name,
                    verdict: .pass,
                    measured: ready + stopped,
                    expected: expected,
                    subjects: [.process(name: child.spec.name)]
                )
            }
            return RuleResult(
                kind: .processes,
                name: name,
                verdict: .fail,
                measured: problem,
                expected: expected,
                evidence: [problem] + Self.lastLines(of: child.logs.stderr, "stderr") + Self.lastLines(of: child.logs.stdout, "stdout"),
                subjects: [.process(name: child.spec.name)]
            )
        }
    }

    /// The last lines of a log, each prefixed with the stream's name.
    static func lastLines(of path: String, _ stream: String, count: Int = 10) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(count).map { "\(stream): \($0)" }
    }

    static func seconds(_ duration: Duration) -> String { String(format: "%.1f s", duration.inSeconds) }
}

/// A loopback port free a moment ago, for a process to listen on (`${PORT}`).
private func freePort(avoiding taken: Set<Int> = []) throws -> Int {
    // The kernel may hand out a port again once the probe closes: ask again (boundedly) for one not yet given.
    for _ in 0..<64 {
        let port = try probeFreePort()
        if !taken.contains(port) { return port }
    }
    throw POSIXError(.EADDRINUSE)
}

private func probeFreePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts a TCP connection on loopback `port` now.
private func canConnect(port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
