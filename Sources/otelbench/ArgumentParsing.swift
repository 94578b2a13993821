package import ArgumentParser
package import Intake
import Logging
package import Scenario
package import Telemetry
package import Workload

extension ListenAddress: ExpressibleByArgument {
    package init?(argument: String) {
        guard let address = try? ListenAddress(parsing: argument) else { return nil }
        self = address
    }
}

extension Signal: ExpressibleByArgument {}
extension OTLPProtocol: ExpressibleByArgument {}
extension RecordingFormat: ExpressibleByArgument {}
extension RecordingCompression: ExpressibleByArgument {}

/// `--record-format` and `--record-compression`, shared by `run` and `receive`: the OpenTelemetry Collector
/// file exporter's formats.
struct RecordOptions: ParsableArguments {
    @Option(help: ArgumentHelp("json (OTLP/JSON lines) or proto (length-delimited protobuf, one file per signal).", valueName: "format"))
    var recordFormat: RecordingFormat = .json

    @Option(help: ArgumentHelp("none, gzip or zstd: each recorded request compressed on its own, length-delimited.", valueName: "compression"))
    var recordCompression: RecordingCompression = .none
}

/// `--log-level`, shared by the commands that run servers (`receive`, `services`).
struct LogOptions: ParsableArguments {
    /// swift-log's levels, as the flag spells them.
    enum Level: String, ExpressibleByArgument, CaseIterable {
        case trace, debug, info, notice, warning, error, critical

        var logLevel: Logger.Level { Logger.Level(rawValue: rawValue) ?? .warning }
    }

    @Option(help: ArgumentHelp("Log level.", valueName: "level"))
    var logLevel: Level = .warning

    /// A logger at the chosen level.
    func logger(label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = logLevel.logLevel
        return logger
    }
}

/// A byte count written as a number with an optional unit: `1048576`, `64KiB`, `64MiB`, `1GiB`, `10MB`.
struct ByteSize: ExpressibleByArgument, Hashable, CustomStringConvertible {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1),
        ]
        var number = Substring(argument)
        var multiplier = 1
        for (suffix, value) in units where argument.hasSuffix(suffix) {
            number = argument.dropLast(suffix.count)
            multiplier = value
            break
        }
        guard let value = Int(number), value >= 0, value <= Int.max / multiplier else { return nil }
        bytes = value * multiplier
    }

    var description: String {
        if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30)GiB" }
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10)KiB" }
        return "\(bytes)B"
    }

    var defaultValueDescription: String { description }
}

/// A duration written as a number with a unit: `500ms`, `30s`, `5m`, `1h` (a bare number is seconds).
struct DurationArgument: ExpressibleByArgument, Hashable {
    var duration: Duration

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(argument)
        var seconds = 1.0
        for (suffix, value) in units where argument.hasSuffix(suffix) {
            number = argument.dropLast(suffix.count)
            seconds = value
            break
        }
        // Up to about 292 million years: what fits in Int64 milliseconds.
        guard let value = Double(number), value.isFinite, value >= 0, let milliseconds = Int64(exactly: (value * seconds * 1000).rounded()) else { return nil }
        duration = .milliseconds(milliseconds)
    }

    init(_ duration: Duration) { self.duration = duration }
}

extension DurationArgument: CustomStringConvertible {
    /// `500ms`, `30s`, `5m`, `1h`: the largest unit that divides it.
    var description: String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        for (unit, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1000)] where milliseconds >= size && milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }

    var defaultValueDescription: String { description }
}

extension SinkKind {
    /// The `otelbench receive` flag (`--jaeger-grpc`, ...).
    var flag: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }
}

/// `--tls-cert`, `--tls-key`, `--tls-client-ca`, `--auth-token-file` and `--insecure`: what `receive` asks of
/// the clients of every receiver and sink, and whether it may listen beyond loopback without asking anything.
struct ListenerSecurityOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Serve every receiver and sink over TLS with this PEM certificate (chain); with --tls-key.", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("The PEM private key of --tls-cert (unencrypted).", valueName: "file"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("Ask clients for a certificate signed by a CA in this PEM file (mutual TLS); with --tls-cert.", valueName: "file"))
    var tlsClientCa: String?

    @Option(
        help: ArgumentHelp(
            "Take only requests that carry the token in this file (its first line): HTTP Authorization: Bearer TOKEN, gRPC authorization metadata.",
            valueName: "file"
        )
    )
    var authTokenFile: String?

    @Flag(help: "Listen beyond loopback (e.g. 0.0.0.0) with neither TLS nor a token, on a network you trust (inside a cluster).")
    var insecure = false

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together: give both, or neither for plain text") }
        if tlsClientCa != nil, tlsCert == nil {
            throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key: client certificates are asked for over TLS")
        }
    }

    /// The files as given.
    var tlsFiles: TLSFiles? {
        guard let tlsCert, let tlsKey else { return nil }
        return TLSFiles(certificate: tlsCert, key: tlsKey, clientCA: tlsClientCa)
    }

    /// Reads and checks the files; a bad one is the user's to fix, named by its flag.
    func load() throws(UsageError) -> ListenerSecurity {
        do {
            return try ListenerSecurity.load(tls: tlsFiles, tokenFile: authTokenFile)
        } catch {
            let flag =
                switch error.file {
                case .certificate: "--tls-cert"
                case .key: "--tls-key"
                case .clientCA: "--tls-client-ca"
                case .token: "--auth-token-file"
                }
            throw UsageError("\(flag) \(error)")
        }
    }

    /// The refusal to listen on `address` (named by `flag`) beyond loopback unprotected: what to add instead.
    static func unprotected(_ flag: String, _ address: ListenAddress) -> UsageError {
        UsageError(
            "\(flag) \(address) listens beyond loopback with neither TLS nor a token, so anyone who reaches this machine could send to it: "
                + "add --tls-cert and --tls-key, or --auth-token-file, or --insecure on a network you trust"
        )
    }
}
