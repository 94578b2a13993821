import Foundation
import Intake
package import OTelBenchProtos
import SwiftProtobuf

/// A loopback port that was free a moment ago (for a peer that cannot report the port it bound).
package func freeLoopbackPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw SocketFailure("socket() failed") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw SocketFailure("bind() failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    guard named == 0 else { throw SocketFailure("getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A socket call that failed while looking for a free port.
package struct SocketFailure: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// A remote-write series from `name="value"` pairs given in order (not sorted here: tests decide).
package func remoteWriteSeries(_ labels: [(String, String)], samples: [(Int64, Double)]) -> Prometheus_TimeSeries {
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
package func remoteWriteBody(_ series: [Prometheus_TimeSeries], metadata: [Prometheus_MetricMetadata] = []) throws -> [UInt8] {
    var request = Prometheus_WriteRequest()
    request.timeseries = series
    request.metadata = metadata
    return SnappyBlock.encodeLiterals(try request.serializedBytes())
}

/// The headers a remote-write sender sends.
package let remoteWriteHeaders: [(String, String)] = [("Content-Encoding", "snappy"), ("X-Prometheus-Remote-Write-Version", "0.1.0")]

/// Whether nothing listens on loopback `port` now: a server can bind it (with `SO_REUSEADDR`, as servers do, so
/// connections of a closed listener lingering in TIME_WAIT do not count).
package func loopbackPortIsFree(_ port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var reuse: Int32 = 1
    setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return bound == 0 && listen(descriptor, 1) == 0
}
