package import Foundation
package import Workload

// What shards and the central intake say to each other over the control API (JSON over HTTP):
//
//   POST /v1/shards                 ShardRegistration → ShardPlan (409 ShardRefusal when it does not fit)
//   GET  /v1/shards/{i}/plan        → ShardPlan, polled until it has a start time
//   POST /v1/shards/{i}/events      ShardEvents: the requests the shard sent, as they go (also its heartbeat)
//   POST /v1/shards/{i}/result      ShardResult: its driver report, once it is done
//   GET  /v1/verdict                → RunVerdict once judged (503 with Retry-After until then)
//   GET  /v1/reports/{name}         a report file
//   GET  /healthz                   200 once listening

/// A shard introducing itself: which part it runs, of what, and with which seed, so that the intake can refuse a
/// shard that would not add up with the others.
package struct ShardRegistration: Codable, Sendable, Hashable {
    package var shard: Shard
    /// The scenario's name, for messages.
    package var scenario: String
    /// A fingerprint of the scenario file's bytes (FNV-1a, 64 bits, hex): shards of one run read the same file.
    package var scenarioFingerprint: String
    package var seed: UInt64
    package var durationScale: Double
    /// Random per process: the same shard registering again (a retry) is welcome, another process is a duplicate.
    package var instance: String
    /// The shard's host name, for the report.
    package var hostName: String

    package init(
        shard: Shard,
        scenario: String,
        scenarioFingerprint: String,
        seed: UInt64,
        durationScale: Double,
        instance: String,
        hostName: String = ProcessInfo.processInfo.hostName
    ) {
        self.hostName = hostName
        self.shard = shard
        self.scenario = scenario
        self.scenarioFingerprint = scenarioFingerprint
        self.seed = seed
        self.durationScale = durationScale
        self.instance = instance
    }

    /// FNV-1a over `bytes`, as 16 hex digits: enough to tell two scenario files apart, not a security measure.
    package static func fingerprint(_ bytes: some Sequence<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16).leftPadded(to: 16)
    }
}

/// What a shard is to do: nothing yet while the others register, then the common start and where to send.
package struct ShardPlan: Codable, Sendable, Hashable {
    /// When every shard starts its first phase, in seconds since 1970 (wall clock), once every shard registered.
    package var startAt: Double?
    /// Base URL per service name, once the intake's services listen.
    package var targets: [String: String]?
    /// Shards not registered yet (0-based).
    package var waitingFor: [Int]
    /// Set when the run was called off (a shard never registered): the shard stops with this reason.
    package var cancelled: String?

    package init(startAt: Double? = nil, targets: [String: String]? = nil, waitingFor: [Int] = [], cancelled: String? = nil) {
        self.startAt = startAt
        self.targets = targets
        self.waitingFor = waitingFor
        self.cancelled = cancelled
    }
}

/// A batch of the requests one shard sent, in the order its driver reported them: what the intake's checks join
/// with the spans the requests caused. An empty batch is a heartbeat.
package struct ShardEvents: Codable, Sendable, Hashable {
    /// A request about to leave, with its trace context.
    package struct Sending: Codable, Sendable, Hashable {
        package var context: SentTraceContext
        package var name: String

        package init(context: SentTraceContext, name: String) {
            self.context = context
            self.name = name
        }
    }

    package enum Event: Codable, Sendable, Hashable {
        case sending(Sending)
        case completed(SentRequest)
    }

    package var events: [Event]

    package init(events: [Event] = []) { self.events = events }
}

/// A shard's part of the run: its driver's report (counts, outcomes, latency histograms), which the intake merges.
package struct ShardResult: Codable, Sendable {
    package var shard: Shard
    package var report: DriverReport
    /// Request events the shard could not deliver to the intake (the checks never saw those requests).
    package var undeliveredEvents: Int

    package init(shard: Shard, report: DriverReport, undeliveredEvents: Int = 0) {
        self.shard = shard
        self.report = report
        self.undeliveredEvents = undeliveredEvents
    }
}

/// Why the intake refused a shard's message: what does not fit, in words that say what to fix.
package struct ShardRefusal: Error, Codable, Sendable, Hashable, CustomStringConvertible {
    package var error: String
    package init(_ error: String) { self.error = error }
    package var description: String { error }
}

/// The run's verdict, as the intake judged it from every shard's part and all the telemetry.
package struct RunVerdict: Codable, Sendable, Hashable {
    /// 0 every rule held, 1 a rule failed or a shard is missing.
    package var exitCode: Int32
    /// The reports' file names, fetched with `GET /v1/reports/{name}`.
    package var files: [String]
    /// The terminal summary, as `otelbench run` prints it.
    package var text: String

    package init(exitCode: Int32, files: [String], text: String) {
        self.exitCode = exitCode
        self.files = files
        self.text = text
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
