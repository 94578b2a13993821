import Scenario
import Telemetry

/// The pipeline as the OTLP receivers' callers name it (``OTLPHTTPReceiver``, ``OTLPGRPCReceiver``).
package typealias OTLPIngestor = Admission

extension Admission.Ticket {
    /// Settles the ticket of a decoded OTLP export request and answers it, on every OTLP protocol: validated and
    /// converted, stored with the invalid items counted as rejected, recorded as received; or, under a scripted
    /// partial success, every item refused and nothing stored.
    func answer<Request: OTLPExportRequest>(_ request: Request) -> Request.Response {
        let result = request.converted(channel: channel)
        if partialSuccess {
            let items = result.batch.itemCount + result.rejectedItems
            refuseItems(items)
            return Request.response(rejectedItems: items, errorMessage: FaultInjector.message)
        }
        accept(result.batch, rejectedItems: result.rejectedItems, recording: .original(request.recorded))
        return Request.response(rejectedItems: result.rejectedItems, errorMessage: result.errorMessage)
    }
}
