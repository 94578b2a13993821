import OTelBenchProtos
import Scenario
import Telemetry

/// The pipeline as the OTLP receivers' callers name it (``OTLPHTTPReceiver``, ``OTLPGRPCReceiver``).
package typealias OTLPIngestor = Admission

extension Admission.Ticket {
    /// Settles the ticket of a decoded OTLP export request and answers it, on every OTLP protocol: validated and
    /// converted, stored with the invalid items counted as rejected, recorded as received; or, under a scripted
    /// partial success, every item refused and nothing stored. `protobuf` gives the bytes the request was decoded
    /// from, when the receiver has them: the recording then writes those rather than encoding the message again.
    func answer<Request: OTLPExportRequest>(_ request: Request, protobuf: (@Sendable () -> [UInt8])? = nil) -> Request.Response {
        let recording: Recording =
            if let protobuf { .protobuf(Request.signal, bytes: protobuf, decoded: request.recorded) } else { .original(request.recorded) }
        return answer(request.converted(channel: channel), recording: recording, responding: Request.response)
    }

    /// Settles the ticket of an `ExportTraceServiceRequest` that ``OTLPTraceWireDecoder`` converted from its bytes,
    /// as ``answer(_:)`` does; `received` gives the bytes, asked only when a recording is being written (which
    /// records them without decoding them again).
    func answerTraces(
        _ converted: ConversionResult,
        received: @escaping @Sendable () -> [UInt8]
    ) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse {
        answer(
            converted,
            recording: .protobuf(.traces, bytes: received, decoded: nil),
            responding: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest.response
        )
    }

    private func answer<Response>(
        _ result: ConversionResult,
        recording: Recording,
        responding response: (_ rejectedItems: Int, _ errorMessage: String) -> Response
    ) -> Response {
        if partialSuccess {
            let items = result.batch.itemCount + result.rejectedItems
            refuseItems(items)
            return response(items, FaultInjector.message)
        }
        accept(result.batch, rejectedItems: result.rejectedItems, recording: recording)
        return response(result.rejectedItems, result.errorMessage)
    }
}
