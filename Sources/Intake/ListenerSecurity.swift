package import Foundation
import GRPCNIOTransportHTTP2
package import NIOSSL
package import Scenario

/// What a listener asks of its clients beyond plain HTTP or gRPC: TLS (with client certificates when a client
/// CA is given) and a bearer token. Loaded once, at start, so that a bad file is found before anything listens.
///
/// ```swift
/// let security = try ListenerSecurity.load(tls: TLSFiles(certificate: "server.pem", key: "server.key"), tokenFile: "token")
/// let receiver = OTLPHTTPReceiver(configuration: .init(address: address, security: security), ingestor: admission)
/// ```
package struct ListenerSecurity: Sendable {
    /// The server's certificate and key; `nil`: plain text.
    package var tls: ServerTLS?
    /// The token every request must carry; `nil`: none asked for.
    package var token: BearerToken?
    /// How many connections each listener keeps and how long a client may take (`--max-connections`,
    /// `--idle-timeout`, `--header-timeout`, `--body-timeout`). Default ``ConnectionLimits/default``.
    package var connections: ConnectionLimits

    package init(tls: ServerTLS? = nil, token: BearerToken? = nil, connections: ConnectionLimits = .default) {
        self.tls = tls
        self.token = token
        self.connections = connections
    }

    /// Plain text, no token: the default, for loopback.
    package static let plaintext = ListenerSecurity()

    /// Whether a client must prove anything (TLS or a token): what makes binding beyond loopback acceptable.
    package var isProtected: Bool { tls != nil || token != nil }

    /// Reads and checks the files: PEM certificates and an unencrypted key that belong together, a non-empty token.
    ///
    /// - Throws: ``ListenerSecurityError`` naming the file, which of them it is, and what is wrong.
    package static func load(tls: TLSFiles?, tokenFile: String?) throws(ListenerSecurityError) -> ListenerSecurity {
        ListenerSecurity(tls: try tls.map(ServerTLS.init(files:)), token: try tokenFile.map(BearerToken.init(contentsOfFile:)))
    }
}

/// A file of ``ListenerSecurity`` that cannot be used.
package struct ListenerSecurityError: Error, Sendable, CustomStringConvertible {
    /// Which file it is, so that the caller can name its flag or scenario key.
    package enum File: Sendable, Hashable {
        case certificate, key, clientCA, token
    }

    package var file: File
    package var path: String
    /// What is wrong with it and what to do.
    package var message: String

    package var description: String { "\(path): \(message)" }
}

/// A server certificate chain and its private key, and the CA certificates client certificates must chain to
/// when given (mutual TLS: a client without a certificate is refused in the handshake).
package struct ServerTLS: Sendable {
    /// The files as PEM, for the gRPC transport, which loads its own.
    let certificatePEM: [UInt8]
    let keyPEM: [UInt8]
    let clientCAPEM: [UInt8]?
    /// The files' paths.
    package let files: TLSFiles
    /// When the leaf certificate stops being valid: clients refuse it after that.
    package let notValidAfter: Date

    /// Loads and checks the files.
    package init(files: TLSFiles) throws(ListenerSecurityError) {
        self.files = files
        certificatePEM = try Self.read(files.certificate, .certificate)
        keyPEM = try Self.read(files.key, .key)
        clientCAPEM = try files.clientCA.map { path throws(ListenerSecurityError) in try Self.read(path, .clientCA) }
        let chain = try Self.certificates(certificatePEM, files.certificate, .certificate)
        if let clientCAPEM { _ = try Self.certificates(clientCAPEM, files.clientCA ?? "", .clientCA) }
        do {
            _ = try NIOSSLPrivateKey(bytes: keyPEM, format: .pem)
        } catch {
            throw ListenerSecurityError(
                file: .key,
                path: files.key,
                message: "is not an unencrypted PEM private key (\(error)); an encrypted key can be decrypted with `openssl pkey -in KEY -out KEY.plain`"
            )
        }
        notValidAfter = Date(timeIntervalSince1970: TimeInterval(chain[0].notValidAfter))
        do {
            // BoringSSL checks here that the key is the certificate's.
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ListenerSecurityError(
                file: .key,
                path: files.key,
                message: "does not go with the certificate \(files.certificate) (\(error)): give the key the certificate was made for"
            )
        }
    }

    /// The server configuration for swift-nio-ssl (the HTTP servers).
    package var configuration: TLSConfiguration {
        // The PEM was parsed in init; parsing it again cannot fail.
        let chain = (try? NIOSSLCertificate.fromPEMBytes(certificatePEM)) ?? []
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey((try? NIOSSLPrivateKey(bytes: keyPEM, format: .pem))!)
        )
        if let clientCAPEM, let authorities = try? NIOSSLCertificate.fromPEMBytes(clientCAPEM) {
            configuration.trustRoots = .certificates(authorities)
            configuration.certificateVerification = .noHostnameVerification
        }
        return configuration
    }

    /// The same for grpc-swift-nio-transport's HTTP/2 server.
    var grpcTransportSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        .tls(
            HTTP2ServerTransport.Posix.TransportSecurity.TLS(
                certificateChain: [.bytes(certificatePEM, format: .pem)],
                privateKey: .bytes(keyPEM, format: .pem),
                clientCertificateVerification: clientCAPEM == nil ? .noVerification : .noHostnameVerification,
                trustRoots: clientCAPEM.map { .certificates([.bytes($0, format: .pem)]) } ?? .systemDefault,
                requireALPN: false
            )
        )
    }

    private static func read(_ path: String, _ file: ListenerSecurityError.File) throws(ListenerSecurityError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ListenerSecurityError(file: file, path: path, message: "cannot be read (missing or not readable)")
        }
        return Array(data)
    }

    private static func certificates(_ pem: [UInt8], _ path: String, _ file: ListenerSecurityError.File) throws(ListenerSecurityError) -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(pem)
        } catch {
            throw ListenerSecurityError(file: file, path: path, message: "is not a PEM certificate file (\(error))")
        }
        guard !certificates.isEmpty else {
            throw ListenerSecurityError(file: file, path: path, message: "holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }
}
