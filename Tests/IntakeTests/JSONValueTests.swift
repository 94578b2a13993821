import Foundation
import Testing

@testable import Intake

/// How ``JSONValue`` writes strings: RFC 8259's escapes for `"`, `\` and the control characters, everything else
/// (non-ASCII included) as its UTF-8.
@Suite struct JSONValueTests {
    @Test func escapesAreWrittenWhereverTheyFallInTheString() {
        let value = JSONValue.string("\"a\\b\nc\rd\te\u{01}\u{1f}é\"\"")
        #expect(String(decoding: value.serialized, as: UTF8.self) == #""\"a\\b\nc\rd\te\u0001\u001fé\"\"""#)
    }

    @Test(arguments: [
        "", "plain", "\"", "\\", "\n", "end\\", "\"start", "a\u{00}b", "ü\u{7f}ß", "emoji 👩‍👩‍👧 and \t tab",
        String((0..<128).map { Character(Unicode.Scalar(UInt8($0))) }),
    ])
    func foundationReadsBackTheSameString(_ text: String) throws {
        let document = JSONValue.array([.string(text), .object([(text, .string(text))])])
        let parsed = try JSONSerialization.jsonObject(with: Data(document.serialized), options: [.fragmentsAllowed]) as? [Any]
        #expect(parsed?[0] as? String == text)
        #expect((parsed?[1] as? [String: String])?[text] == text)
    }
}
