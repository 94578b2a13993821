package import Scenario

/// Where a receiver listens, the largest request it takes, and what it asks of clients (TLS, a token): what every
/// OTLP receiver and sink that reads request bodies is configured by. Each receiver's default is loopback on its
/// protocol's usual port, in plain text.
package struct ReceiverConfiguration: Sendable {
    /// Where to listen (`--otlp-grpc`, `--otlp-http`, `--jaeger-grpc`, ...).
    package var address: ListenAddress
    /// Largest request body or message accepted, after decompression. Default 64 MiB (`--max-request-bytes`).
    package var maxRequestBytes: Int
    /// TLS and the bearer token. Default plain text, no token (`--tls-cert`, `--tls-key`, `--tls-client-ca`,
    /// `--auth-token-file`).
    package var security: ListenerSecurity

    package init(address: ListenAddress, maxRequestBytes: Int = 64 << 20, security: ListenerSecurity = .plaintext) {
        self.address = address
        self.maxRequestBytes = maxRequestBytes
        self.security = security
    }

    /// 127.0.0.1 at `port`, with the default size limit.
    package static func loopback(port: Int) -> ReceiverConfiguration {
        ReceiverConfiguration(address: ListenAddress(host: "127.0.0.1", port: port))
    }
}
