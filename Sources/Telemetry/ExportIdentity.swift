import Foundation

/// Which exporter sent an OTLP request, and which batch it carried, read from the request's bytes before anything
/// else is decided: a retry of the same batch has the same ``digest``, whatever intake answered the first time.
///
/// The exporter is named by its first resource's `service.name` and `service.instance.id` (every OTLP request of
/// one SDK exporter carries the SDK's one resource); the batch by a 64-bit FNV-1a hash of the decompressed request.
///
/// ```swift
/// let identity = body.withUnsafeReadableBytes { ExportIdentity(protobuf: $0) }
/// print(identity.service ?? "unknown", String(identity.digest, radix: 16))
/// ```
package struct ExportIdentity: Sendable, Hashable {
    /// The first resource's `service.name`; `nil` when the request carries none (or is not decodable).
    package var service: String?
    /// The first resource's `service.instance.id`, when it has one.
    package var instance: String?
    /// FNV-1a (64 bits) of the request's decompressed bytes.
    package var digest: UInt64

    package init(service: String?, instance: String?, digest: UInt64) {
        self.service = service
        self.instance = instance
        self.digest = digest
    }

    /// Reads a binary protobuf `Export{Trace,Metrics,Logs}ServiceRequest`. The three share their shape up to the
    /// resource: field 1 is `resource_{spans,metrics,logs}`, whose field 1 is the `Resource`, whose field 1 holds
    /// the attributes (`KeyValue`: key 1, `AnyValue` 2 with `string_value` 1). A request that does not decode names
    /// no service; its digest is still the hash of its bytes.
    package init(protobuf bytes: UnsafeRawBufferPointer) {
        digest = Self.fnv1a(bytes)
        if let attributes = try? Self.firstResourceAttributes(bytes) {
            service = attributes["service.name"]
            instance = attributes["service.instance.id"]
        }
    }

    /// Reads an OTLP/JSON request: the first entry of `resourceSpans`, `resourceMetrics` or `resourceLogs`.
    package init(json bytes: UnsafeRawBufferPointer) {
        digest = Self.fnv1a(bytes)
        guard
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let entries = (object["resourceSpans"] ?? object["resourceMetrics"] ?? object["resourceLogs"]) as? [[String: Any]],
            let resource = entries.first?["resource"] as? [String: Any],
            let attributes = resource["attributes"] as? [[String: Any]]
        else { return }
        for attribute in attributes {
            guard let key = attribute["key"] as? String, let value = (attribute["value"] as? [String: Any])?["stringValue"] as? String else { continue }
            if key == "service.name" { service = value }
            if key == "service.instance.id" { instance = value }
        }
    }

    /// FNV-1a, 64 bits: deterministic across runs, so a digest in a report means the same batch in every run.
    package static func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }

    private static func firstResourceAttributes(_ bytes: UnsafeRawBufferPointer) throws(ProtobufWireError) -> [String: String] {
        guard let resourceEntry = try firstField(1, in: bytes), let resource = try firstField(1, in: resourceEntry) else { return [:] }
        var attributes: [String: String] = [:]
        var reader = ProtobufWireReader(resource)
        while let tag = try reader.nextTag() {
            guard tag.fieldNumber == 1, tag.wireType == .lengthDelimited else {
                try reader.skipField(tag)
                continue
            }
            let keyValue = try reader.readLengthDelimited()
            var pair = ProtobufWireReader(keyValue)
            var key: String?
            var value: String?
            while let inner = try pair.nextTag() {
                switch (inner.fieldNumber, inner.wireType) {
                case (1, .lengthDelimited): key = try pair.readString()
                case (2, .lengthDelimited): value = try firstField(1, in: try pair.readLengthDelimited()).map { String(decoding: $0, as: UTF8.self) }
                default: try pair.skipField(inner)
                }
            }
            if let key, let value, key == "service.name" || key == "service.instance.id" { attributes[key] = value }
        }
        return attributes
    }

    /// The bytes of the first length-delimited field `number` of the message `bytes`, if any.
    private static func firstField(_ number: Int, in bytes: UnsafeRawBufferPointer) throws(ProtobufWireError) -> UnsafeRawBufferPointer? {
        var reader = ProtobufWireReader(bytes)
        while let tag = try reader.nextTag() {
            if tag.fieldNumber == number, tag.wireType == .lengthDelimited { return try reader.readLengthDelimited() }
            try reader.skipField(tag)
        }
        return nil
    }
}
