import Foundation
package import NIOSSL

/// Certificate authorities the driver trusts for `https` targets besides the system's (`--target-ca`): staging
/// behind a company CA, or a test CA.
///
/// ```swift
/// let trust = try TargetTrust(pemFile: "staging-ca.pem")
/// let driver = WorkloadDriver(workload: workload, targets: ["tasks": "https://staging.example.com"], trust: trust)
/// ```
package struct TargetTrust: Sendable {
    /// The CA certificates, as read from the file.
    package let certificates: [NIOSSLCertificate]
    /// The file they came from.
    package let path: String

    /// Reads the PEM certificates in `path`.
    ///
    /// - Throws: ``TargetTrustError`` when the file cannot be read or holds no PEM certificate.
    package init(pemFile path: String) throws(TargetTrustError) {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TargetTrustError(message: "\(path) cannot be read (missing or not readable)")
        }
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(data))
        } catch {
            throw TargetTrustError(message: "\(path) is not a PEM certificate file (\(error))")
        }
        guard !certificates.isEmpty else { throw TargetTrustError(message: "\(path) holds no PEM certificate (-----BEGIN CERTIFICATE-----)") }
    }

    /// A client configuration that trusts these CAs as well as the system's; host names are verified as usual.
    package var clientConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.additionalTrustRoots = [.certificates(certificates)]
        return configuration
    }
}

/// A `--target-ca` file that cannot be used.
package struct TargetTrustError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
