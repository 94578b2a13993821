package import Hummingbird

/// Read endpoints served on a receiver's own address, as Prometheus serves its query API beside remote write.
/// The receiver answers the paths it owns and hands every path the read API ``serves(_:)`` to it.
package protocol ReadAPI: Sendable {
    /// Whether `path` is one of the read API's.
    func serves(_ path: String) -> Bool
    /// Answers a request for one of its paths.
    func respond(to request: Request) async throws -> Response
}
