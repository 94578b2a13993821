import Foundation

/// The secret every request must carry (`Authorization: Bearer TOKEN` on HTTP, `authorization` metadata on
/// gRPC), read from a file so that it never appears on a command line. Compared in constant time; its
/// descriptions never show it, so that it cannot reach a log.
package struct BearerToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let bytes: [UInt8]

    /// The token in `path`: its first line, without surrounding white space.
    ///
    /// - Throws: ``ListenerSecurityError`` when the file cannot be read, is empty, or holds characters a header
    ///   cannot carry.
    package init(contentsOfFile path: String) throws(ListenerSecurityError) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ListenerSecurityError(file: .token, path: path, message: "cannot be read (missing, not readable or not UTF-8)")
        }
        let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty else {
            throw ListenerSecurityError(file: .token, path: path, message: "is empty: write the token on its first line")
        }
        // RFC 6750's b64token, and what else is visible ASCII: anything a header can carry without quoting.
        guard token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw ListenerSecurityError(file: .token, path: path, message: "holds spaces or characters outside visible ASCII, which a header cannot carry")
        }
        self.init(token)
    }

    /// A token given directly (tests).
    package init(_ token: String) { bytes = Array(token.utf8) }

    /// Why a request's credentials were not accepted.
    package enum Failure: Sendable, Hashable {
        /// No `Authorization` header (or metadata), or not the Bearer scheme.
        case missing
        /// A bearer token that is not this one.
        case mismatch
    }

    /// Checks an `Authorization` value (`Bearer TOKEN`, the scheme in any case); `nil` when it carries this token.
    package func check(authorization: String?) -> Failure? {
        guard let authorization else { return .missing }
        let trimmed = authorization.drop { $0 == " " }
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return .missing }
        let presented = Array(trimmed.dropFirst(7).drop { $0 == " " }.utf8)
        return Self.constantTimeEquals(presented, bytes) ? nil : .mismatch
    }

    /// Whether `presented` equals `expected`, in time that depends only on `expected`'s length (every byte is
    /// compared whatever differs first), so that the answer's timing tells nothing of the token.
    static func constantTimeEquals(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = presented.count == expected.count ? 0 : 1
        for index in expected.indices {
            difference |= expected[index] ^ (index < presented.count ? presented[index] : 0)
        }
        return difference == 0
    }

    package var description: String { "BearerToken(redacted)" }
    package var debugDescription: String { description }
    package var customMirror: Mirror { Mirror(self, children: []) }
}
