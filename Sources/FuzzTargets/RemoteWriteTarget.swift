import Intake
import OTelBenchProtos
import SwiftProtobuf
import Telemetry

/// Remote-write bodies after snappy (the ``SnappyBlock`` target covers the decompression), as the remote-write
/// receiver reads them: its wire decoder promises to accept and refuse exactly what swift-protobuf's
/// `Prometheus_WriteRequest` does and to read the same series and samples; its ledger then checks and stores the
/// request, and a second send of the same body (a sender's retry) must neither trap nor store anything twice.
enum RemoteWriteTarget {
    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let wire = Result { () throws(ProtobufWireError) in try ReceiverDecoding.remoteWrite(bytes) }
        let generated = Result { try Prometheus_WriteRequest(serializedBytes: bytes) }
        let request: Prometheus_WriteRequest
        switch (wire, generated) {
        case (.success(let shape), .success(let decoded)):
            request = decoded
            var expected = ReceiverDecoding.RemoteWriteShape()
            expected.metadataCount = decoded.metadata.count
            expected.labelCounts = decoded.timeseries.map(\.labels.count)
            expected.samples = decoded.timeseries.map { series in
                series.samples.map { ReceiverDecoding.RemoteWriteSample(timestamp: $0.timestamp, valueBits: $0.value.bitPattern) }
            }
            try require(shape == expected, "the wire decoder reads other series or samples than swift-protobuf: \(shape) / \(expected)")
        case (.failure, .failure):
            return
        case (.success, .failure(let error)):
            throw InvariantViolation(message: "the wire decoder accepts a WriteRequest that swift-protobuf refuses: \(error)")
        case (.failure(let error), .success):
            throw InvariantViolation(message: "swift-protobuf decodes a WriteRequest that the wire decoder refuses: \(error)")
        }
        let sent = request.timeseries.reduce(0) { $0 + $1.samples.count }
        let ledger = ReceiverDecoding.RemoteWriteSeries()
        let first = Result { try ledger.apply(bytes) }
        let second = Result { try ledger.apply(bytes) }
        if case .success(let batch) = first {
            try require(batch.itemCount <= sent, "\(batch.itemCount) points stored from \(sent) samples")
            if case .success(let again) = second {
                try require(
                    batch.itemCount + again.itemCount <= sent,
                    "a re-sent request stored \(again.itemCount) points again (\(batch.itemCount) the first time, of \(sent) samples)"
                )
            }
        }
    }
}
