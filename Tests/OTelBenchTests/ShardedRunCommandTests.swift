import Foundation
import TestSupport
import Testing

/// A scenario spread over several hosts, as a user runs it: `otelbench intake` on one, `otelbench run --shard`
/// on the others, `otelbench merge` for the verdict — each in its own network namespace with its own address,
/// joined by a bridge (plain processes on loopback where namespaces cannot be made, said in the output).
@Suite(.serialized) struct ShardedRunCommandTests {
    /// Hosts on one machine: a network namespace each, on a bridge of their own, addresses in 198.18.0.0/15
    /// (the range set aside for benchmarks), reachable only from each other.
    final class Hosts: Sendable {
        let names: [String]
        let addresses: [String]
        let bridge: String
        /// Why namespaces could not be made, when they could not (then every host is 127.0.0.1 in this namespace).
        let unavailable: String?

        static let ip: String = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "ip"

        init(count: Int) async {
            let tag = String(UUID().uuidString.prefix(6)).lowercased()
            let subnet = Int.random(in: 0...255)
            bridge = "obbr\(tag)"
            names = (0..<count).map { "ob\(tag)h\($0)" }
            addresses = (0..<count).map { "198.18.\(subnet).\($0 + 1)" }
            var commands = [["link", "add", bridge, "type", "bridge"], ["link", "set", bridge, "up"]]
            for (index, name) in names.enumerated() {
                let outside = "ob\(tag)v\(index)"
                let inside = "ob\(tag)p\(index)"
                commands += [
                    ["netns", "add", name],
                    ["link", "add", outside, "type", "veth", "peer", "name", inside],
                    ["link", "set", outside, "master", bridge], ["link", "set", outside, "up"],
                    ["link", "set", inside, "netns", name],
                    ["-n", name, "addr", "add", "\(addresses[index])/24", "dev", inside],
                    ["-n", name, "link", "set", inside, "up"], ["-n", name, "link", "set", "lo", "up"],
                ]
            }
            var problem: String?
            for command in commands {
                let outcome = try? await runProcess(URL(fileURLWithPath: Self.ip), command, timeout: .seconds(20))
                if outcome?.status != 0 {
                    problem = "ip \(command.joined(separator: " ")): \(outcome?.stderr ?? "did not run")"
                    break
                }
            }
            unavailable = problem
            if problem != nil { await Self.remove(names: names, bridge: bridge) }
        }

        /// The command line that runs `arguments` on host `index`.
        func command(_ index: Int, _ arguments: [String]) -> (URL, [String]) {
            unavailable == nil
                ? (URL(fileURLWithPath: Self.ip), ["netns", "exec", names[index]] + arguments)
                : (URL(fileURLWithPath: arguments[0]), Array(arguments.dropFirst()))
        }

        func address(_ index: Int) -> String { unavailable == nil ? addresses[index] : "127.0.0.1" }

        func remove() async { await Self.remove(names: names, bridge: bridge) }

        /// Runs `body` with `count` hosts, and always removes them afterwards.
        static func with<Result>(count: Int, _ body: (Hosts) async throws -> Result) async throws -> Result {
            let hosts = await Hosts(count: count)
            do {
                let result = try await body(hosts)
                await hosts.remove()
                return result
            } catch {
                await hosts.remove()
                throw error
            }
        }

        static func remove(names: [String], bridge: String) async {
            for name in names { _ = try? await runProcess(URL(fileURLWithPath: ip), ["netns", "del", name], timeout: .seconds(20)) }
            _ = try? await runProcess(URL(fileURLWithPath: ip), ["link", "del", bridge], timeout: .seconds(20))
        }
    }

    struct Summary {
        var json: [String: Any]
        var verdicts: [String] {
            (json["rules"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String != "shards" }.map {
                "\($0["kind"] as? String ?? ""): \($0["name"] as? String ?? "") = \($0["verdict"] as? String ?? "")"
            }
        }
        /// Per phase: scheduled, sent, and the count of each request name.
        var counts: [String] {
            (json["phases"] as? [[String: Any]] ?? []).map { phase in
                let requests = (phase["requests"] as? [String: [String: Any]] ?? [:]).mapValues { $0["count"] as? Int ?? -1 }
                return "\(phase["name"] ?? "") \(phase["scheduled"] ?? "")/\(phase["sent"] ?? "") \(requests.sorted { $0.key < $1.key })"
            }
        }
        var shards: [[String: Any]] { json["shards"] as? [[String: Any]] ?? [] }

        init(_ folder: URL) {
            let data = (try? Data(contentsOf: folder.appendingPathComponent("summary.json"))) ?? Data()
            json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        }
    }

    /// Two shards on two hosts and the intake on a third give the verdicts and exact request counts of one
    /// process running the whole scenario; `merge` on a shard's host fetches the same reports and exit code.
    @Test func twoShardsOnTwoHostsJudgeAsOneProcessDoes() async throws {
        let binary = try otelbenchExecutable().path
        try await Hosts.with(count: 3) { hosts in
            if let unavailable = hosts.unavailable { print("network namespaces unavailable (\(unavailable)): shards run as plain processes on loopback") }
            try await withTemporaryDirectory { folder in
                let scenario = try writeShardedScenario(in: folder)
                let single = try await runProcess(
                    URL(fileURLWithPath: binary),
                    ["run", scenario, "--report-dir", folder.appendingPathComponent("single").path, "--quiet"],
                    timeout: .seconds(120)
                )
                #expect(single.status == 0, "\(single.output)")

                let control = "\(hosts.address(0)):\(hosts.unavailable == nil ? 4320 : try freeLoopbackPort())"
                let intakeCommand = hosts.command(
                    0,
                    [
                        binary, "intake", scenario, "--shards", "2", "--control", control, "--services-host", hosts.address(0),
                        "--report-dir", folder.appendingPathComponent("intake").path, "--start-delay", "1s", "--keep-serving",
                        // The control API listens on the host's 198.18.x address, which only these namespaces reach.
                        "--insecure",
                    ]
                )
                let intake = try ChildProcess(intakeCommand.0, intakeCommand.1)
                defer { Task { await intake.stop() } }
                var shards: [ChildProcess] = []
                for index in 0..<2 {
                    let command = hosts.command(
                        index + 1,
                        [
                            binary, "run", scenario, "--shard", "\(index)/2", "--intake", "http://\(control)", "--report-dir",
                            folder.appendingPathComponent("shard\(index)").path,
                        ]
                    )
                    shards.append(try ChildProcess(command.0, command.1))
                }
                let mergeCommand = hosts.command(
                    1,
                    [binary, "merge", "--intake", "http://\(control)", "--report-dir", folder.appendingPathComponent("merged").path, "--timeout", "3m"]
                )
                let merge = try await runProcess(mergeCommand.0, mergeCommand.1, timeout: .seconds(200))
                for (index, shard) in shards.enumerated() {
                    let outcome = await shard.wait(timeout: .seconds(30))
                    #expect(outcome.status == 0, "shard \(index): \(outcome.output)")
                    #expect(outcome.stdout.contains("shard \(index)/2: done"))
                    #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("shard\(index)/shard-\(index)-of-2.json").path))
                }
                #expect(merge.status == 0, "merge: \(merge.output)\nintake: \(intake.output)")
                #expect(try await intake.terminate() == 0, "after --keep-serving, SIGTERM ends the intake: \(intake.output)")

                let merged = Summary(folder.appendingPathComponent("merged"))
                let whole = Summary(folder.appendingPathComponent("single"))
                #expect(!merged.verdicts.isEmpty)
                #expect(merged.verdicts == whole.verdicts)
                #expect(merged.counts == whole.counts)
                #expect(merged.shards.map { $0["status"] as? String } == ["finished", "finished"])
                if hosts.unavailable == nil {
                    #expect(merged.shards.map { $0["host"] as? String } == [nil, nil].map { _ in ProcessInfo.processInfo.hostName })
                    #expect(
                        intake.stderr.contains("targets for the shards: migrations http://\(hosts.address(0)):"),
                        "the services are reached on the intake host's address"
                    )
                }
                for name in ["summary.json", "junit.xml", "report.md", "report.html"] {
                    #expect(
                        FileManager.default.contentsEqual(
                            atPath: folder.appendingPathComponent("merged/\(name)").path,
                            andPath: folder.appendingPathComponent("intake/\(name)").path
                        )
                    )
                }
            }
        }
    }

    /// A shard killed mid-run: the intake gives it up after --shard-timeout, and both it and `merge` exit 1
    /// naming the shard.
    @Test func aKilledShardFailsTheMergeNamingIt() async throws {
        let binary = try otelbenchExecutable().path
        try await Hosts.with(count: 3) { hosts in
            try await withTemporaryDirectory { folder in
                let scenario = try writeShardedScenario(in: folder)
                let control = "\(hosts.address(0)):\(hosts.unavailable == nil ? 4320 : try freeLoopbackPort())"
                let intakeCommand = hosts.command(
                    0,
                    [
                        binary, "intake", scenario, "--shards", "2", "--control", control, "--services-host", hosts.address(0),
                        "--report-dir", folder.appendingPathComponent("intake").path, "--start-delay", "1s", "--shard-timeout", "2s", "--keep-serving",
                        "--insecure",
                    ]
                )
                let intake = try ChildProcess(intakeCommand.0, intakeCommand.1)
                defer { Task { await intake.stop() } }
                var shards: [ChildProcess] = []
                for index in 0..<2 {
                    let command = hosts.command(index + 1, [binary, "run", scenario, "--shard", "\(index)/2", "--intake", "http://\(control)"])
                    shards.append(try ChildProcess(command.0, command.1))
                }
                // Shard 1 is killed once it drives.
                _ = try await shards[1].waitForOutput(timeout: .seconds(60), onStandardError: true) { $0.contains("starting in") ? true : nil }
                try await Task.sleep(for: .seconds(1.5))
                shards[1].send(SIGKILL)
                let mergeCommand = hosts.command(
                    1,
                    [binary, "merge", "--intake", "http://\(control)", "--report-dir", folder.appendingPathComponent("merged").path, "--timeout", "3m"]
                )
                let merge = try await runProcess(mergeCommand.0, mergeCommand.1, timeout: .seconds(200))
                #expect(merge.status == 1, "\(merge.output)")
                #expect(merge.stdout.contains("shard 1/2 died"), "\(merge.stdout)")
                #expect(await shards[0].wait(timeout: .seconds(30)).status == 0)
                let summary = Summary(folder.appendingPathComponent("merged"))
                #expect(summary.shards.map { $0["status"] as? String } == ["finished", "died"])
                #expect(summary.json["passed"] as? Bool == false)
                _ = try await intake.terminate()
            }
        }
    }

    /// Mistakes a user makes with shards are exit 2 with a message that says what to fix.
    @Test func shardMistakesNameTheProblem() async throws {
        let binary = try otelbenchExecutable()
        let scenario = repositoryRoot.appendingPathComponent("Scenarios/cf-core-smoke.yaml").path
        for (arguments, message) in [
            (["run", scenario, "--shard", "2/2", "--intake", "http://127.0.0.1:9"], "between 0 and 1"),
            (["run", scenario, "--shard", "0/2"], "--shard needs --intake"),
            (["run", scenario, "--intake", "http://127.0.0.1:9"], "--intake is for shards"),
            (["intake", scenario, "--shards", "0"], "--shards must be between 1 and 10000"),
        ] {
            let outcome = try await runProcess(binary, arguments, timeout: .seconds(30))
            #expect(outcome.status == 2, "\(arguments): \(outcome.output)")
            #expect(outcome.stderr.contains(message), "\(arguments): \(outcome.stderr)")
        }
        // A shard with another scenario file than the one the first shard registered with is refused by name.
        try await withTemporaryDirectory { folder in
            let scenarioA = try writeShardedScenario(in: folder)
            let other = folder.appendingPathComponent("other")
            try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
            let scenarioB = try writeShardedScenario(in: other, faults: ["drop_traceparent"])
            let port = try freeLoopbackPort()
            let intake = try ChildProcess(
                binary,
                [
                    "intake", scenarioA, "--shards", "2", "--control", "127.0.0.1:\(port)", "--report-dir", folder.appendingPathComponent("intake").path,
                    "--registration-timeout", "20s",
                ]
            )
            defer { Task { await intake.stop() } }
            let first = try ChildProcess(binary, ["run", scenarioA, "--shard", "0/2", "--intake", "http://127.0.0.1:\(port)"])
            defer { Task { await first.stop() } }
            _ = try await first.waitForOutput(timeout: .seconds(60), onStandardError: true) { $0.contains("registered") ? true : nil }
            let second = try await runProcess(binary, ["run", scenarioB, "--shard", "1/2", "--intake", "http://127.0.0.1:\(port)"], timeout: .seconds(60))
            #expect(second.status == 2, "\(second.output)")
            #expect(second.stderr.contains("runs a different scenario file") && second.stderr.contains("give every shard the same file"), "\(second.stderr)")
            let duplicate = try await runProcess(binary, ["run", scenarioA, "--shard", "0/2", "--intake", "http://127.0.0.1:\(port)"], timeout: .seconds(60))
            #expect(duplicate.status == 2 && duplicate.stderr.contains("shard 0/2 is already registered"), "\(duplicate.stderr)")
        }
    }
}
