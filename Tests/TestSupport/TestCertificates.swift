package import Foundation

/// Certificates made for one test with Debian's `openssl`: a CA, a server certificate for 127.0.0.1 and
/// localhost, an expired one for the same names, and a client certificate (all signed by the CA), each as PEM
/// files in a folder of the test's.
package struct TestCertificates: Sendable {
    package let folder: URL
    package var caCertificate: String { path("ca.pem") }
    package var serverCertificate: String { path("server.pem") }
    package var serverKey: String { path("server.key") }
    /// Valid from 2020-01-01 to 2020-01-02 only.
    package var expiredCertificate: String { path("expired.pem") }
    package var clientCertificate: String { path("client.pem") }
    package var clientKey: String { path("client.key") }

    package func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Makes every certificate in `folder` (which must exist).
    package static func make(in folder: URL) async throws -> TestCertificates {
        let certificates = TestCertificates(folder: folder)
        let openssl = try requirePeer(["/usr/bin/openssl", "/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/openssl")
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        let san = "subjectAltName=IP:127.0.0.1,DNS:localhost"
        try "\(san)\n".write(toFile: certificates.path("server.ext"), atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: certificates.path("client.ext"), atomically: true, encoding: .utf8)
        // `openssl ca` is what can set a start and an end date in the past (OpenSSL 3.0's req and x509 cannot).
        let database = folder.appendingPathComponent("ca-db")
        try FileManager.default.createDirectory(at: database, withIntermediateDirectories: true)
        try "".write(to: database.appendingPathComponent("index.txt"), atomically: true, encoding: .utf8)
        try "1000\n".write(to: database.appendingPathComponent("serial"), atomically: true, encoding: .utf8)
        let configuration = """
            [ca]
            default_ca = test
            [test]
            database = \(database.path)/index.txt
            new_certs_dir = \(database.path)
            serial = \(database.path)/serial
            default_md = sha256
            policy = any
            copy_extensions = copy
            [any]
            commonName = supplied

            """
        try configuration.write(toFile: certificates.path("ca.cnf"), atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509"] + key + [
                "-keyout", certificates.path("ca.key"), "-out", certificates.caCertificate, "-days", "2", "-subj", "/CN=otelbench test CA",
            ],
            ["req"] + key + ["-keyout", certificates.serverKey, "-out", certificates.path("server.csr"), "-subj", "/CN=localhost", "-addext", san],
            [
                "x509", "-req", "-in", certificates.path("server.csr"), "-CA", certificates.caCertificate, "-CAkey", certificates.path("ca.key"),
                "-CAcreateserial", "-out", certificates.serverCertificate, "-days", "2", "-extfile", certificates.path("server.ext"),
            ],
            [
                "ca", "-batch", "-config", certificates.path("ca.cnf"), "-cert", certificates.caCertificate, "-keyfile", certificates.path("ca.key"),
                "-in", certificates.path("server.csr"), "-out", certificates.expiredCertificate, "-startdate", "20200101000000Z", "-enddate",
                "20200102000000Z",
            ],
            ["req"] + key + ["-keyout", certificates.clientKey, "-out", certificates.path("client.csr"), "-subj", "/CN=otelbench test client"],
            [
                "x509", "-req", "-in", certificates.path("client.csr"), "-CA", certificates.caCertificate, "-CAkey", certificates.path("ca.key"),
                "-CAcreateserial", "-out", certificates.clientCertificate, "-days", "2", "-extfile", certificates.path("client.ext"),
            ],
        ]
        for step in steps {
            let outcome = try await runProcess(URL(fileURLWithPath: openssl), step, timeout: .seconds(30))
            guard outcome.status == 0 else { throw CertificateFailure(command: "openssl \(step.joined(separator: " "))", output: outcome.output) }
        }
        return certificates
    }

    /// An `openssl` step that failed.
    package struct CertificateFailure: Error, CustomStringConvertible {
        package var command: String
        package var output: String
        package var description: String { "\(command) failed: \(output)" }
    }
}
