package import Scenario

/// Where a receiver listens and the largest request it takes: what every OTLP receiver and sink that reads
/// request bodies is configured by. Each receiver's default is loopback on its protocol's usual port.
package struct ReceiverConfiguration: Sendable, Hashable {
    /// Where to listen (`--otlp-grpc`, `--otlp-http`, `--jaeger-grpc`, ...).
    package var address: ListenAddress
    /// Largest request body or message accepted, after decompression. Default 64 MiB (`--max-request-bytes`).
    package var maxRequestBytes: Int

    package init(address: ListenAddress, maxRequestBytes: Int = 64 << 20) {
        self.address = address
        self.maxRequestBytes = maxRequestBytes
    }

    /// 127.0.0.1 at `port`, with the default size limit.
    package static func loopback(port: Int) -> ReceiverConfiguration {
        ReceiverConfiguration(address: ListenAddress(host: "127.0.0.1", port: port))
    }
}
