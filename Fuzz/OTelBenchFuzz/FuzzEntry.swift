import CFuzzerDriver
import FuzzTargets

#if canImport(Glibc)
import Glibc
#endif

/// The target this process fuzzes, chosen before libFuzzer starts.
nonisolated(unsafe) private var selected: FuzzTarget?

/// The libFuzzer binary (built by scripts/fuzz.sh with `-sanitize=fuzzer,address`): one binary for every target, the
/// target named by OTELBENCH_FUZZ_TARGET, the rest of the command line libFuzzer's.
///
/// SwiftPM links an executable's `main` to its module's entry point, so this entry point runs libFuzzer's driver
/// itself (`LLVMFuzzerRunDriver`) instead of using libFuzzer's `main`.
@main
struct OTelBenchFuzz {
    static func main() {
        selected = chosenTarget()
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, runOne))
    }
}

/// The target OTELBENCH_FUZZ_TARGET names; the process ends when it names none. (A function of its own, so that
/// no string of it is still alive when libFuzzer's driver exits: LeakSanitizer would report it as a leak.)
private func chosenTarget() -> FuzzTarget {
    let name = getenv("OTELBENCH_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget.named(name) else {
        fatalError("OTELBENCH_FUZZ_TARGET=\(name) names no fuzz target; set it to one of: \(FuzzTarget.all.map(\.name).joined(separator: ", "))")
    }
    return target
}

/// Runs one input through the selected target; an invariant it breaks ends the process as a crash, which libFuzzer
/// reports and saves.
private func runOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let target = selected else { return 0 }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        try target.run(bytes)
    } catch {
        fatalError("\(target.name): invariant broken: \(error.message)")
    }
    return 0
}
