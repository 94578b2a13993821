#if canImport(Glibc)
import Glibc
#endif

/// Memory that malloc keeps after frees, given back to the system: glibc's `malloc_trim(0)`, found at run time
/// (Swift's Glibc module does not declare it). The receiver calls it now and then under load; tests call it
/// before reading the process's resident memory.
package enum FreedMemory {
    /// Whether this malloc can give memory back (glibc).
    package static var canReturn: Bool { mallocTrim != nil }

    /// Gives back what malloc can; does nothing where malloc has no `malloc_trim`.
    package static func returnToSystem() {
        _ = mallocTrim?(0)
    }

    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()
}
