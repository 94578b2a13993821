package import Intake
package import Logging
package import Scenario
package import ServiceLifecycle
package import Telemetry

/// The intake's servers: the OTLP receivers and the sinks asked for, all storing into one store and one
/// recording, with scripted faults. What `otelbench run` (from a scenario's `intake:`) and `otelbench receive`
/// (from its flags) start.
package struct IntakeServers: Sendable {
    /// One of the servers.
    package enum Listener: Sendable, Hashable {
        case otlpGRPC
        case otlpHTTP
        case sink(SinkKind)
    }

    /// A server that could not listen.
    package struct ListenFailure: Error, CustomStringConvertible {
        package var listener: Listener
        package var address: ListenAddress
        package var cause: any Error
        package var description: String { "\(cause)" }
    }

    /// Where each server really listens (the chosen port when asked for port 0).
    package struct Endpoints: Sendable {
        package var grpc: ListenAddress
        package var http: ListenAddress
        /// The sinks, in ``SinkKind`` order.
        package var sinks: [(kind: SinkKind, address: ListenAddress)]
    }

    package let grpc: OTLPGRPCReceiver
    package let http: OTLPHTTPReceiver
    package let sinks: [ConfiguredSink]
    /// TLS and the token, the same for every server.
    package let security: ListenerSecurity
    /// Gives what malloc keeps after frees back to the system while requests arrive.
    package let freedMemory: FreedMemoryReturner

    /// Builds the servers; none listens before ``services`` run.
    ///
    /// - Parameters:
    ///   - sinks: the sinks to start beside the OTLP receivers, by kind.
    ///   - maxRequestBytes: the largest request each server takes, after decompression.
    ///   - faults: scripted answers of the OTLP receivers (a scenario's `intake.faults`).
    ///   - security: TLS and the bearer token of every server (`--tls-cert`, `--auth-token-file`, a scenario's
    ///     `intake.tls` and `intake.auth_token_file`).
    package init(
        otlpGRPC: ListenAddress,
        otlpHTTP: ListenAddress,
        sinks: [SinkKind: ListenAddress],
        maxRequestBytes: Int = 64 << 20,
        faults: [IntakeFault] = [],
        security: ListenerSecurity = .plaintext,
        store: TelemetryStore,
        recorder: RecordingWriter?,
        logger: Logger
    ) {
        let injector = faults.isEmpty ? nil : FaultInjector(rules: faults)
        freedMemory = FreedMemoryReturner(
            changes: {
                let totals = store.totals
                return totals.spans + totals.dataPoints + totals.logRecords + totals.rejectedRequests + totals.evictedTraces
            },
            logger: logger
        )
        let ingestor = OTLPIngestor(store: store, recorder: recorder, faults: injector, logger: logger)
        self.security = security
        grpc = OTLPGRPCReceiver(
            configuration: .init(address: otlpGRPC, maxRequestBytes: maxRequestBytes, security: security),
            ingestor: ingestor,
            logger: logger
        )
        http = OTLPHTTPReceiver(
            configuration: .init(address: otlpHTTP, maxRequestBytes: maxRequestBytes, security: security),
            ingestor: ingestor,
            logger: logger
        )
        self.sinks = ConfiguredSink.make(sinks, maxRequestBytes: maxRequestBytes, security: security, store: store, recorder: recorder, logger: logger)
    }

    /// The servers that would listen beyond loopback with neither TLS nor a token: anyone who can reach the
    /// machine could send them anything. The commands refuse to start them unless told `--insecure`.
    package var unprotectedBeyondLoopback: [(listener: Listener, address: ListenAddress)] {
        guard !security.isProtected else { return [] }
        let all: [(Listener, ListenAddress)] =
            [(.otlpGRPC, grpc.configuration.address), (.otlpHTTP, http.configuration.address)]
            + sinks.map { (.sink($0.kind), $0.address) }
        return all.filter { !$0.1.isLoopback }.map { (listener: $0.0, address: $0.1) }
    }

    /// Every server, to run in one group.
    package var services: [any Service] { [grpc, http] + sinks.map(\.service) + [freedMemory] }

    /// Waits until every server listens, or names the first that cannot.
    package func listening() async throws(ListenFailure) -> Endpoints {
        let grpcAddress = try await Self.bound(grpc.boundAddress, .otlpGRPC, grpc.configuration.address)
        let httpAddress = try await Self.bound(http.boundAddress, .otlpHTTP, http.configuration.address)
        var sinkAddresses: [(kind: SinkKind, address: ListenAddress)] = []
        for sink in sinks {
            sinkAddresses.append((sink.kind, try await Self.bound(sink.boundAddress, .sink(sink.kind), sink.address)))
        }
        return Endpoints(grpc: grpcAddress, http: httpAddress, sinks: sinkAddresses)
    }

    private static func bound(_ bound: BoundAddress, _ listener: Listener, _ address: ListenAddress) async throws(ListenFailure) -> ListenAddress {
        do {
            return try await bound.value()
        } catch {
            throw ListenFailure(listener: listener, address: address, cause: error)
        }
    }
}
