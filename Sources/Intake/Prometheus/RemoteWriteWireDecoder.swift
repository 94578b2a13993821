import Telemetry

/// A remote-write `prometheus.WriteRequest` as read from the wire: each series' labels as byte ranges of the
/// request's body and its samples as values, the metadata's metric family names as byte ranges; nothing else
/// is built. ``RemoteWriteLedger`` checks and stores it.
///
/// It keeps the body it was read from, so that the ranges stay valid for as long as the request does.
struct RemoteWriteRequest: Sendable {
    /// A label: where its name and value lie in ``body`` (an absent field is an empty range).
    struct Label: Sendable {
        var name: Range<Int> = 0..<0
        var value: Range<Int> = 0..<0
    }

    /// A sample (protobuf's last value wins when a field is sent twice; an absent field is 0).
    struct Sample: Sendable {
        var timestamp: Int64 = 0
        var value: Double = 0
    }

    /// A series: its labels in ``labels`` and its samples in ``samples``, in the order they came.
    struct Series: Sendable {
        var labels: Range<Int>
        var samples: Range<Int>
    }

    /// The decompressed body the ranges point into.
    let body: [UInt8]
    var series: [Series] = []
    /// The labels of every series, series after series.
    var labels: [Label] = []
    /// The samples of every series, series after series.
    var samples: [Sample] = []
    /// Each metadata entry's `metric_family_name`.
    var metadataNames: [Range<Int>] = []

    init(body: [UInt8]) { self.body = body }

    /// The text at `range` of the body (valid UTF-8: the decoder checked it).
    func string(_ range: Range<Int>) -> String { String(decoding: body[range], as: UTF8.self) }
}

/// Reads the bytes of a Prometheus remote-write `WriteRequest` (after snappy) into a ``RemoteWriteRequest``,
/// reading the protobuf wire format with ``ProtobufWireReader`` instead of building the generated messages.
///
/// Why: the generated decoder builds a `TimeSeries`, a `Label` (two `String`s) and a `Sample` message for every
/// series, and the ledger then hashed those messages (through swift-protobuf's hash visitor) to find each
/// series' last sample; that was most of a request's cost. This decoder builds no message and no string: labels
/// are byte ranges of the body, which the ledger checks byte-wise and turns into its own compact key; strings are
/// made only for a series seen the first time (the store's key) and for refusals' messages.
///
/// It accepts and refuses exactly the bytes `Prometheus_WriteRequest(serializedBytes:)` accepts and refuses: every
/// field of the schema (`TimeSeries.labels`, `.samples`, `.exemplars` and their labels; `MetricMetadata`'s type,
/// family name, help and unit) is read as the generated code reads it, strings checked for UTF-8 even where they
/// are not kept (exemplar labels, help, unit), a known field with another wire type skipped as unknown, a scalar
/// sent twice keeping its last value, unknown fields and groups checked and skipped, nesting limited to 100.
///
/// ```swift
/// let request = try RemoteWriteWireDecoder.decode(body)
/// try ledger.apply(request) { batch in ticket.accept(batch, recording: .converted) }
/// ```
enum RemoteWriteWireDecoder {
    private typealias Reader = ProtobufWireReader

    /// Decodes `body` (an empty body is an empty request).
    ///
    /// - Throws: ``ProtobufWireError`` when the bytes are not a valid protobuf `WriteRequest`.
    static func decode(_ body: [UInt8]) throws(ProtobufWireError) -> RemoteWriteRequest {
        var request = RemoteWriteRequest(body: body)
        let result = body.withUnsafeBytes { bytes in
            Result { () throws(ProtobufWireError) in try writeRequest(bytes, into: &request) }
        }
        try result.get()
        return request
    }

    /// `WriteRequest`: `timeseries` (1) and `metadata` (3).
    private static func writeRequest(_ bytes: UnsafeRawBufferPointer, into request: inout RemoteWriteRequest) throws(ProtobufWireError) {
        guard !bytes.isEmpty else { return }
        var reader = Reader(bytes)
        try reader.enterOutermostMessage()
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited):
                if request.series.isEmpty {
                    let count = reader.countLengthDelimitedFields(from: 1)
                    request.series.reserveCapacity(count)
                    request.samples.reserveCapacity(count)
                }
                let outer = try reader.enterMessage()
                try timeSeries(&reader, into: &request)
                reader.leaveMessage(restoring: outer)
            case (3, .lengthDelimited):
                let outer = try reader.enterMessage()
                request.metadataNames.append(try metricMetadata(&reader))
                reader.leaveMessage(restoring: outer)
            default: try reader.skipField(tag)
            }
        }
    }

    /// `TimeSeries`: `labels` (1), `samples` (2) and `exemplars` (3, checked, not kept).
    private static func timeSeries(_ reader: inout Reader, into request: inout RemoteWriteRequest) throws(ProtobufWireError) {
        let firstLabel = request.labels.count
        let firstSample = request.samples.count
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited):
                let outer = try reader.enterMessage()
                request.labels.append(try label(&reader))
                reader.leaveMessage(restoring: outer)
            case (2, .lengthDelimited):
                let outer = try reader.enterMessage()
                request.samples.append(try sample(&reader))
                reader.leaveMessage(restoring: outer)
            case (3, .lengthDelimited):
                let outer = try reader.enterMessage()
                try exemplar(&reader)
                reader.leaveMessage(restoring: outer)
            default: try reader.skipField(tag)
            }
        }
        request.series.append(RemoteWriteRequest.Series(labels: firstLabel..<request.labels.count, samples: firstSample..<request.samples.count))
    }

    /// `Label`: `name` (1) and `value` (2).
    @inline(__always)
    private static func label(_ reader: inout Reader) throws(ProtobufWireError) -> RemoteWriteRequest.Label {
        var label = RemoteWriteRequest.Label()
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited): label.name = try text(&reader)
            case (2, .lengthDelimited): label.value = try text(&reader)
            default: try reader.skipField(tag)
            }
        }
        return label
    }

    /// `Sample`: `value` (1, a double) and `timestamp` (2, an int64 in ms).
    @inline(__always)
    private static func sample(_ reader: inout Reader) throws(ProtobufWireError) -> RemoteWriteRequest.Sample {
        var sample = RemoteWriteRequest.Sample()
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .fixed64): sample.value = Double(bitPattern: try reader.readFixed64())
            case (2, .varint): sample.timestamp = Int64(bitPattern: try reader.readVarint())
            default: try reader.skipField(tag)
            }
        }
        return sample
    }

    /// `Exemplar`: `labels` (1), `value` (2), `timestamp` (3); read as the generated code reads them, not kept.
    private static func exemplar(_ reader: inout Reader) throws(ProtobufWireError) {
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited):
                let outer = try reader.enterMessage()
                _ = try label(&reader)
                reader.leaveMessage(restoring: outer)
            case (2, .fixed64): _ = try reader.readFixed64()
            case (3, .varint): _ = try reader.readVarint()
            default: try reader.skipField(tag)
            }
        }
    }

    /// `MetricMetadata`: `type` (1), `metric_family_name` (2, returned), `help` (4) and `unit` (5).
    private static func metricMetadata(_ reader: inout Reader) throws(ProtobufWireError) -> Range<Int> {
        var name = 0..<0
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .varint): _ = try reader.readVarint()
            case (2, .lengthDelimited): name = try text(&reader)
            case (4, .lengthDelimited), (5, .lengthDelimited): _ = try text(&reader)
            default: try reader.skipField(tag)
            }
        }
        return name
    }

    /// A string field: where it lies in the body, once checked for UTF-8 (as swift-protobuf checks every string).
    @inline(__always)
    private static func text(_ reader: inout Reader) throws(ProtobufWireError) -> Range<Int> {
        let start = reader.position
        let body = try reader.readLengthDelimited()
        guard isValidUTF8(body) else { throw ProtobufWireError(.invalidUTF8, at: start) }
        return reader.position - body.count..<reader.position
    }

    /// Whether `bytes` are valid UTF-8: ASCII (nearly every label) checked 8 bytes at a time, anything else by
    /// the standard library, as ``ProtobufWireReader/readString()`` checks it.
    @inline(__always)
    private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        ProtobufWireReader.isASCII(bytes) || String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) != nil
    }
}
