package import Foundation
package import Intake
package import OTelBenchProtos

/// A snappy block of literals only (see `SnappyBlock.encodeLiterals`).
package func snappyLiteralBlock(_ bytes: [UInt8]) -> [UInt8] { SnappyBlock.encodeLiterals(bytes) }

/// Gzip-compresses `bytes` (with the system gzip: the test needs a real encoder, not ours).
package func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
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
