import AsyncHTTPClient
import Foundation
import Intake
import Logging
import NIOCore
import NIOHTTP1
import OTelBenchProtos
import Query
import ServiceLifecycle
import Telemetry
import TestSupport
import Testing

/// Debian's Prometheus 2.42 and OTelBench's query API side by side, holding the same remote-written samples
/// (``PrometheusFidelityTests/dataset()``): every question is asked of both and the answers compared — HTTP
/// status, `errorType` for errors, result type, series and values (``PrometheusFidelityTests/difference(_:_:)``).
struct PrometheusOracle {
    /// The base URLs of Prometheus and of OTelBench.
    let theirs: String
    let ours: String

    /// Starts both, writes the data set to both, runs `body`, stops both. Records an issue (and skips `body`)
    /// when Prometheus is not installed.
    static func with(_ body: (PrometheusOracle) async throws -> Void) async throws {
        let prometheus = URL(fileURLWithPath: "/usr/bin/prometheus")
        guard FileManager.default.isExecutableFile(atPath: prometheus.path) else {
            Issue.record("/usr/bin/prometheus is missing: run scripts/install-test-deps.sh")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("global:\n  scrape_interval: 1h\n".utf8).write(to: directory.appendingPathComponent("prometheus.yml"))
        let port = try freeLoopbackPort()
        let child = try ChildProcess(
            prometheus,
            [
                "--config.file=\(directory.appendingPathComponent("prometheus.yml").path)",
                "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)", "--web.enable-remote-write-receiver", "--log.level=warn",
            ]
        )
        let theirs = "http://127.0.0.1:\(port)"
        try await waitUntilReady(theirs)
        let store = TelemetryStore()
        var logger = Logger(label: "oracle")
        logger.logLevel = .critical
        let receiver = RemoteWriteReceiver(configuration: .loopback(port: 0), store: store, readAPI: PrometheusQueryAPI(store: store), logger: logger)
        let group = ServiceGroup(configuration: .init(services: [receiver], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let oracle = PrometheusOracle(theirs: theirs, ours: "http://127.0.0.1:\(try await receiver.boundAddress.value().port)")
                let body_ = try remoteWriteBody(PrometheusFidelityTests.dataset())
                for server in [oracle.ours, oracle.theirs] {
                    let (status, text) = try await request(
                        "\(server)/api/v1/write",
                        method: .POST,
                        body: body_,
                        headers: remoteWriteHeaders + [("Content-Type", "application/x-protobuf")]
                    )
                    #expect(status == 204, "remote write to \(server): \(status) \(String(decoding: text, as: UTF8.self))")
                }
                try await body(oracle)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        _ = try await child.terminate()
    }

    /// What differs between the two answers to `path` (a URL path with its query string), or nil when they
    /// agree. With `ordered`, the values must also come in the same order (what `sort` promises).
    /// With a `form`, it is POSTed (form-encoded) to `path`: long queries do not fit in a URL.
    func difference(_ path: String, form: String? = nil, ordered: Bool = false) async throws -> String? {
        let (method, body, headers): (HTTPMethod, [UInt8], [(String, String)]) =
            form.map { (.POST, Array($0.utf8), [("Content-Type", "application/x-www-form-urlencoded")]) } ?? (.GET, [], [])
        let (theirStatus, theirBody) = try await Self.request(theirs + path, method: method, body: body, headers: headers)
        let (ourStatus, ourBody) = try await Self.request(ours + path, method: method, body: body, headers: headers)
        let answers =
            "\n  Prometheus: \(String(decoding: theirBody.prefix(700), as: UTF8.self))\n  OTelBench:  \(String(decoding: ourBody.prefix(700), as: UTF8.self))"
        guard theirStatus == ourStatus else { return "HTTP \(ourStatus) instead of \(theirStatus)\(answers)" }
        let errorType = { (body: [UInt8]) in (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["errorType"] as? String }
        guard errorType(theirBody) == errorType(ourBody) else {
            return "errorType \(errorType(ourBody) ?? "-") instead of \(errorType(theirBody) ?? "-")\(answers)"
        }
        // The metadata endpoints answer lists: the same members, in any order.
        if !path.hasPrefix("/api/v1/query") {
            let members = { (body: [UInt8]) -> [String] in
                let data = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["data"] as? [Any] ?? []
                return data.map { ($0 as? [String: String]).map { "\($0.sorted { $0.key < $1.key })" } ?? "\($0)" }.sorted()
            }
            return members(theirBody) == members(ourBody) ? nil : "different members\(answers)"
        }
        if let difference = PrometheusFidelityTests.difference(theirBody, ourBody) { return difference + answers }
        if ordered, Self.values(theirBody) != Self.values(ourBody) { return "values in another order\(answers)" }
        return nil
    }

    /// An answer's first values in result order.
    static func values(_ body: [UInt8]) -> [String] {
        let data = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["data"] as? [String: Any]
        return (data?["result"] as? [[String: Any]] ?? []).map { "\(($0["value"] as? [Any])?.last ?? "-")" }
    }

    /// Whether an answer succeeded with a non-empty result.
    func hasData(_ path: String) async throws -> Bool {
        PrometheusFidelityTests.hasData(try await Self.request(theirs + path, method: .GET, body: [], headers: []).1)
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    static func waitUntilReady(_ server: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let (status, _) = try? await request(server + "/-/ready", method: .GET, body: [], headers: []), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("prometheus did not become ready")
    }

    static func request(_ url: String, method: HTTPMethod, body: [UInt8], headers: [(String, String)]) async throws -> (Int, [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if method == .POST { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        return (Int(response.status.code), Array(buffer: try await response.body.collect(upTo: 16 << 20)))
    }
}
