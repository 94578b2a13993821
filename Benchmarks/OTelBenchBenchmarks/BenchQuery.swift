import ArgumentParser
import AsyncHTTPClient
import Foundation
import Intake
import Logging
import NIOCore
import OTelBenchProtos
import Query
import Scenario
import ServiceLifecycle
import Telemetry
import Workload

/// PromQL queries per second and latency from our query API against Debian's Prometheus 2.42, both
/// holding the same remote-written samples, same queries, same client, same run.
struct BenchQuery: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "PromQL queries/s and p50/p99 latency of otelbench's query API vs. Prometheus', same data and queries.",
        discussion: """
            Generates a cf_core-like dataset (--histograms label sets of rollback_duration_seconds with 10 buckets, \
            _sum and _count; phase_success_total and phase_failure_total counters; a queue-depth gauge), --samples \
            samples per series 15 s apart ending now, and remote-writes the same snappy WriteRequests to our \
            receiver (in this process) and to `prometheus --web.enable-remote-write-receiver` started on a \
            loopback port in a temporary folder. Each query is first asked once of both and the answers compared \
            (same series, values equal to 1e-9 relative); then, after --warm-up unmeasured requests, asked --requests times of each server, one at a \
            time and then from --concurrency concurrent clients (AsyncHTTPClient, keep-alive), each run capped \
            at --max-seconds. Reports queries/s, p50 and p99 latency (full answer read), and ours/Prometheus. \
            Needs prometheus (Debian package). Run on a release build.
            """
    )

    @Option(help: "Histogram label sets (operation x phase); each is 12 series.") var histograms = 200
    @Option(help: "Samples per series, 15 s apart, ending now.") var samples = 240
    @Option(help: "Requests per query, server and mode.") var requests = 50
    @Option(help: "Unmeasured requests per query, server and mode before the measured ones (warm caches, pools and GC pacing).")
    var warmUp = 20
    @Option(help: "Concurrent clients in the concurrent mode.") var concurrency = 4
    @Option(help: "Cap on the seconds one query, server and mode may take.") var maxSeconds = 20
    @Option(help: "Write the results as JSON to this file.") var json: String?
    @Option(help: "Measure only the queries whose name contains this text (for profiling one query); all by default.")
    var only: String?

    func validate() throws {
        guard (1...5_000).contains(histograms) else { throw ValidationError("--histograms must be 1...5000 (got \(histograms))") }
        guard (21...11_000).contains(samples) else { throw ValidationError("--samples must be 21...11000 (got \(samples))") }
        guard (1...100_000).contains(requests) else { throw ValidationError("--requests must be 1...100000 (got \(requests))") }
        guard (0...10_000).contains(warmUp) else { throw ValidationError("--warm-up must be 0...10000 (got \(warmUp))") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be 1...64 (got \(concurrency))") }
        guard (1...600).contains(maxSeconds) else { throw ValidationError("--max-seconds must be 1...600 (got \(maxSeconds))") }
    }

    /// One query's rates against both servers.
    struct QueryFigures {
        var name: String
        /// A `query_range` (else an instant query).
        var range: Bool
        var agree: Bool
        /// Clients (1 and --concurrency) → (ours, Prometheus') measurements.
        var byClients: [Int: (ours: Measurement, prometheus: Measurement)]
    }

    func run() async throws {
        _ = try await measure()
    }

    /// Loads both servers, compares the answers and measures every query, printing each as it is measured;
    /// throws when any answer differs (the speeds would compare different work).
    func measure() async throws -> [QueryFigures] {
        let prometheus = try BenchIntake.tool("prometheus", package: "prometheus")
        let dataset = QueryBenchDataset(histograms: histograms, samples: samples, end: Int64(Date().timeIntervalSince1970) / 15 * 15_000)
        let bodies = try dataset.writeRequests(samplesPerRequest: 20)
        print(
            String(
                format: "dataset: %d series x %d samples (15 s apart, %d remote-write requests, %.1f MB snappy); %d cores",
                dataset.seriesCount,
                samples,
                bodies.count,
                Double(bodies.reduce(0) { $0 + $1.count }) / 1e6,
                ProcessInfo.processInfo.activeProcessorCount
            )
        )

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-bench-query-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (process, port) = try await BenchRemoteWrite.startPrometheus(prometheus, in: folder)
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let theirs = "http://127.0.0.1:\(port)"

        var logger = Logger(label: "otelbench.bench")
        logger.logLevel = .error
        let store = TelemetryStore(limits: .init(maxRetainedBytes: nil))
        let receiver = RemoteWriteReceiver(configuration: .loopback(port: 0), store: store, readAPI: PrometheusQueryAPI(store: store), logger: logger)
        let group = ServiceGroup(services: [receiver], logger: logger)
        let figures = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let ours = "http://127.0.0.1:\(try await receiver.boundAddress.value().port)"
            for server in [ours, theirs] {
                for body in bodies { try await Self.write(body, to: server) }
            }
            let figures = try await measureAll(ours: ours, theirs: theirs, dataset: dataset)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return figures
        }
        let disagreements = figures.filter { !$0.agree }.count
        guard disagreements == 0 else {
            throw BenchmarkError("\(disagreements) queries answered differently by otelbench and Prometheus: the speeds above compare different work")
        }
        return figures
    }

    /// One query of the set: its name in the report and its API path with parameters.
    struct Query {
        var name: String
        var path: String
    }

    private func measureAll(ours: String, theirs: String, dataset: QueryBenchDataset) async throws -> [QueryFigures] {
        let quantile = "histogram_quantile(0.99, sum(rate(rollback_duration_seconds_bucket[5m])) by (le, operation))"
        let time = String(Double(dataset.end) / 1000)
        func instant(_ query: String) -> String { "/api/v1/query?query=\(Self.escape(query))&time=\(time)" }
        let queries = [
            Query(name: "histogram_quantile p99 by operation", path: instant(quantile)),
            Query(name: "sum(rate(counter[5m])) by (phase)", path: instant("sum(rate(phase_success_total[5m])) by (phase)")),
            Query(name: "selector with regex matchers", path: instant(#"rollback_duration_seconds_count{operation=~"db_.*|git_.*",phase!~"phase_.0"}"#)),
            Query(
                name: "query_range histogram_quantile, 1 h at 15 s",
                path: "/api/v1/query_range?query=\(Self.escape(quantile))&start=\(Double(dataset.start) / 1000)&end=\(time)&step=15"
            ),
        ]
        var figures: [QueryFigures] = []
        var results: [[String: Any]] = []
        for query in queries where only.map({ query.name.contains($0) }) ?? true {
            let (expected, actual) = (try await Self.get(theirs + query.path), try await Self.get(ours + query.path))
            let agreement = Self.compare(prometheus: expected, otelbench: actual)
            print("\n\(query.name): \(agreement.text)")
            var measured = QueryFigures(name: query.name, range: query.path.hasPrefix("/api/v1/query_range"), agree: agreement.agree, byClients: [:])
            var entry: [String: Any] = ["query": query.name, "path": query.path, "series": agreement.series, "agree": agreement.agree]
            for clients in Set([1, concurrency]).sorted() {
                // Ours first, then Prometheus, each warmed by the comparison above.
                let mine = try await measure(ours + query.path, clients: clients)
                let peer = try await measure(theirs + query.path, clients: clients)
                print(
                    String(
                        format:
                            "  %d client%@: otelbench %7.1f q/s  p50 %7.2f ms  p99 %7.2f ms (%d) | prometheus %7.1f q/s  p50 %7.2f ms  p99 %7.2f ms (%d) | ours/prometheus %.2fx q/s",
                        clients,
                        clients == 1 ? " " : "s",
                        mine.rate,
                        mine.p50,
                        mine.p99,
                        mine.count,
                        peer.rate,
                        peer.p50,
                        peer.p99,
                        peer.count,
                        peer.rate > 0 ? mine.rate / peer.rate : 0
                    )
                )
                measured.byClients[clients] = (mine, peer)
                entry["clients\(clients)"] = ["otelbench": mine.json, "prometheus": peer.json, "ratio": peer.rate > 0 ? mine.rate / peer.rate : 0]
            }
            results.append(entry)
            figures.append(measured)
        }
        if let json {
            let document: [String: Any] = [
                "series": dataset.seriesCount, "samplesPerSeries": samples, "cores": ProcessInfo.processInfo.activeProcessorCount,
                "requests": requests, "concurrency": concurrency, "queries": results,
            ]
            try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: json))
        }
        return figures
    }

    /// Rate and latency of one query against one server.
    struct Measurement {
        var count: Int
        var rate: Double
        var p50: Double
        var p99: Double
        var json: [String: Double] { ["requests": Double(count), "queriesPerSecond": rate, "p50Milliseconds": p50, "p99Milliseconds": p99] }
    }

    /// Asks `url` up to `requests` times from `clients` concurrent loops (stopping at `--max-seconds`).
    private func measure(_ url: String, clients: Int) async throws -> Measurement {
        for _ in 0..<warmUp { _ = try await Self.get(url) }
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .seconds(maxSeconds)
        let latencies = try await withThrowingTaskGroup(of: [Duration].self) { tasks in
            for client in 0..<clients {
                let perClient = requests / clients + (client < requests % clients ? 1 : 0)
                tasks.addTask {
                    var own: [Duration] = []
                    for _ in 0..<perClient where clock.now < deadline {
                        let sent = clock.now
                        _ = try await Self.get(url)
                        own.append(clock.now - sent)
                    }
                    return own
                }
            }
            var all: [Duration] = []
            for try await own in tasks { all += own }
            return all.sorted()
        }
        let wall = (clock.now - start).inSeconds
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)].inSeconds * 1000
        }
        return Measurement(count: latencies.count, rate: Double(latencies.count) / wall, p50: percentile(0.5), p99: percentile(0.99))
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// GETs `url`; the whole answer, or an error unless 200.
    static func get(_ url: String) async throws -> [UInt8] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(120))
        let body = try await response.body.collect(upTo: 256 << 20)
        guard response.status == .ok else {
            throw BenchmarkError("GET \(url): \(response.status.code) \(String(buffer: body).prefix(300))")
        }
        return Array(buffer: body)
    }

    static func write(_ body: [UInt8], to server: String) async throws {
        var request = HTTPClientRequest(url: "\(server)/api/v1/write")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-protobuf")
        request.headers.add(name: "Content-Encoding", value: "snappy")
        request.headers.add(name: "X-Prometheus-Remote-Write-Version", value: "0.1.0")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let answer = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .noContent || response.status == .ok else {
            throw BenchmarkError("remote write to \(server): \(response.status.code) \(String(buffer: answer).prefix(300))")
        }
    }

    /// Whether two query answers hold the same series with the same points (values to 1e-9 relative, NaN
    /// equal to NaN), and how many series.
    static func compare(prometheus: [UInt8], otelbench: [UInt8]) -> (agree: Bool, series: Int, text: String) {
        func points(_ bytes: [UInt8]) -> [String: [(String, String)]]? {
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                object["status"] as? String == "success", let data = object["data"] as? [String: Any],
                let result = data["result"] as? [[String: Any]]
            else { return nil }
            var out: [String: [(String, String)]] = [:]
            for element in result {
                let labels = (element["metric"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                let values = element["value"].map { [$0] } ?? (element["values"] as? [Any] ?? [])
                out[labels] = values.compactMap { $0 as? [Any] }.map { ("\($0[0])", "\($0[1])") }
            }
            return out
        }
        guard let want = points(prometheus), let got = points(otelbench) else { return (false, 0, "MISMATCH: an answer is not a successful vector or matrix") }
        guard Set(want.keys) == Set(got.keys) else {
            return (
                false, want.count,
                "MISMATCH: Prometheus \(want.count) series, otelbench \(got.count) (\(Set(want.keys).symmetricDifference(got.keys).count) differ)"
            )
        }
        var points = 0
        for (labels, wanted) in want {
            let ours = got[labels]!
            guard wanted.count == ours.count else { return (false, want.count, "MISMATCH: \(labels): \(ours.count) points instead of \(wanted.count)") }
            for (left, right) in zip(wanted, ours) {
                guard Double(left.0) == Double(right.0), let x = Double(left.1), let y = Double(right.1),
                    (x.isNaN && y.isNaN) || x == y || Swift.abs(x - y) <= 1e-9 * Swift.max(1, Swift.abs(x), Swift.abs(y))
                else { return (false, want.count, "MISMATCH: \(labels): \(right) instead of \(left)") }
                points += 1
            }
        }
        return (!want.isEmpty, want.count, want.isEmpty ? "MISMATCH: both answers empty" : "both answer \(want.count) series, \(points) points, equal")
    }
}

/// A cf_core-like dataset of Prometheus series, deterministic but for its end time.
struct QueryBenchDataset {
    static let operations = ["git_restore", "db_restore", "shim_restore", "cache_restore", "index_restore"]
    static let bounds = ["1", "5", "15", "30", "60", "90", "150", "250", "500", "+Inf"]
    static let errorTypes = ["validation_failed", "db_error", "git_error", "timeout"]

    let series: [Prometheus_TimeSeries]
    /// First and last sample time (ms).
    let start: Int64
    let end: Int64

    var seriesCount: Int { series.count }

    init(histograms: Int, samples: Int, end: Int64) {
        self.end = end
        let first = end - Int64(samples - 1) * 15_000
        start = first
        let times = (0..<samples).map { first + Int64($0) * 15_000 }
        var random = SeededRandom(seed: 42)
        var all: [Prometheus_TimeSeries] = []
        let phaseCount = (histograms + Self.operations.count - 1) / Self.operations.count
        let phases = (0..<phaseCount).map { String(format: "phase_%02d", $0) }
        for index in 0..<histograms {
            let operation = Self.operations[index % Self.operations.count]
            let phase = phases[index / Self.operations.count]
            let base = [("operation", operation), ("phase", phase)]
            // Rollbacks take longer for some operations; a few per 15 s.
            let scale = [20.0, 60.0, 35.0, 10.0, 120.0][index % Self.operations.count]
            var buckets = Array(repeating: [Prometheus_Sample](), count: Self.bounds.count)
            var sums: [Prometheus_Sample] = []
            var counts: [Prometheus_Sample] = []
            var cumulative = Array(repeating: 0.0, count: Self.bounds.count)
            var (sum, count) = (0.0, 0.0)
            for time in times {
                for _ in 0..<Int(random.next() % 6) {
                    let seconds = -scale * Foundation.log(random.unitInterval())
                    sum += seconds
                    count += 1
                    for (bucket, bound) in Self.bounds.enumerated() where seconds <= (Double(bound) ?? .infinity) { cumulative[bucket] += 1 }
                }
                for bucket in buckets.indices { buckets[bucket].append(Self.sample(time, cumulative[bucket])) }
                sums.append(Self.sample(time, sum))
                counts.append(Self.sample(time, count))
            }
            for (bucket, bound) in Self.bounds.enumerated() {
                all.append(Self.series("rollback_duration_seconds_bucket", base + [("le", bound)], buckets[bucket]))
            }
            all.append(Self.series("rollback_duration_seconds_sum", base, sums))
            all.append(Self.series("rollback_duration_seconds_count", base, counts))
            var successes = 0.0
            all.append(
                Self.series(
                    "phase_success_total",
                    base,
                    times.map { time in
                        successes += Double(random.next() % 10)
                        return Self.sample(time, successes)
                    }
                )
            )
            var depth = 10.0
            all.append(
                Self.series(
                    "rollback_queue_depth",
                    base,
                    times.map { time in
                        depth = max(0, depth + Double(Int(random.next() % 5) - 2))
                        return Self.sample(time, depth)
                    }
                )
            )
        }
        for phase in phases {
            for errorType in Self.errorTypes {
                var failures = 0.0
                all.append(
                    Self.series(
                        "phase_failure_total",
                        [("error_type", errorType), ("phase", phase)],
                        times.map { time in
                            failures += random.next() % 4 == 0 ? 1 : 0
                            return Self.sample(time, failures)
                        }
                    )
                )
            }
        }
        series = all
    }

    /// Snappy WriteRequests of every series, `samplesPerRequest` samples each, in time order (as a sender
    /// catching up would send them; Prometheus' head wants each series' samples in order).
    func writeRequests(samplesPerRequest: Int) throws -> [[UInt8]] {
        let total = series.first?.samples.count ?? 0
        return try stride(from: 0, to: total, by: samplesPerRequest).map { first in
            var request = Prometheus_WriteRequest()
            request.timeseries = series.map { one in
                var slice = one
                slice.samples = Array(one.samples[first..<min(total, first + samplesPerRequest)])
                return slice
            }
            return SnappyBlock.encodeLiterals(try request.serializedBytes())
        }
    }

    static func sample(_ time: Int64, _ value: Double) -> Prometheus_Sample {
        var sample = Prometheus_Sample()
        sample.timestamp = time
        sample.value = value
        return sample
    }

    /// A series with its labels sorted by name, as remote write requires.
    static func series(_ name: String, _ labels: [(String, String)], _ samples: [Prometheus_Sample]) -> Prometheus_TimeSeries {
        var series = Prometheus_TimeSeries()
        series.labels = ([("__name__", name)] + labels).sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }.map {
            var label = Prometheus_Label()
            label.name = $0.0
            label.value = $0.1
            return label
        }
        series.samples = samples
        return series
    }
}
