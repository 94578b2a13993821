import CFuzzerDriver
import FuzzTargets

#if canImport(Glibc)
import Glibc
#endif

/// The target this process fuzzes, chosen before libFuzzer starts.
nonisolated(unsafe) private var selected: FuzzTarget?
/// Set by OTELBENCH_FUZZ_LEAK_BATCH (below).
nonisolated(unsafe) private var leakBatch: LeakBatch?

/// The libFuzzer binary (built by scripts/fuzz.sh with `-sanitize=fuzzer,address`): one binary for every target, the
/// target named by OTELBENCH_FUZZ_TARGET, the rest of the command line libFuzzer's.
///
/// SwiftPM links an executable's `main` to its module's entry point, so this entry point runs libFuzzer's driver
/// itself (`LLVMFuzzerRunDriver`) instead of using libFuzzer's `main`.
@main
struct OTelBenchFuzz {
    static func main() {
        selected = chosenTarget()
        leakBatch = LeakBatch.fromEnvironment()
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
    leakBatch?.ran(bytes)
    return 0
}

@_silgen_name("__lsan_do_recoverable_leak_check")
private func leakCheck() -> CInt

/// A leak check every `size` inputs (OTELBENCH_FUZZ_LEAK_BATCH=size), keeping the inputs since the last one.
///
/// libFuzzer checks for leaks only after an input that found new coverage, so a leak from an input that found
/// none is reported later, against another input, and the input that leaked is gone. With a batch, a leak ends
/// the process after writing the batch's inputs to OTELBENCH_FUZZ_LEAK_DIR (default `.`) as `leak-batch-N`;
/// replaying them one at a time (with `-runs=1` each) finds the one that leaks.
private final class LeakBatch {
    let size: Int
    let directory: String
    var inputs: [[UInt8]] = []

    init(size: Int, directory: String) {
        self.size = size
        self.directory = directory
        inputs.reserveCapacity(size)
    }

    static func fromEnvironment() -> LeakBatch? {
        guard let value = getenv("OTELBENCH_FUZZ_LEAK_BATCH"), let size = Int(String(cString: value)), size > 0 else { return nil }
        let directory = getenv("OTELBENCH_FUZZ_LEAK_DIR").map { String(cString: $0) } ?? "."
        return LeakBatch(size: size, directory: directory)
    }

    func ran(_ bytes: [UInt8]) {
        inputs.append(bytes)
        guard inputs.count == size else { return }
        if leakCheck() != 0 {
            for (index, input) in inputs.enumerated() {
                let path = "\(directory)/leak-batch-\(index)"
                guard let file = fopen(path, "wb") else { continue }
                _ = input.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
                fclose(file)
            }
            fatalError("a leak in the last \(size) inputs: they are in \(directory)/leak-batch-*")
        }
        inputs.removeAll(keepingCapacity: true)
    }
}
