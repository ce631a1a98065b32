#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SkrybaOgg

/// A failed file operation: which call, on which path, errno.
public struct FileError: Error, Equatable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(path): \(operation) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Appends Ogg pages to a plain file (unsealed `.opus`: the bench's `--no-seal` path and IT-side
/// output). With `syncOnFlush`, every flush interval is fsync'ed.
public struct FileSink: OggPageSink {
    public let path: String
    public let syncOnFlush: Bool
    private let descriptor: Int32
    public private(set) var bytesWritten = 0

    /// Creates (or truncates) `path` with mode 0640.
    public init(path: String, syncOnFlush: Bool = false) throws(FileError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw FileError(operation: "open", path: path, errno: errno) }
        self.path = path
        self.syncOnFlush = syncOnFlush
        self.descriptor = descriptor
    }

    public mutating func write(page: UnsafeRawBufferPointer) throws {
        try writeAll(descriptor, page, path: path)
        bytesWritten += page.count
    }

    public mutating func flush() throws {
        // A failed fsync is never retried (the kernel may have dropped the dirty pages): it is fatal for this file.
        if syncOnFlush, fsync(descriptor) != 0 { throw FileError(operation: "fsync", path: path, errno: errno) }
    }

    /// Closes the file; the sink must not be used afterwards.
    public func close() throws(FileError) {
        if Glibc.close(descriptor) != 0 { throw FileError(operation: "close", path: path, errno: errno) }
    }
}

/// write(2) until every byte is written (short writes and EINTR are normal, not errors).
func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileError) {
    var offset = 0
    while offset < bytes.count {
        let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            throw FileError(operation: "write", path: path, errno: errno)
        }
        offset += written
    }
}
