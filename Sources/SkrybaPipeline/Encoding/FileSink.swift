#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SkrybaOgg
import SkrybaSystem

/// Appends Ogg pages to a plain file (unsealed `.opus`: the bench's `--no-seal` path and IT-side
/// output). With `syncOnFlush`, every flush interval is fsync'ed.
public struct FileSink: OggPageSink {
    public let path: String
    public let syncOnFlush: Bool
    private let file: FileDescriptor
    public private(set) var bytesWritten = 0

    /// Creates (or truncates) `path` with mode 0640.
    public init(path: String, syncOnFlush: Bool = false) throws(FileError) {
        file = try .open(path, .truncate(permissions: 0o640))
        self.path = path
        self.syncOnFlush = syncOnFlush
    }

    public mutating func write(page: UnsafeRawBufferPointer) throws {
        try file.writeAll(page, path: path)
        bytesWritten += page.count
    }

    public mutating func flush(isFinal: Bool) throws {
        if syncOnFlush { try file.sync(path: path) }
    }

    /// Closes the file; the sink must not be used afterwards.
    public func close() throws(FileError) { try file.close(path: path) }
}

