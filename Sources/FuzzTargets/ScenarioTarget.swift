import Foundation
import Scenario

/// Scenario files as `otelbench run` and `validate` load them (``ScenarioLoader``): a file that does not load
/// names, for each mistake in it, a line of the file.
enum ScenarioTarget {
    /// The path the text is loaded as: beside the shipped scenarios, so that the taxonomy and rule files a
    /// shipped scenario names load too. Errors about those other files are theirs.
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Scenarios/fuzz-scenario.yaml")
        .standardized.path

    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            _ = try ScenarioLoader.parse(text, file: file, environment: [:])
        } catch {
            try requireLocated(error, file: file, lines: yamlLineCount(text))
        }
    }

    /// Every error of `errors` about `file` names one of its `lines` (a column too, when it names a line).
    static func requireLocated(_ errors: FileErrors, file: String, lines: Int) throws(InvariantViolation) {
        try require(!errors.errors.isEmpty, "a file is refused without a single error")
        for error in errors.errors where error.file == file {
            try require((1...lines + 1).contains(error.line), "an error names line \(error.line) of a \(lines)-line file: \(error)")
            try require(!error.message.isEmpty, "an error without a message at \(error.file):\(error.line)")
        }
    }
}

/// The lines of `text` as YAML counts them (and names them in errors): a line break is `\r\n`, `\r` or `\n`, and
/// also NEL, LS and PS (YAML 1.1, which libyaml reads).
func yamlLineCount(_ text: String) -> Int {
    var lines = 1
    var previous: Unicode.Scalar?
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": if previous != "\r" { lines += 1 }
        case "\r", "\u{85}", "\u{2028}", "\u{2029}": lines += 1
        default: break
        }
        previous = scalar
    }
    return lines
}
