import ArgumentParser
import Foundation

/// Every figure of the performance issue against its peer, measured in one run: the driver against wrk,
/// remote write and PromQL against Prometheus 2.42, the OTLP intake against swift-protobuf's decode, Jaeger
/// against OTLP; printed as one table with the ratio and whether each goal is met.
struct BenchTable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Run every peer comparison (driver, remote-write, query, intake, jaeger) and print one table with ratios and goals.",
        discussion: """
            Runs `driver` (without generate), `remote-write`, `query`, `intake` and `jaeger` one after the other \
            with --seconds per measurement (each prints its own lines as it goes), then the table: figure | ours \
            | peer | ratio | goal met. Goals: driver >= 1.0x wrk (closed loop, same endpoint); remote write \
            >= 1.0x Prometheus 2.42; PromQL query_range >= 1.0x and instant queries >= 2x Prometheus (one \
            client, 1,000 requests per query and server after 20 unmeasured ones, each run capped at --seconds); OTLP intake <= 3 us CPU per span, measured without a recording and \
            then recording every request in JSON and in protobuf, as `otelbench run` does; Jaeger intake <= 1.2x OTLP's CPU per span on the same \
            transport. Open-loop rows report the achieved rate against the target (no goal is set for them). \
            Needs wrk, h2load, nginx and prometheus (Debian packages) and the release otelbench next to this binary.
            """
    )

    @Option(help: "Seconds per measurement.") var seconds = 10
    @Option(help: "Only these groups, comma-separated: driver, remote-write, query, intake, jaeger.") var only = "driver,remote-write,query,intake,jaeger"

    static let groups = ["driver", "remote-write", "query", "intake", "jaeger"]

    func validate() throws {
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be 1...600 (got \(seconds))") }
        _ = try selectedGroups()
    }

    func selectedGroups() throws -> Set<String> {
        let names = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        guard !names.isEmpty, names.isSubset(of: Self.groups) else {
            throw ValidationError("--only must name groups among \(Self.groups.joined(separator: ", ")) (got \(only))")
        }
        return names
    }

    /// One line of the table.
    struct Row {
        var figure: String
        var ours: String
        var peer: String
        var ratio: Double?
        /// nil: no goal for this row.
        var goal: (text: String, met: Bool)?
    }

    func run() async throws {
        let groups = try selectedGroups()
        var rows: [Row] = []
        let started = Date()
        if groups.contains("driver") {
            print("== driver ==")
            let driver = try BenchDriver.parse(["--seconds", "\(seconds)", "--skip-generate"])
            let figures = try await driver.measure()
            for endpoint in figures.endpoints {
                rows.append(
                    Row(
                        figure: "driver, closed loop, \(driver.connections) users / connections, \(endpoint.endpoint)",
                        ours: String(format: "%@ req/s (p50 %.2f ms, p99 %.2f ms)", Self.grouped(endpoint.driverRate), endpoint.p50, endpoint.p99),
                        peer: "wrk \(Self.grouped(endpoint.wrk.requestsPerSecond)) req/s",
                        ratio: endpoint.ratio,
                        goal: ("≥ 1.0×", endpoint.ratio >= 1.0)
                    )
                )
            }
            for open in figures.openLoop {
                let lateness = open.lateness.map { String(format: "send lateness p99 %.2f ms, max %.1f ms", $0.p99, $0.max) } ?? "no lateness reported"
                rows.append(
                    Row(
                        figure: "driver, open loop against nginx at \(Self.grouped(open.target)) req/s, \(driver.openConnections) connections",
                        ours: "\(Self.grouped(open.achieved))/s achieved, \(open.dropped) dropped, \(lateness)",
                        peer: "target \(Self.grouped(open.target))/s",
                        ratio: open.achieved / open.target,
                        goal: nil
                    )
                )
            }
        }
        if groups.contains("remote-write") {
            print("\n== remote-write ==")
            let figures = try await BenchRemoteWrite.parse(["--seconds", "\(seconds)"]).measure()
            rows.append(
                Row(
                    figure: "remote-write receive, 1,000-sample requests",
                    ours: "\(Self.grouped(figures.ours)) samples/s",
                    peer: "Prometheus 2.42: \(Self.grouped(figures.prometheus))",
                    ratio: figures.ratio,
                    goal: ("≥ 1.0×", figures.ratio >= 1.0)
                )
            )
        }
        if groups.contains("query") {
            print("\n== query ==")
            for query in try await BenchQuery.parse(["--requests", "1000", "--max-seconds", "\(max(seconds, 5))"]).measure() {
                guard let single = query.byClients[1] else { continue }
                let ratio = single.prometheus.rate > 0 ? single.ours.rate / single.prometheus.rate : 0
                let goal = query.range ? 1.0 : 2.0
                rows.append(
                    Row(
                        figure: "PromQL \(query.range ? "" : "instant, ")\(query.name), 1 client",
                        ours: String(format: "%.1f q/s", single.ours.rate),
                        peer: String(format: "Prometheus %.1f q/s", single.prometheus.rate),
                        ratio: ratio,
                        goal: (String(format: "≥ %.1f×", goal), ratio >= goal)
                    )
                )
            }
        }
        if groups.contains("intake") {
            print("\n== intake ==")
            // Without a recording, then as `otelbench run` takes it in: every request also recorded, in each format.
            for record in ["none", "json", "proto"] {
                if record != "none" { print("\n== intake, recording \(record) ==") }
                let figures = try await BenchIntake.parse(["--seconds", "\(seconds)", "--record", record]).measure()
                for (name, measured) in [("OTLP/HTTP", figures.http), ("OTLP/gRPC", figures.grpc)] {
                    let microseconds = measured.cpuPer10k * 100
                    let what = record == "none" ? "intake" : "intake and \(record) recording"
                    rows.append(
                        Row(
                            figure: "\(name) \(what), CPU per span (512-span requests; ratio: CPU per span over decode-only's)",
                            ours: String(format: "%@ spans/s, %.2f µs CPU/span", Self.grouped(measured.spansPerSecond), microseconds),
                            peer: String(format: "swift-protobuf decode-only %.2f µs/span, 1 thread", figures.decodeOnlyMicrosecondsPerSpan),
                            ratio: microseconds / figures.decodeOnlyMicrosecondsPerSpan,
                            goal: ("≤ 3 µs/span", microseconds <= 3)
                        )
                    )
                }
            }
        }
        if groups.contains("jaeger") {
            print("\n== jaeger ==")
            let figures = try await BenchJaeger.parse(["--seconds", "\(seconds)"]).measure()
            for (jaeger, otlp) in [(BenchJaeger.LoadPath.thrift, BenchJaeger.LoadPath.otlpHTTP), (.jaegerGRPC, .otlpGRPC)] {
                guard let ours = figures.paths[jaeger], let peer = figures.paths[otlp], let ratio = figures.cpuRatio(jaeger) else { continue }
                rows.append(
                    Row(
                        figure: "\(jaeger.name) intake, CPU per span",
                        ours: String(format: "%.2f µs/span", ours.cpuMicrosecondsPerSpan),
                        peer: String(format: "%@ %.2f µs/span", otlp.name, peer.cpuMicrosecondsPerSpan),
                        ratio: ratio,
                        goal: ("≤ 1.2×", ratio <= 1.2)
                    )
                )
            }
        }
        print("\n\(Self.render(rows))")
        let met = rows.compactMap(\.goal).filter(\.met).count
        print(
            "\(met) of \(rows.compactMap(\.goal).count) goals met; \(ProcessInfo.processInfo.activeProcessorCount) cores, --seconds \(seconds), \(Int(Date().timeIntervalSince(started))) s in all"
        )
    }

    /// The rows as a Markdown table.
    static func render(_ rows: [Row]) -> String {
        var lines = ["| figure | ours | peer | ratio | goal met |", "| --- | --- | --- | --- | --- |"]
        for row in rows {
            let ratio = row.ratio.map { String(format: "%.2f×", $0) } ?? "—"
            let goal = row.goal.map { "\($0.met ? "yes" : "no") (\($0.text))" } ?? "— (reported)"
            lines.append("| \(row.figure) | \(row.ours) | \(row.peer) | \(ratio) | \(goal) |")
        }
        return lines.joined(separator: "\n")
    }

    /// `12345.6` as "12,346".
    static func grouped(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 0
        formatter.locale = Locale(identifier: "en_US")
        return formatter.string(from: NSNumber(value: value)) ?? String(format: "%.0f", value)
    }
}
