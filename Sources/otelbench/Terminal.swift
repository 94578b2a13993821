import Foundation

/// Output that scripts can rely on: lines flushed at once (a test reading the chosen port from a pipe
/// must not wait for a buffer to fill), progress on standard error only.
enum Terminal {
    /// Whether standard error is a terminal (progress is redrawn in place) or a log (plain lines).
    static var isInteractive: Bool { isatty(STDERR_FILENO) == 1 }

    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func err(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Redraws the progress line in place.
    static func progress(_ line: String) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    /// Clears a progress line before the summary is printed.
    static func clearProgress(enabled: Bool) {
        if enabled && isInteractive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
