import NIOCore
package import Scenario
package import Telemetry

extension Admission {
    /// Whether a receiver should read the ``ExportIdentity`` of its OTLP requests: while a `retry` rule follows the
    /// store's ``ExportLedger``, or when a scripted fault applies to one service only.
    package var wantsExportIdentity: Bool { store.exports.isFollowing || faults?.targetsServices == true }

    /// The exporter and batch of an OTLP request body (decompressed), when ``wantsExportIdentity``.
    func exportIdentity(of body: ByteBuffer, json: Bool) -> ExportIdentity? {
        guard wantsExportIdentity else { return nil }
        return body.withUnsafeReadableBytes { json ? ExportIdentity(json: $0) : ExportIdentity(protobuf: $0) }
    }

    /// Admits the request as ``admitOnce(_:on:bytes:wireBytes:partialSuccess:service:_:)`` does and records the answer,
    /// accepted, a partial success or the refusal, in the store's ``ExportLedger``.
    func admitRecording<Result>(
        _ export: ExportIdentity,
        _ signal: Signal,
        on channel: IntakeChannel,
        bytes: Int,
        wireBytes: Int?,
        partialSuccess: Bool,
        reservation: Reservation? = nil,
        _ body: (Ticket) async throws(Refusal) -> Result
    ) async throws(Refusal) -> Result {
        var answeredPartialSuccess = false
        do throws(Refusal) {
            let result = try await admitOnce(
                signal,
                on: channel,
                bytes: bytes,
                wireBytes: wireBytes,
                partialSuccess: partialSuccess,
                service: export.service,
                reservation: reservation
            ) {
                ticket throws(Refusal) in
                answeredPartialSuccess = ticket.partialSuccess
                return try await body(ticket)
            }
            let code = channel == .otlpGRPC ? "OK" : "200"
            let answer: ExportAnswer = answeredPartialSuccess ? .partialSuccess(code: code) : .accepted(code: code)
            store.exports.record(export, channel: channel, signal: signal, answer: answer)
            return result
        } catch {
            store.exports.record(export, channel: channel, signal: signal, answer: error.exportAnswer(on: channel))
            throw error
        }
    }
}
