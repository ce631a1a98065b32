#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Overwrites plaintext before its memory is released. `explicit_bzero` is a store the compiler may
/// not remove as dead (a loop of zero stores before a free may be), which is the point for audio
/// that was never consented to.
///
/// Only memory that is never reallocated is fully wiped: an `Array` that grew has left earlier
/// copies behind in freed blocks. Hold plaintext in buffers of fixed capacity (`reserveCapacity`
/// up front, or a raw buffer) and wipe those.
public enum SecureWipe {
    public static func wipe(_ bytes: UnsafeMutableRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        explicit_bzero(base, bytes.count)
    }

    /// Wipes every element of `array` in place and empties it (its storage is released by the caller's next assignment or now).
    public static func wipe<Element: BitwiseCopyable>(_ array: inout [Element]) {
        array.withUnsafeMutableBytes { wipe($0) }
        array.removeAll()
    }
}
