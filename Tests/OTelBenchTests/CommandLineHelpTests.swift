import Foundation
import TestSupport
import Testing

/// The help text of the built binary, so the subcommand list is pinned (swift-argument-parser's `MathExampleTests`).
@Suite struct CommandLineHelpTests {
    @Test func rootHelpListsTheSubcommands() throws {
        let output = try BuiltCommand.run(["--help"])
        #expect(output.status == 0)
        #expect(output.standardOutput.contains("receive"))
        #expect(output.standardOutput.contains("services"))
    }

    /// The benchmarks are a separate executable (`otelbench-bench`, built only with `OTELBENCH_BENCHMARKS=1`),
    /// not a command of the product.
    @Test func theProductHasNoBenchmarkCommand() throws {
        let root = try BuiltCommand.run(["--help"])
        for command in ["run", "check", "receive", "services", "generate", "validate", "lint-metrics", "lint-collector"] {
            #expect(root.standardOutput.contains("  \(command)"), "\(command)")
        }
        #expect(!root.standardOutput.contains("  bench"), "no bench subcommand")
        let bench = try BuiltCommand.run(["bench"])
        #expect(bench.status != 0)
        #expect(bench.standardError.contains("Unexpected argument 'bench'"))
    }

    @Test func servicesHelpNamesPortsEndpointAndFaults() throws {
        let output = try BuiltCommand.run(["services", "--help"])
        #expect(output.status == 0)
        for text in ["--ports-from <P>", "--otlp-endpoint <url>", "--otlp-protocol <protocol>", "--time-scale <scale>", "--fault <fault>", "--config <file>"] {
            #expect(output.standardOutput.contains(text), "\(text)")
        }
        for fault in [
            "drop_traceparent", "fresh_parent", "forward_invalid_traceparent", "drop_tracestate", "ignore_sampled_flag",
            "high_cardinality_label", "wrong_buckets", "omit_required_label", "slow_rollbacks", "slow_liveness", "drop_spans=F",
        ] {
            #expect(output.standardOutput.contains(fault), "\(fault)")
        }
    }
}

/// Runs the `otelbench` binary that `swift build` put next to the test bundle.
enum BuiltCommand {
    struct Output {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// The built binary: `.build/<triple>/debug/otelbench`, found next to the test bundle.
    static var executableURL: URL {
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("otelbench")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/otelbench")
    }

    static func run(_ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = executableURL
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self)
        )
    }
}
