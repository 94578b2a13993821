import OTelBenchProtos
import Scenario
import Telemetry
import Testing

/// The export ledger intake fills for the `retry` rule: exporters named from the request's own bytes, batches
/// told apart by digest, a batch sent again after success kept as evidence, and its bounds.
@Suite struct ExportLedgerTests {
    static func request(service: String?, instance: String? = nil, span: String) throws -> [UInt8] {
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        for (key, value) in [("service.name", service), ("service.instance.id", instance), ("host.name", "h")] {
            guard let value else { continue }
            var attribute = Opentelemetry_Proto_Common_V1_KeyValue()
            attribute.key = key
            attribute.value.stringValue = value
            resourceSpans.resource.attributes.append(attribute)
        }
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        var spanMessage = Opentelemetry_Proto_Trace_V1_Span()
        spanMessage.name = span
        scopeSpans.spans = [spanMessage]
        resourceSpans.scopeSpans = [scopeSpans]
        request.resourceSpans = [resourceSpans]
        return try request.serializedBytes()
    }

    @Test func identityComesFromTheRequestBytes() throws {
        let first = try Self.request(service: "billing", instance: "i-1", span: "a").withUnsafeBytes(ExportIdentity.init(protobuf:))
        #expect(first.service == "billing")
        #expect(first.instance == "i-1")
        let again = try Self.request(service: "billing", instance: "i-1", span: "a").withUnsafeBytes(ExportIdentity.init(protobuf:))
        let other = try Self.request(service: "billing", instance: "i-1", span: "b").withUnsafeBytes(ExportIdentity.init(protobuf:))
        #expect(again.digest == first.digest)
        #expect(other.digest != first.digest)
        let anonymous = try Self.request(service: nil, span: "a").withUnsafeBytes(ExportIdentity.init(protobuf:))
        #expect(anonymous.service == nil)
        let garbage = [UInt8](repeating: 0xff, count: 9).withUnsafeBytes(ExportIdentity.init(protobuf:))
        #expect(garbage.service == nil)

        let json = #"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]}}]}"#
        #expect(Array(json.utf8).withUnsafeBytes(ExportIdentity.init(json:)).service == "web")
    }

    @Test func keepsRefusedBatchesAndBatchesSentAgain() {
        let ledger = ExportLedger()
        let identity = ExportIdentity(service: "billing", instance: nil, digest: 1)
        ledger.record(identity, channel: .otlpGRPC, signal: .traces, answer: .accepted(code: "OK"))
        #expect(ledger.timelines.isEmpty, "nothing is kept before follow()")

        ledger.follow()
        let unavailable = ExportAnswer.grpc(code: 14, name: "UNAVAILABLE", retryInfo: nil)
        ledger.record(identity, channel: .otlpGRPC, signal: .traces, answer: .accepted(code: "OK"))
        ledger.record(ExportIdentity(service: "billing", instance: nil, digest: 2), channel: .otlpGRPC, signal: .traces, answer: unavailable)
        ledger.record(ExportIdentity(service: "billing", instance: nil, digest: 2), channel: .otlpGRPC, signal: .traces, answer: .accepted(code: "OK"))
        ledger.record(ExportIdentity(service: "billing", instance: nil, digest: 3), channel: .otlpGRPC, signal: .traces, answer: .accepted(code: "OK"))
        ledger.record(identity, channel: .otlpGRPC, signal: .traces, answer: .accepted(code: "OK"))

        let key = ExporterKey(service: "billing", channel: .otlpGRPC, signal: .traces)
        let timeline = ledger.timelines[key]
        #expect(ledger.timelines.count == 1)
        #expect(timeline?.acceptedFirstTime == 2)
        #expect(timeline?.attempts.map(\.batch) == [2, 2, 1, 1], "the refused batch, then batch 1's first success and its duplicate")
        #expect(timeline?.attempts.map(\.answer.outcome) == [.refused, .accepted, .accepted, .accepted])
    }

    @Test func timelinesAreBounded() {
        let ledger = ExportLedger()
        ledger.follow()
        let refused = ExportAnswer.http(status: 503, retryAfter: nil)
        for batch in 0..<UInt64(ExportLedger.attemptsPerExporter + 10) {
            ledger.record(ExportIdentity(service: "s", instance: nil, digest: batch), channel: .otlpHTTPProtobuf, signal: .logs, answer: refused)
        }
        let timeline = ledger.timelines.values.first
        #expect(timeline?.attempts.count == ExportLedger.attemptsPerExporter)
        #expect(timeline?.droppedAttempts == 10)
        for index in 0..<ExportLedger.maxExporters + 3 {
            ledger.record(ExportIdentity(service: "s\(index)", instance: nil, digest: 1), channel: .otlpHTTPProtobuf, signal: .logs, answer: refused)
        }
        #expect(ledger.timelines.count == ExportLedger.maxExporters)
        #expect(ledger.droppedExporterRequests == 4)
    }
}
