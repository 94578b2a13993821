import CompressNIO
import Foundation
import NIOCore

/// How each entry of a recording is compressed, as the Collector's `file` exporter's `compression` setting:
/// every message is compressed on its own (one gzip member or one zstd frame per request) and then
/// length-prefixed, so that a reader can stop, resume or skip at any entry.
package enum RecordingCompression: String, Sendable, CaseIterable {
    /// No compression: JSON lines for ``RecordingFormat/json``, plain length-prefixed messages for ``RecordingFormat/proto``.
    case none
    /// One gzip member per entry (RFC 1952), through zlib; every machine has it.
    case gzip
    /// One zstd frame per entry (level 3), through `libzstd.so.1` loaded at run time (Debian's `libzstd1`).
    case zstd
}

/// Compressing and decompressing one entry, with the limit every entry is held to.
enum EntryCodec {
    /// The largest entry a recording may hold, as stored and once decompressed: 256 MiB. A reader refuses
    /// anything larger before allocating for it, so that a hostile or corrupt file cannot exhaust memory.
    static let entryLimit = 256 * 1024 * 1024

    /// `entryLimit` for messages: "256 MiB".
    static let entryLimitText = "256 MiB"

    /// How an entry's bytes are compressed, judged by their magic number.
    enum Detected: Equatable {
        case plain
        case gzip
        case zstd

        /// What to call a frame of this kind in a message ("zstd frame", "gzip member", "entry").
        var frameName: String {
            switch self {
            case .plain: "entry"
            case .gzip: "gzip member"
            case .zstd: "zstd frame"
            }
        }
    }

    /// zstd frames start with 28 B5 2F FD, gzip members with 1F 8B; anything else is taken as uncompressed.
    static func detect(_ bytes: ArraySlice<UInt8>) -> Detected {
        if bytes.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        if bytes.starts(with: [0x1F, 0x8B]) { return .gzip }
        return .plain
    }

    /// `bytes` compressed as one gzip member or one zstd frame (or unchanged for ``RecordingCompression/none``).
    static func compress(_ bytes: [UInt8], with compression: RecordingCompression, zstd: Zstd?) throws -> [UInt8] {
        switch compression {
        case .none: return bytes
        case .gzip:
            var input = ByteBuffer(bytes: bytes)
            return Array(buffer: try input.compress(with: .gzip()))
        case .zstd:
            return try (zstd ?? Zstd.loaded()).compress(bytes, level: 3)
        }
    }

    /// The entry's bytes, decompressed if they are a gzip member or a zstd frame, never more than ``entryLimit``.
    ///
    /// - Throws: a plain `RecordingError` (without the file's name: the caller adds where) saying what is wrong.
    static func decompress(_ bytes: ArraySlice<UInt8>) throws -> [UInt8] {
        switch detect(bytes) {
        case .plain: return Array(bytes)
        case .gzip: return try gunzip(bytes)
        case .zstd: return try Zstd.loaded().decompress(bytes, limit: entryLimit)
        }
    }

    /// Inflates one gzip member, checking it against its ISIZE trailer (zlib stops silently at the end of a cut
    /// member, handing back a prefix) and that it fills the whole entry.
    static func gunzip(_ bytes: ArraySlice<UInt8>) throws -> [UInt8] {
        // 10 bytes of header, at least 2 of deflate data, 8 of trailer (CRC32, ISIZE).
        guard bytes.count >= 20 else {
            throw RecordingError(message: "gzip member of \(bytes.count) bytes is too short to hold a gzip header and trailer: it is cut or corrupt")
        }
        let end = bytes.endIndex
        let declared = Int(bytes[end - 4]) | Int(bytes[end - 3]) << 8 | Int(bytes[end - 2]) << 16 | Int(bytes[end - 1]) << 24
        guard declared <= entryLimit else {
            throw RecordingError(
                message:
                    "gzip member declares \(declared) bytes uncompressed (ISIZE), over the \(entryLimitText) limit per entry: the entry is corrupt or not from a recording"
            )
        }
        var input = ByteBuffer(bytes: bytes)
        // One byte of room more than declared, so that a member that inflates to more overflows rather than fits.
        var output = ByteBufferAllocator().buffer(capacity: declared + 1)
        do {
            try input.decompress(to: &output, with: .gzip())
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw RecordingError(message: "gzip member inflates to more than the \(declared) bytes its trailer (ISIZE) declares: it is corrupt")
        } catch let error as CompressNIOError where error == .inputBufferOverflow {
            throw RecordingError(message: "gzip member ends before its deflate stream does: it is cut or corrupt")
        } catch {
            throw RecordingError(message: "gzip member does not inflate (\(error)): it is corrupt")
        }
        guard input.readableBytes == 0, output.readableBytes == declared else {
            throw RecordingError(
                message:
                    "gzip member inflates to \(output.readableBytes) bytes, using \(bytes.count - input.readableBytes) of its \(bytes.count), but its trailer (ISIZE) declares \(declared): it is cut or corrupt"
            )
        }
        return Array(buffer: output)
    }
}

/// The zstd library, loaded at run time with `dlopen` so that building the package never needs its headers
/// (`libzstd-dev`); only writing or reading zstd needs the shared library (`libzstd1` on Debian and Ubuntu).
struct Zstd: @unchecked Sendable {
    // The C signatures, from zstd.h (size_t is UInt, unsigned long long UInt64, unsigned UInt32, int Int32).
    private typealias CompressBound = @convention(c) (UInt) -> UInt
    private typealias Compress = @convention(c) (UnsafeMutableRawPointer?, UInt, UnsafeRawPointer?, UInt, Int32) -> UInt
    private typealias Decompress = @convention(c) (UnsafeMutableRawPointer?, UInt, UnsafeRawPointer?, UInt) -> UInt
    private typealias GetFrameContentSize = @convention(c) (UnsafeRawPointer?, UInt) -> UInt64
    private typealias IsError = @convention(c) (UInt) -> UInt32
    private typealias GetErrorName = @convention(c) (UInt) -> UnsafePointer<CChar>?
    private typealias GetErrorCode = @convention(c) (UInt) -> Int32

    private let compressBound: CompressBound
    private let compressFunction: Compress
    private let decompressFunction: Decompress
    private let getFrameContentSize: GetFrameContentSize
    private let isError: IsError
    private let getErrorName: GetErrorName?
    private let getErrorCode: GetErrorCode?

    /// `ZSTD_CONTENTSIZE_UNKNOWN` and `ZSTD_CONTENTSIZE_ERROR`.
    private static let contentSizeUnknown = UInt64.max
    private static let contentSizeError = UInt64.max - 1
    /// `ZSTD_error_dstSize_tooSmall` (zstd_errors.h; codes below 100 are stable).
    private static let destinationTooSmall: Int32 = 70

    /// The names the library goes by: Linux's soname, then macOS's.
    private static let libraryNames = [
        "libzstd.so.1", "libzstd.1.dylib", "/opt/homebrew/lib/libzstd.1.dylib", "/usr/local/lib/libzstd.1.dylib",
    ]

    /// The library, loaded once, or the reason it could not be.
    private static let shared: Result<Zstd, RecordingError> = Result { try Zstd() }.mapError { $0 as? RecordingError ?? RecordingError(message: "\($0)") }

    /// The loaded library.
    ///
    /// - Throws: ``RecordingError`` saying to install libzstd1 or to choose gzip when it cannot be loaded.
    static func loaded() throws -> Zstd { try shared.get() }

    private init() throws {
        guard let handle = Self.libraryNames.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            throw RecordingError(
                message:
                    "zstd compression needs the zstd library (libzstd.so.1), which could not be loaded (\(reason)): install it (apt-get install libzstd1, brew install zstd) or choose gzip compression"
            )
        }
        func symbol<Function>(_ name: String, as type: Function.Type) -> Function? {
            dlsym(handle, name).map { unsafeBitCast($0, to: type) }
        }
        guard let compressBound = symbol("ZSTD_compressBound", as: CompressBound.self),
            let compress = symbol("ZSTD_compress", as: Compress.self),
            let decompress = symbol("ZSTD_decompress", as: Decompress.self),
            let getFrameContentSize = symbol("ZSTD_getFrameContentSize", as: GetFrameContentSize.self),
            let isError = symbol("ZSTD_isError", as: IsError.self)
        else {
            throw RecordingError(
                message:
                    "the zstd library loaded lacks ZSTD_compress, ZSTD_decompress or ZSTD_getFrameContentSize (too old?): install libzstd1 1.3 or later, or choose gzip compression"
            )
        }
        self.compressBound = compressBound
        self.compressFunction = compress
        self.decompressFunction = decompress
        self.getFrameContentSize = getFrameContentSize
        self.isError = isError
        self.getErrorName = symbol("ZSTD_getErrorName", as: GetErrorName.self)
        self.getErrorCode = symbol("ZSTD_getErrorCode", as: GetErrorCode.self)
    }

    /// `bytes` as one zstd frame (with its content size in the header).
    func compress(_ bytes: [UInt8], level: Int32) throws -> [UInt8] {
        let bound = Int(compressBound(UInt(bytes.count)))
        var failure: UInt = 0
        let frame = [UInt8](unsafeUninitializedCapacity: max(bound, 1)) { buffer, initialized in
            let result = bytes.withUnsafeBytes { source in
                compressFunction(buffer.baseAddress, UInt(buffer.count), source.baseAddress, UInt(source.count), level)
            }
            if isError(result) != 0 {
                failure = result
                initialized = 0
            } else {
                initialized = Int(result)
            }
        }
        if failure != 0 { throw RecordingError(message: "zstd could not compress a request of \(bytes.count) bytes: \(errorName(failure))") }
        return frame
    }

    /// Decompresses one zstd frame of at most `limit` bytes.
    func decompress(_ frame: ArraySlice<UInt8>, limit: Int) throws -> [UInt8] {
        let contentSize = frame.withUnsafeBytes { getFrameContentSize($0.baseAddress, UInt($0.count)) }
        if contentSize == Self.contentSizeError {
            throw RecordingError(message: "zstd frame header is invalid: the entry is cut or corrupt")
        }
        if contentSize != Self.contentSizeUnknown {
            guard contentSize <= UInt64(limit) else {
                throw RecordingError(
                    message:
                        "zstd frame declares \(contentSize) bytes uncompressed, over the \(EntryCodec.entryLimitText) limit per entry: the entry is corrupt or not from a recording"
                )
            }
            let (output, result) = attempt(frame, capacity: Int(contentSize))
            guard isError(result) == 0 else { throw RecordingError(message: "zstd frame does not decompress: \(errorName(result))") }
            guard Int(result) == Int(contentSize) else {
                throw RecordingError(message: "zstd frame decompresses to \(result) bytes but its header declares \(contentSize): it is corrupt")
            }
            return output
        }
        // A frame written by a streaming compressor need not say its size: grow the room, up to the limit.
        var capacity = min(limit, max(64 * 1024, frame.count * 4))
        while true {
            let (output, result) = attempt(frame, capacity: capacity)
            if isError(result) == 0 { return output }
            let tooSmall = getErrorCode.map { $0(result) == Self.destinationTooSmall } ?? true
            guard tooSmall, capacity < limit else {
                if tooSmall {
                    throw RecordingError(message: "zstd frame decompresses to more than the \(EntryCodec.entryLimitText) limit per entry")
                }
                throw RecordingError(message: "zstd frame does not decompress: \(errorName(result))")
            }
            capacity = min(limit, capacity * 2)
        }
    }

    /// Decompresses `frame` into `capacity` bytes of room: the bytes written and `ZSTD_decompress`'s result.
    private func attempt(_ frame: ArraySlice<UInt8>, capacity: Int) -> ([UInt8], UInt) {
        var result: UInt = 0
        let output = [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, initialized in
            result = frame.withUnsafeBytes { source in
                decompressFunction(buffer.baseAddress, UInt(capacity), source.baseAddress, UInt(source.count))
            }
            initialized = isError(result) == 0 ? Int(result) : 0
        }
        return (output, result)
    }

    private func errorName(_ code: UInt) -> String {
        getErrorName.flatMap { $0(code) }.map { String(cString: $0) } ?? "error \(code)"
    }
}
