import Foundation
import Intake
import Scenario
import TestSupport
import Testing

/// The snappy block decoder: byte for byte against cramjam (the snappy C++ library), then corrupt and
/// hostile blocks.
@Suite struct SnappyBlockTests {
    @Test func decodesCramjamOutputByteForByte() async throws {
        let python = try requirePeer(".venv-remote-write/bin/python")
        let script = repositoryRoot.appendingPathComponent("Tests/Interop/snappy_oracle.py").path
        try await withTemporaryDirectory { directory in
            let outcome = try await runToCompletion(python, [script, directory.path], timeout: .seconds(60))
            #expect(outcome.status == 0, "\(outcome.output)")
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasSuffix(".raw") }.map { String($0.dropLast(4)) }.sorted()
            #expect(names.count == 9)
            for name in names {
                let raw = try [UInt8](Data(contentsOf: directory.appendingPathComponent("\(name).raw")))
                let compressed = try [UInt8](Data(contentsOf: directory.appendingPathComponent("\(name).snappy")))
                let decoded = try SnappyBlock.decode(compressed, limit: 1 << 20)
                #expect(decoded == raw, "\(name): \(decoded.count) bytes decoded, \(raw.count) expected")
                #expect(try SnappyBlock.decodedLength(of: compressed) == raw.count)
                // Every truncation of a real block is refused, never trapped on.
                if compressed.count < 400 {
                    for length in 0..<compressed.count where length > 0 || !raw.isEmpty {
                        #expect(throws: SnappyError.self, "\(name) cut to \(length)") {
                            try SnappyBlock.decode(Array(compressed.prefix(length)), limit: 1 << 20)
                        }
                    }
                }
            }
            let framed = try [UInt8](Data(contentsOf: directory.appendingPathComponent("framed.snappy")))
            #expect {
                try SnappyBlock.decode(framed, limit: 1 << 20)
            } throws: { error in
                (error as? SnappyError)?.message.contains("framed (stream) format") == true
            }
        }
    }

    @Test func copiesWithEveryOffsetWidthAndOverlapAreDecoded() throws {
        // "abcd" then: 1-byte-offset copy (len 4, off 4), 2-byte-offset copy (len 6, off 2), 4-byte-offset copy (len 3, off 10) → abcd|abcd|cdcdcd|abc.
        let block: [UInt8] = [17, 3 << 2, 0x61, 0x62, 0x63, 0x64, 0x01, 0x04, (5 << 2) | 2, 0x02, 0x00, (2 << 2) | 3, 10, 0, 0, 0]
        let decoded = try SnappyBlock.decode(block, limit: 100)
        #expect(String(decoding: decoded, as: UTF8.self) == "abcdabcdcdcdcdabc")
    }

    /// A corrupt block and a phrase its error must contain.
    struct CorruptBlock: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var limit = 1 << 20
        var phrase: String
        var testDescription: String { name }
    }

    static let corruptBlocks: [CorruptBlock] = [
        CorruptBlock(name: "empty", bytes: [], phrase: "body is empty"),
        CorruptBlock(name: "length only, no data", bytes: [5], phrase: "decodes to 0 bytes but announces 5"),
        CorruptBlock(name: "4 GiB announced", bytes: [0xff, 0xff, 0xff, 0xff, 0x0f], phrase: "over the 1048576-byte limit"),
        CorruptBlock(name: "length header runs on", bytes: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], phrase: "longer than 5 bytes"),
        CorruptBlock(name: "over a small limit", bytes: snappyLiteralBlock(Array(repeating: 1, count: 101)), limit: 100, phrase: "over the 100-byte limit"),
        CorruptBlock(name: "copy before any output", bytes: [4, 0x01, 0x01], phrase: "refers 1 bytes back, but only 0 are decoded"),
        CorruptBlock(name: "copy offset zero", bytes: [8, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x01, 0x00], phrase: "refers 0 bytes back"),
        CorruptBlock(name: "copy past the announced length", bytes: [5, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x01, 0x04], phrase: "goes past the announced 5 bytes"),
        CorruptBlock(name: "literal past the input", bytes: [10, 9 << 2, 0x61], phrase: "literal of 10 bytes"),
        CorruptBlock(name: "literal past the announced length", bytes: [2, 3 << 2, 1, 2, 3, 4], phrase: "goes past the announced 2 bytes"),
        CorruptBlock(name: "literal length bytes missing", bytes: [100, 62 << 2, 0x01], phrase: "literal's length needs 3 bytes"),
        CorruptBlock(name: "2-byte copy cut short", bytes: [8, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x02, 0x01], phrase: "needs 2 offset bytes"),
        CorruptBlock(
            name: "4-byte offset far beyond output",
            bytes: [8, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x0f, 0xff, 0xff, 0xff, 0x7f],
            phrase: "refers 2147483647 bytes back"
        ),
        CorruptBlock(name: "gzip instead of snappy", bytes: [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0], phrase: "snappy block"),
    ]

    @Test(arguments: corruptBlocks)
    func corruptBlockIsRefusedWithItsProblemNamed(_ block: CorruptBlock) {
        #expect {
            try SnappyBlock.decode(block.bytes, limit: block.limit)
        } throws: { error in
            let message = (error as? SnappyError)?.message ?? ""
            if !message.contains(block.phrase) { Issue.record("\(block.name): \(message)") }
            return true
        }
    }

    @Test func randomMutationsOfARealBlockNeverTrap() throws {
        let line = "http_requests_total{job=\"api\",instance=\"host:9100\"} 1027\n"
        let period = line.utf8.count
        let text = Array(String(repeating: line, count: 40).utf8)
        // A block with copies: compress by hand with one copy per repeated line (1-byte offset copies chained).
        var block = snappyLiteralBlock(Array(text.prefix(period)))
        block.removeFirst()  // drop the length; re-add the full one below
        var body: [UInt8] = []
        var length = UInt64(text.count)
        while length >= 0x80 {
            body.append(UInt8(length & 0x7f) | 0x80)
            length >>= 7
        }
        body.append(UInt8(length))
        body += block
        var produced = period
        while produced < text.count {
            let chunk = min(64, text.count - produced)
            body += [UInt8(chunk - 1) << 2 | 2, UInt8(period), 0]  // copy `chunk` bytes from one line back
            produced += chunk
        }
        #expect(try SnappyBlock.decode(body, limit: 1 << 20) == text)
        var generator = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            var mutated = body
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let position = Int(generator.next() % UInt64(mutated.count))
                mutated[position] = UInt8(truncatingIfNeeded: generator.next())
            }
            if let decoded = try? SnappyBlock.decode(mutated, limit: 1 << 16) {
                #expect(decoded.count <= 1 << 16)
            }
        }
    }
}
