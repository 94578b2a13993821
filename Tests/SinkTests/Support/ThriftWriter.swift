/// Writes the Thrift binary protocol, for building jaeger.thrift bodies in tests (the reader under test
/// never sees this code).
struct ThriftWriter {
    private(set) var bytes: [UInt8] = []

    mutating func fieldHeader(_ type: UInt8, _ id: Int16) {
        bytes.append(type)
        i16(id)
    }

    mutating func stop() { bytes.append(0) }

    mutating func raw(_ byte: UInt8) { bytes.append(byte) }

    mutating func i16(_ value: Int16) { append(UInt64(UInt16(bitPattern: value)), count: 2) }
    mutating func i32(_ value: Int32) { append(UInt64(UInt32(bitPattern: value)), count: 4) }
    mutating func i64(_ value: Int64) { append(UInt64(bitPattern: value), count: 8) }
    mutating func double(_ value: Double) { append(value.bitPattern, count: 8) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func string(_ value: String) { binary(Array(value.utf8)) }

    mutating func binary(_ value: [UInt8]) {
        i32(Int32(value.count))
        bytes += value
    }

    mutating func listHeader(_ elementType: UInt8, count: Int) {
        bytes.append(elementType)
        i32(Int32(count))
    }

    private mutating func append(_ value: UInt64, count: Int) {
        for index in (0..<count).reversed() { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }
}

/// Thrift wire types.
enum TType {
    static let bool: UInt8 = 2
    static let double: UInt8 = 4
    static let i32: UInt8 = 8
    static let i64: UInt8 = 10
    static let string: UInt8 = 11
    static let `struct`: UInt8 = 12
    static let map: UInt8 = 13
    static let list: UInt8 = 15
}

/// A jaeger.thrift tag value.
enum ThriftTagValue {
    case string(String)
    case double(Double)
    case bool(Bool)
    case long(Int64)
    case binary([UInt8])
}

/// A jaeger.thrift span to encode.
struct ThriftSpan {
    var traceIDHigh: Int64
    var traceIDLow: Int64
    var spanID: Int64
    var parentSpanID: Int64 = 0
    var operationName: String
    var references: [(type: Int32, high: Int64, low: Int64, spanID: Int64)] = []
    var flags: Int32 = 1
    var startTimeMicros: Int64
    var durationMicros: Int64
    var tags: [(String, ThriftTagValue)] = []
    var logs: [(timestampMicros: Int64, fields: [(String, ThriftTagValue)])] = []
}

/// Encodes a jaeger.thrift Batch as the Python and Go clients do.
func encodeThriftBatch(serviceName: String, processTags: [(String, ThriftTagValue)] = [], spans: [ThriftSpan], seqNo: Int64? = 7) -> [UInt8] {
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
