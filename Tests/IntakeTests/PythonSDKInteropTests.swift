import Foundation
import Intake
import Telemetry
import TestSupport
import Testing

/// The real OpenTelemetry Python SDK and its OTLP exporters send to our receivers; what arrives is compared
/// field by field with the manifest of what the SDK sent (Tests/Interop/otlp_export.py).
@Suite(.serialized) struct PythonSDKInteropTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var protocolName: String
        var compression: String
        var testDescription: String { "\(protocolName) \(compression)" }
    }

    static let cases = [
        Case(protocolName: "grpc", compression: "none"), Case(protocolName: "grpc", compression: "gzip"),
        Case(protocolName: "http", compression: "none"), Case(protocolName: "http", compression: "gzip"),
    ]

    @Test(arguments: cases)
    func everyFieldArrivesAsSent(_ testCase: Case) async throws {
        let python = try testVenvPython()
        let manifestURL = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-manifest-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: manifestURL) }
        try await withIntake { intake in
            let endpoint = testCase.protocolName == "grpc" ? "127.0.0.1:\(intake.grpcPort)" : "http://127.0.0.1:\(intake.httpPort)"
            let result = try await runProcess(
                python,
                [
                    repositoryRoot.appendingPathComponent("Tests/Interop/otlp_export.py").path,
                    "--protocol", testCase.protocolName, "--endpoint", endpoint,
                    "--manifest", manifestURL.path, "--compression", testCase.compression, "--timeout", "15",
                ]
            )
            try #require(result.status == 0, "exporter failed: \(result.stderr)")
            let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: manifestURL))
            let expectedChannel: IntakeChannel = testCase.protocolName == "grpc" ? .otlpGRPC : .otlpHTTPProtobuf
            compareSpans(manifest, intake.store.spans, channel: expectedChannel)
            compareMetrics(manifest, intake.store.series)
            compareLogs(manifest, intake.store.logs)
        }
    }

    private func compareSpans(_ manifest: Manifest, _ stored: [Span], channel: IntakeChannel) {
        #expect(stored.count == manifest.spans.count)
        for sent in manifest.spans {
            guard let span = stored.first(where: { $0.spanID.hex == sent.span_id }) else {
                Issue.record("span \(sent.name) \(sent.span_id) did not arrive")
                continue
            }
            #expect(span.traceID.hex == sent.trace_id)
            #expect(span.parentSpanID?.hex ?? "" == sent.parent_span_id, "\(sent.name)")
            #expect(span.name == sent.name)
            #expect(span.kind.rawValue == sent.kind)
            #expect(span.startTimeUnixNano == sent.start_time_unix_nano)
            #expect(span.endTimeUnixNano == sent.end_time_unix_nano)
            #expect(span.attributes == sent.attributes.converted, "\(sent.name) attributes")
            #expect(span.events.map(\.name) == sent.events.map(\.name))
            for (event, sentEvent) in zip(span.events, sent.events) {
                #expect(event.timeUnixNano == sentEvent.time_unix_nano)
                #expect(event.attributes == sentEvent.attributes.converted, "\(sent.name) event \(sentEvent.name)")
            }
            #expect(span.links.count == sent.links.count)
            for (link, sentLink) in zip(span.links, sent.links) {
                #expect(link.traceID.hex == sentLink.trace_id)
                #expect(link.spanID.hex == sentLink.span_id)
                #expect(link.traceState == sentLink.trace_state)
                #expect(link.attributes == sentLink.attributes.converted)
            }
            #expect(span.status.code.rawValue == sent.status.code)
            #expect(span.status.message == sent.status.message)
            #expect(span.traceState == sent.trace_state)
            #expect(span.flags == sent.flags)
            #expect(span.scope.name == sent.scope.name)
            #expect(span.scope.version == sent.scope.version)
            #expect(span.scope.attributes == sent.scope.attributes.converted)
            #expect(span.resource.attributes == manifest.resource.attributes.converted)
            #expect(span.channel == channel)
        }
    }

    private func compareMetrics(_ manifest: Manifest, _ stored: [MetricSeries]) {
        #expect(Set(stored.map(\.name)) == Set(manifest.metrics.map(\.name)))
        for metric in manifest.metrics {
            for point in metric.data_points {
                guard let series = stored.first(where: { $0.name == metric.name && $0.key.attributes == point.attributes.converted }) else {
                    Issue.record("series \(metric.name) \(point.attributes.converted) did not arrive")
                    continue
                }
                #expect(series.unit == metric.unit)
                #expect(series.description == metric.description)
                #expect(series.key.resource.attributes == manifest.resource.attributes.converted)
                #expect(series.scope.name == metric.scope.name)
                switch (metric.type, series.kind, series.points.last) {
                case ("histogram", .histogram(let temporality), .histogram(let stored)):
                    #expect(temporality.rawValue == metric.aggregation_temporality)
                    #expect(stored.count == point.count)
                    #expect(stored.sum == point.sum)
                    #expect(stored.min == point.min)
                    #expect(stored.max == point.max)
                    #expect(stored.bucketCounts == point.bucket_counts)
                    #expect(stored.explicitBounds == point.explicit_bounds)
                case ("sum", .sum(let isMonotonic, let temporality), .number(let stored)):
                    #expect(isMonotonic == metric.is_monotonic)
                    #expect(temporality.rawValue == metric.aggregation_temporality)
                    #expect(stored.value == point.numberValue)
                case ("gauge", .gauge, .number(let stored)):
                    #expect(stored.value == point.numberValue)
                default:
                    Issue.record("\(metric.name): sent a \(metric.type), stored \(series.kind) with \(String(describing: series.points.last))")
                }
            }
        }
    }

    private func compareLogs(_ manifest: Manifest, _ stored: [LogRecord]) {
        #expect(stored.count == manifest.logs.count)
        for sent in manifest.logs {
            guard let record = stored.first(where: { $0.body == .string(sent.body.value) }) else {
                Issue.record("log record \(sent.body.value) did not arrive")
                continue
            }
            #expect(record.timeUnixNano == sent.time_unix_nano)
            #expect(record.observedTimeUnixNano == sent.observed_time_unix_nano)
            #expect(record.severityNumber == sent.severity_number)
            #expect(record.severityText == sent.severity_text)
            #expect(record.attributes == sent.attributes.converted)
            #expect(record.traceID?.hex ?? "" == sent.trace_id)
            #expect(record.spanID?.hex ?? "" == sent.span_id)
            #expect(record.flags == sent.flags)
            #expect(record.eventName == sent.event_name)
            #expect(record.resource.attributes == manifest.resource.attributes.converted)
        }
    }
}

// MARK: The manifest's shape (see the docstring of Tests/Interop/otlp_export.py)

// swiftlint:disable identifier_name
private struct Manifest: Decodable {
    var resource: ResourceEntry
    var spans: [SpanEntry]
    var metrics: [MetricEntry]
    var logs: [LogEntry]
}

private struct ResourceEntry: Decodable { var attributes: ManifestAttributes }

private struct ScopeEntry: Decodable {
    var name: String
    var version: String
    var attributes: ManifestAttributes
}

private struct SpanEntry: Decodable {
    struct Event: Decodable {
        var name: String
        var time_unix_nano: UInt64
        var attributes: ManifestAttributes
    }
    struct Link: Decodable {
        var trace_id: String
        var span_id: String
        var trace_state: String
        var attributes: ManifestAttributes
    }
    struct Status: Decodable {
        var code: Int
        var message: String
    }
    var trace_id: String
    var span_id: String
    var parent_span_id: String
    var name: String
    var kind: Int
    var start_time_unix_nano: UInt64
    var end_time_unix_nano: UInt64
    var attributes: ManifestAttributes
    var events: [Event]
    var links: [Link]
    var status: Status
    var trace_state: String
    var flags: UInt32
    var scope: ScopeEntry
}

private struct MetricEntry: Decodable {
    struct Point: Decodable {
        var attributes: ManifestAttributes
        var count: UInt64?
        var sum: Double?
        var min: Double?
        var max: Double?
        var bucket_counts: [UInt64]?
        var explicit_bounds: [Double]?
        var value_type: String?
        var intValue: Int64?
        var doubleValue: Double?

        enum CodingKeys: String, CodingKey {
            case attributes, count, sum, min, max, bucket_counts, explicit_bounds, value_type, value
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            attributes = try container.decode(ManifestAttributes.self, forKey: .attributes)
            count = try container.decodeIfPresent(UInt64.self, forKey: .count)
            sum = try container.decodeIfPresent(Double.self, forKey: .sum)
            min = try container.decodeIfPresent(Double.self, forKey: .min)
            max = try container.decodeIfPresent(Double.self, forKey: .max)
            bucket_counts = try container.decodeIfPresent([UInt64].self, forKey: .bucket_counts)
            explicit_bounds = try container.decodeIfPresent([Double].self, forKey: .explicit_bounds)
            value_type = try container.decodeIfPresent(String.self, forKey: .value_type)
            if value_type == "int" { intValue = try container.decode(Int64.self, forKey: .value) }
            if value_type == "double" { doubleValue = try container.decode(Double.self, forKey: .value) }
        }

        var numberValue: NumberValue? {
            if let intValue { return .int(intValue) }
            if let doubleValue { return .double(doubleValue) }
            return nil
        }
    }
    var name: String
    var unit: String
    var description: String
    var type: String
    var aggregation_temporality: Int?
    var is_monotonic: Bool?
    var scope: ScopeEntry
    var data_points: [Point]
}

private struct LogEntry: Decodable {
    struct Body: Decodable { var value: String }
    var time_unix_nano: UInt64
    var observed_time_unix_nano: UInt64
    var severity_number: Int
    var severity_text: String
    var body: Body
    var attributes: ManifestAttributes
    var trace_id: String
    var span_id: String
    var flags: UInt32
    var event_name: String
}

/// `{key: {"type": ..., "value": ...}}` as the manifest writes attributes.
private struct ManifestAttributes: Decodable {
    var converted: Attributes

    init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: TypedValue].self)
        converted = raw.mapValues(\.value)
    }

    struct TypedValue: Decodable {
        var value: AttributeValue

        enum CodingKeys: String, CodingKey { case type, element_type, value }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let type = try container.decode(String.self, forKey: .type)
            if type == "array" {
                let elementType = try container.decode(String.self, forKey: .element_type)
                var elements = try container.nestedUnkeyedContainer(forKey: .value)
                var values: [AttributeValue] = []
                while !elements.isAtEnd { values.append(try Self.scalar(elementType, from: &elements)) }
                value = .array(values)
            } else {
                value = try Self.scalar(type, container: container)
            }
        }

        private static func scalar(_ type: String, container: KeyedDecodingContainer<CodingKeys>) throws -> AttributeValue {
            switch type {
            case "string": .string(try container.decode(String.self, forKey: .value))
            case "bool": .bool(try container.decode(Bool.self, forKey: .value))
            case "int": .int(try container.decode(Int64.self, forKey: .value))
            default: .double(try container.decode(Double.self, forKey: .value))
            }
        }

        private static func scalar(_ type: String, from container: inout any UnkeyedDecodingContainer) throws -> AttributeValue {
            switch type {
            case "string": .string(try container.decode(String.self))
            case "bool": .bool(try container.decode(Bool.self))
            case "int": .int(try container.decode(Int64.self))
            default: .double(try container.decode(Double.self))
            }
        }
    }
}
// swiftlint:enable identifier_name
