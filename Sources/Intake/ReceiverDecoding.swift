import GRPCCore
import OTelBenchProtos
package import SwiftProtobuf
package import Telemetry

/// The receivers' own decode steps, each one call on bytes, for code that checks them from outside the module
/// (the fuzz targets in `FuzzTargets`, and their regression tests): nothing here is a copy; each function runs
/// exactly what the receiver runs on a request's bytes, without a server, an admission or a store.
///
/// ```swift
/// let converted = try ReceiverDecoding.grpcTraces(bytes, maxBytes: 4 << 20)
/// ```
package enum ReceiverDecoding {
    /// Decodes one gRPC request message as the OTLP, Jaeger and other gRPC receivers do
    /// (`SizedProtobufDeserializer`): a refusal that ``GRPCMessageInflation`` put in the message's place becomes
    /// its status, a message over `maxBytes` is RESOURCE_EXHAUSTED, an undecodable one INVALID_ARGUMENT.
    ///
    /// - Throws: `RPCError`, as the call would end.
    package static func grpcMessage<Message: SwiftProtobuf.Message & Sendable>(
        _ type: Message.Type,
        _ bytes: [UInt8],
        specName: String,
        maxBytes: Int
    ) throws -> Message {
        try SizedProtobufDeserializer<Message>(specName: specName, maxBytes: maxBytes).deserialize(bytes).message
    }

    /// Decodes and converts one gRPC `ExportTraceServiceRequest` message as the OTLP/gRPC trace receiver does
    /// (`TraceWireDeserializer`, straight from the bytes with ``OTLPTraceWireDecoder``).
    ///
    /// - Throws: `RPCError`, as the call would end.
    package static func grpcTraces(_ bytes: [UInt8], maxBytes: Int) throws -> ConversionResult {
        try TraceWireDeserializer(maxBytes: maxBytes, keepsBytes: false).deserialize(bytes).message.converted
    }

    /// A remote-write `WriteRequest` as ``RemoteWriteWireDecoder`` reads it: per series, how many labels and
    /// samples, and each sample's timestamp and value bits.
    package struct RemoteWriteShape: Sendable, Equatable {
        /// Each series' label count, in order.
        package var labelCounts: [Int] = []
        /// Each series' samples (timestamp in milliseconds, the value's bit pattern), in order.
        package var samples: [[RemoteWriteSample]] = []
        /// How many metadata entries it carries.
        package var metadataCount = 0

        package init() {}
    }

    /// One sample: its timestamp in milliseconds and its value's bits (so that NaNs compare).
    package struct RemoteWriteSample: Sendable, Equatable {
        package var timestamp: Int64
        package var valueBits: UInt64

        package init(timestamp: Int64, valueBits: UInt64) {
            self.timestamp = timestamp
            self.valueBits = valueBits
        }
    }

    /// Decodes a remote-write body (after snappy) as the remote-write receiver does (``RemoteWriteWireDecoder``).
    ///
    /// - Throws: ``ProtobufWireError`` for bytes that are not a protobuf `WriteRequest`.
    package static func remoteWrite(_ body: [UInt8]) throws(ProtobufWireError) -> RemoteWriteShape {
        let request = try RemoteWriteWireDecoder.decode(body)
        var shape = RemoteWriteShape()
        shape.metadataCount = request.metadataNames.count
        for series in request.series {
            shape.labelCounts.append(series.labels.count)
            shape.samples.append(request.samples[series.samples].map { RemoteWriteSample(timestamp: $0.timestamp, valueBits: $0.value.bitPattern) })
        }
        return shape
    }

    /// A remote-write receiver's ledger of series, on its own: each body applied in turn as the receiver applies a
    /// request it admitted (out-of-order samples refused, exact re-sends dropped).
    package final class RemoteWriteSeries: Sendable {
        private let ledger = RemoteWriteLedger()

        package init() {}

        /// Decodes `body` and applies it: the batch the receiver would store.
        ///
        /// - Throws: ``ProtobufWireError`` for undecodable bytes; ``RemoteWriteRefusal`` when the ledger refuses the
        ///   request (its message is the receiver's 400 answer).
        package func apply(_ body: [UInt8]) throws -> Batch {
            let request = try RemoteWriteWireDecoder.decode(body)
            var accepted = Batch()
            do throws(RemoteWriteViolation) {
                try ledger.apply(request) { accepted = $0 }
            } catch {
                throw RemoteWriteRefusal(message: error.message)
            }
            return accepted
        }
    }

    /// Why the remote-write ledger refused a request.
    package struct RemoteWriteRefusal: Error, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }
}
