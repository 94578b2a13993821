/// Writes the Thrift binary protocol, for building jaeger.thrift bodies in tests (the reader under test
/// never sees this code).
package struct ThriftWriter {
    package private(set) var bytes: [UInt8] = []

    package init() {}

    package mutating func fieldHeader(_ type: UInt8, _ id: Int16) {
        bytes.append(type)
        i16(id)
    }

    package mutating func stop() { bytes.append(0) }

    package mutating func raw(_ byte: UInt8) { bytes.append(byte) }

    package mutating func i16(_ value: Int16) { append(UInt64(UInt16(bitPattern: value)), count: 2) }
    package mutating func i32(_ value: Int32) { append(UInt64(UInt32(bitPattern: value)), count: 4) }
    package mutating func i64(_ value: Int64) { append(UInt64(bitPattern: value), count: 8) }
    package mutating func double(_ value: Double) { append(value.bitPattern, count: 8) }
    package mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    package mutating func string(_ value: String) { binary(Array(value.utf8)) }

    package mutating func binary(_ value: [UInt8]) {
        i32(Int32(value.count))
        bytes += value
    }

    package mutating func listHeader(_ elementType: UInt8, count: Int) {
        bytes.append(elementType)
        i32(Int32(count))
    }

    private mutating func append(_ value: UInt64, count: Int) {
        for index in (0..<count).reversed() { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }
}

/// Thrift wire types.
package enum TType {
    package static let bool: UInt8 = 2
    package static let double: UInt8 = 4
    package static let i32: UInt8 = 8
    package static let i64: UInt8 = 10
    package static let string: UInt8 = 11
    package static let `struct`: UInt8 = 12
    package static let map: UInt8 = 13
    package static let list: UInt8 = 15
}

/// A jaeger.thrift tag value.
package enum ThriftTagValue {
    case string(String)
    case double(Double)
    case bool(Bool)
    case long(Int64)
    case binary([UInt8])
}

/// A jaeger.thrift span to encode.
package struct ThriftSpan {
    package var traceIDHigh: Int64
    package var traceIDLow: Int64
    package var spanID: Int64
    package var parentSpanID: Int64 = 0
    package var operationName: String
    package var references: [(type: Int32, high: Int64, low: Int64, spanID: Int64)] = []
    package var flags: Int32 = 1
    package var startTimeMicros: Int64
    package var durationMicros: Int64
    package var tags: [(String, ThriftTagValue)] = []
    package var logs: [(timestampMicros: Int64, fields: [(String, ThriftTagValue)])] = []

    package init(
        traceIDHigh: Int64,
        traceIDLow: Int64,
        spanID: Int64,
        parentSpanID: Int64 = 0,
        operationName: String,
        references: [(type: Int32, high: Int64, low: Int64, spanID: Int64)] = [],
        flags: Int32 = 1,
        startTimeMicros: Int64,
        durationMicros: Int64,
        tags: [(String, ThriftTagValue)] = [],
        logs: [(timestampMicros: Int64, fields: [(String, ThriftTagValue)])] = []
    ) {
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.operationName = operationName
        self.references = references
        self.flags = flags
        self.startTimeMicros = startTimeMicros
        self.durationMicros = durationMicros
        self.tags = tags
        self.logs = logs
    }
}

/// Encodes a jaeger.thrift Batch as the Python and Go clients do.
package func encodeThriftBatch(serviceName: String, processTags: [(String, ThriftTagValue)] = [], spans: [ThriftSpan], seqNo: Int64? = 7) -> [UInt8] {
    var writer = ThriftWriter()
    func tags(_ tags: [(String, ThriftTagValue)], into writer: inout ThriftWriter) {
        writer.listHeader(TType.struct, count: tags.count)
        for (key, value) in tags {
            writer.fieldHeader(TType.string, 1)
            writer.string(key)
            writer.fieldHeader(TType.i32, 2)
            switch value {
            case .string(let text):
                writer.i32(0)
                writer.fieldHeader(TType.string, 3)
                writer.string(text)
            case .double(let number):
                writer.i32(1)
                writer.fieldHeader(TType.double, 4)
                writer.double(number)
            case .bool(let flag):
                writer.i32(2)
                writer.fieldHeader(TType.bool, 5)
                writer.bool(flag)
            case .long(let number):
                writer.i32(3)
                writer.fieldHeader(TType.i64, 6)
                writer.i64(number)
            case .binary(let bytes):
                writer.i32(4)
                writer.fieldHeader(TType.string, 7)
                writer.binary(bytes)
            }
            writer.stop()
        }
    }
    writer.fieldHeader(TType.struct, 1)
    writer.fieldHeader(TType.string, 1)
    writer.string(serviceName)
    writer.fieldHeader(TType.list, 2)
    tags(processTags, into: &writer)
    writer.stop()
    writer.fieldHeader(TType.list, 2)
    writer.listHeader(TType.struct, count: spans.count)
    for span in spans {
        writer.fieldHeader(TType.i64, 1)
        writer.i64(span.traceIDLow)
        writer.fieldHeader(TType.i64, 2)
        writer.i64(span.traceIDHigh)
        writer.fieldHeader(TType.i64, 3)
        writer.i64(span.spanID)
        writer.fieldHeader(TType.i64, 4)
        writer.i64(span.parentSpanID)
        writer.fieldHeader(TType.string, 5)
        writer.string(span.operationName)
        if !span.references.isEmpty {
            writer.fieldHeader(TType.list, 6)
            writer.listHeader(TType.struct, count: span.references.count)
            for reference in span.references {
                writer.fieldHeader(TType.i32, 1)
                writer.i32(reference.type)
                writer.fieldHeader(TType.i64, 2)
                writer.i64(reference.low)
                writer.fieldHeader(TType.i64, 3)
                writer.i64(reference.high)
                writer.fieldHeader(TType.i64, 4)
                writer.i64(reference.spanID)
                writer.stop()
            }
        }
        writer.fieldHeader(TType.i32, 7)
        writer.i32(span.flags)
        writer.fieldHeader(TType.i64, 8)
        writer.i64(span.startTimeMicros)
        writer.fieldHeader(TType.i64, 9)
        writer.i64(span.durationMicros)
        writer.fieldHeader(TType.list, 10)
        tags(span.tags, into: &writer)
        if !span.logs.isEmpty {
            writer.fieldHeader(TType.list, 11)
            writer.listHeader(TType.struct, count: span.logs.count)
            for log in span.logs {
                writer.fieldHeader(TType.i64, 1)
                writer.i64(log.timestampMicros)
                writer.fieldHeader(TType.list, 2)
                tags(log.fields, into: &writer)
                writer.stop()
            }
        }
        writer.stop()
    }
    if let seqNo {
        writer.fieldHeader(TType.i64, 3)
        writer.i64(seqNo)
    }
    writer.stop()
    return writer.bytes
}

/// A two-span jaeger.thrift `Batch` of a `payments` process, with every tag type, a log and a reference.
package enum SampleThriftBatch {
    package static let traceHigh: Int64 = 0x0af7_6519_16cd_43dd
    package static let traceLow: Int64 = -0x7bb7_14de_e37f_cce4  // 0x8448eb211c80331c as a signed i64

    package static func bytes() -> [UInt8] {
        encodeThriftBatch(
            serviceName: "payments",
            processTags: [("hostname", .string("box-1")), ("cores", .long(2))],
            spans: [
                ThriftSpan(
                    traceIDHigh: traceHigh,
                    traceIDLow: traceLow,
                    spanID: 0x11,
                    operationName: "charge",
                    startTimeMicros: 1_700_000_000_123_456,
                    durationMicros: 2_500,
                    tags: [
                        ("span.kind", .string("server")), ("http.status_code", .long(201)), ("ratio", .double(0.5)),
                        ("retried", .bool(true)), ("blob", .binary([1, 2, 255])),
                    ],
                    logs: [(1_700_000_000_124_000, [("event", .string("card declined")), ("attempt", .long(3))])]
                ),
                ThriftSpan(
                    traceIDHigh: traceHigh,
                    traceIDLow: traceLow,
                    spanID: 0x22,
                    parentSpanID: 0x11,
                    operationName: "audit",
                    references: [(1, 0, 0x55, 0x66)],
                    startTimeMicros: 1_700_000_000_124_000,
                    durationMicros: 10
                ),
            ]
        )
    }
}
