import Foundation
import Intake
import OTelBenchProtos

/// A snappy block of literals only (see `SnappyBlock.encodeLiterals`).
func snappyLiteralBlock(_ bytes: [UInt8]) -> [UInt8] { SnappyBlock.encodeLiterals(bytes) }

/// A remote-write series from `name="value"` pairs given in order (not sorted here: tests decide).
func remoteWriteSeries(_ labels: [(String, String)], samples: [(Int64, Double)]) -> Prometheus_TimeSeries {
    var series = Prometheus_TimeSeries()
    series.labels = labels.map { name, value in
        var label = Prometheus_Label()
        label.name = name
        label.value = value
        return label
    }
    series.samples = samples.map { timestamp, value in
        var sample = Prometheus_Sample()
        sample.timestamp = timestamp
        sample.value = value
        return sample
    }
    return series
}

/// A snappy-compressed WriteRequest body.
func remoteWriteBody(_ series: [Prometheus_TimeSeries], metadata: [Prometheus_MetricMetadata] = []) throws -> [UInt8] {
    var request = Prometheus_WriteRequest()
    request.timeseries = series
    request.metadata = metadata
    return snappyLiteralBlock(try request.serializedBytes())
}

/// The headers a remote-write sender sends.
let remoteWriteHeaders: [(String, String)] = [("Content-Encoding", "snappy"), ("X-Prometheus-Remote-Write-Version", "0.1.0")]

/// Gzip-compresses `bytes` (with the system gzip: the test needs a real encoder, not ours).
func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-gzip-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("body")
    try Data(bytes).write(to: file)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-n", file.path]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TestFailure("gzip failed") }
    return try [UInt8](Data(contentsOf: directory.appendingPathComponent("body.gz")))
}
