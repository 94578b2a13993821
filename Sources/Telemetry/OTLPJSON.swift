import Foundation
package import SwiftProtobuf

/// OTLP's JSON encoding: the proto3 JSON mapping, except that trace and span ids are hex strings rather
/// than base64, and enums are integers.
///
/// swift-protobuf does the proto3 mapping (lowerCamelCase or original keys, int64 as strings or numbers,
/// unknown fields ignored); this type converts the id fields between hex and base64 on the way in and out.
package enum OTLPJSON {
    /// Keys whose string values are ids: `traceId`, `spanId`, `parentSpanId` and their original proto names.
    static let idKeys: Set<[UInt8]> = Set(
        ["traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"].map { Array($0.utf8) }
    )

    /// Decodes an OTLP/JSON body.
    ///
    /// - Throws: ``OTLPJSONError`` when an id is not hex or an enum number is outside int32; swift-protobuf's
    ///   `JSONDecodingError` when the JSON is malformed.
    package static func decode<Message: SwiftProtobuf.Message>(_ type: Message.Type, from bytes: some Collection<UInt8>) throws -> Message {
        let rewritten = try rewriteIDs(Array(bytes)) { hex, key in
            guard let raw = HexCoding.decode(hex) else {
                throw OTLPJSONError(message: "\(key) \"\(hex.prefix(64))\" is not a hex string (OTLP/JSON writes ids as hex, not base64)")
            }
            return Data(raw).base64EncodedString()
        }
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        let message = try Message(jsonUTF8Bytes: rewritten, options: options)
        var enumCheck = EnumRangeCheck(messageName: Message.protoMessageName)
        try message.traverse(visitor: &enumCheck)
        return message
    }

    /// Encodes a message as OTLP/JSON: hex ids, integer enums, lowerCamelCase keys.
    package static func encode(_ message: some SwiftProtobuf.Message) throws -> [UInt8] {
        var options = JSONEncodingOptions()
        options.alwaysPrintEnumsAsInts = true
        options.useDeterministicOrdering = true
        let json: [UInt8] = try message.jsonUTF8Bytes(options: options)
        return try rewriteIDs(json) { base64, _ in
            // swift-protobuf wrote these values itself, so they are valid base64.
            HexCoding.encode(Data(base64Encoded: base64) ?? Data())
        }
    }

    /// Copies `json`, replacing the string value of every id key by `transform(value, key)`.
    ///
    /// A string followed by `:` is always an object key in JSON, so a scan that skips over strings finds
    /// every key at every depth without building a tree (which would also round int64 values through Double).
    static func rewriteIDs(_ json: [UInt8], transform: (String, String) throws -> String) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(json.count + json.count / 8)
        var index = 0
        let count = json.count
        while index < count {
            let byte = json[index]
            guard byte == UInt8(ascii: "\"") else {
                output.append(byte)
                index += 1
                continue
            }
            let keyEnd = endOfString(json, openingQuote: index)
            output.append(contentsOf: json[index..<keyEnd])
            let key = json[(index + 1)..<max(index + 1, keyEnd - 1)]
            index = keyEnd
            guard idKeys.contains(Array(key)) else { continue }
            // Is this a key, and is its value a string?
            var cursor = skipWhitespace(json, from: index)
            guard cursor < count, json[cursor] == UInt8(ascii: ":") else { continue }
            cursor = skipWhitespace(json, from: cursor + 1)
            guard cursor < count, json[cursor] == UInt8(ascii: "\"") else { continue }
            let valueEnd = endOfString(json, openingQuote: cursor)
            guard valueEnd <= count, valueEnd - cursor >= 2, json[valueEnd - 1] == UInt8(ascii: "\"") else { continue }
            let value = String(decoding: json[(cursor + 1)..<(valueEnd - 1)], as: UTF8.self)
            output.append(contentsOf: json[index..<cursor])
            output.append(UInt8(ascii: "\""))
            output.append(contentsOf: Array(try transform(value, String(decoding: key, as: UTF8.self)).utf8))
            output.append(UInt8(ascii: "\""))
            index = valueEnd
        }
        return output
    }

    /// The index just past the closing quote of the string that opens at `openingQuote` (or the end of input).
    private static func endOfString(_ json: [UInt8], openingQuote: Int) -> Int {
        var index = openingQuote + 1
        while index < json.count {
            switch json[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return json.count
    }

    private static func skipWhitespace(_ json: [UInt8], from start: Int) -> Int {
        var index = start
        while index < json.count, [0x20, 0x09, 0x0a, 0x0d].contains(json[index]) { index += 1 }
        return index
    }
}

/// Refuses an enum value outside int32, which the proto3 JSON mapping does not allow.
///
/// swift-protobuf's JSON decoder (at the pinned version) keeps any JSON number that fits an Int64 as an
/// unrecognized enum value. Its binary encoder then sizes that field as an int32 varint but writes it as an int64
/// one, so serializing the message writes past the buffer it allocated. The OTLP/HTTP receiver serializes every
/// decoded request for the recording, so such a value must not leave the decoder.
struct EnumRangeCheck: SwiftProtobuf.Visitor {
    /// The proto name of the message being visited, for the error.
    var messageName: String

    mutating func visitSingularEnumField<E: SwiftProtobuf.Enum>(value: E, fieldNumber: Int) throws {
        guard Int32(exactly: value.rawValue) == nil else { return }
        let enumName = String(describing: E.self).split(separator: "_").last.map(String.init) ?? "\(E.self)"
        throw OTLPJSONError(
            message: "\(enumName) value \(value.rawValue) (field \(fieldNumber) of \(messageName)) is outside int32: OTLP/JSON enums are 32-bit integers"
        )
    }

    mutating func visitRepeatedEnumField<E: SwiftProtobuf.Enum>(value: [E], fieldNumber: Int) throws {
        for element in value { try visitSingularEnumField(value: element, fieldNumber: fieldNumber) }
    }

    mutating func visitPackedEnumField<E: SwiftProtobuf.Enum>(value: [E], fieldNumber: Int) throws {
        try visitRepeatedEnumField(value: value, fieldNumber: fieldNumber)
    }

    mutating func visitSingularMessageField<M: SwiftProtobuf.Message>(value: M, fieldNumber: Int) throws {
        let outer = messageName
        messageName = M.protoMessageName
        try value.traverse(visitor: &self)
        messageName = outer
    }

    mutating func visitRepeatedMessageField<M: SwiftProtobuf.Message>(value: [M], fieldNumber: Int) throws {
        for element in value { try visitSingularMessageField(value: element, fieldNumber: fieldNumber) }
    }

    // Every other field holds no enum.
    mutating func visitSingularDoubleField(value: Double, fieldNumber: Int) throws {}
    mutating func visitSingularInt64Field(value: Int64, fieldNumber: Int) throws {}
    mutating func visitSingularUInt64Field(value: UInt64, fieldNumber: Int) throws {}
    mutating func visitSingularBoolField(value: Bool, fieldNumber: Int) throws {}
    mutating func visitSingularStringField(value: String, fieldNumber: Int) throws {}
    mutating func visitSingularBytesField(value: Data, fieldNumber: Int) throws {}
    mutating func visitRepeatedStringField(value: [String], fieldNumber: Int) throws {}
    mutating func visitRepeatedBytesField(value: [Data], fieldNumber: Int) throws {}
    mutating func visitUnknown(bytes: Data) throws {}
    mutating func visitMapField<KeyType, ValueType: MapValueType>(
        fieldType: _ProtobufMap<KeyType, ValueType>.Type,
        value: _ProtobufMap<KeyType, ValueType>.BaseType,
        fieldNumber: Int
    ) throws {}
    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type,
        value: _ProtobufEnumMap<KeyType, ValueType>.BaseType,
        fieldNumber: Int
    ) throws {
        for element in value.values { try visitSingularEnumField(value: element, fieldNumber: fieldNumber) }
    }
    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type,
        value: _ProtobufMessageMap<KeyType, ValueType>.BaseType,
        fieldNumber: Int
    ) throws {
        for element in value.values { try visitSingularMessageField(value: element, fieldNumber: fieldNumber) }
    }
}

/// An OTLP/JSON body that is valid JSON but not valid OTLP (an id that is not hex, an enum outside int32).
package struct OTLPJSONError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
