#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SkrybaSystem

/// A few MiB of real blocks kept in `DATA_DIR/.reserve`, as databases keep an emergency reserve:
/// on a 100 % full filesystem SQLite cannot even open the catalog (WAL and shared memory need
/// blocks), so recovery and the retention that would free space could never run. When the
/// appliance finds the disk full — at start-up, or when a write fails with ENOSPC — it deletes the
/// reserve and so has room to open the catalog, close the call, run retention. It makes the
/// reserve again once the filesystem has room for it twice over.
public struct StorageReserve: Sendable {
    public static let fileName = ".reserve"
    public static let defaultSize: Int64 = 4 << 20
    public let dataDirectory: String
    public let size: Int64

    public init(dataDirectory: String, size: Int64 = StorageReserve.defaultSize) {
        self.dataDirectory = dataDirectory
        self.size = size
    }

    public var path: String { "\(dataDirectory)/\(Self.fileName)" }

    public var exists: Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    /// Free bytes an unprivileged writer may still use on the data directory's filesystem.
    public func availableBytes() -> Int64? {
        var info = statvfs()
        guard statvfs(dataDirectory, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Releases the reserve when less than its own size is free. True when it was released.
    @discardableResult
    public func releaseIfFull() -> Bool {
        guard let available = availableBytes(), available < size else { return false }
        return release()
    }

    /// Deletes the reserve (and fsyncs the directory, so the blocks are free for good). True when
    /// there was one to delete: the caller raises the alarm once.
    @discardableResult
    public func release() -> Bool {
        unlink(path + ".tmp")
        guard unlink(path) == 0 else { return false }
        try? Directory.sync(dataDirectory)
        return true
    }

    /// Makes the reserve when it is missing and at least twice its size is free (so making it never
    /// fills the disk it protects). Real blocks: posix_fallocate, which writes zeros where the
    /// filesystem cannot allocate. Temp file, fsync, rename, fsync: never half a reserve.
    @discardableResult
    public func restoreIfRoom() -> Bool {
        guard !exists, let available = availableBytes(), available >= 2 * size else { return false }
        let temporary = path + ".tmp"
        do throws(FileError) {
            let file = try FileDescriptor.open(temporary, .truncate(permissions: 0o600))
            do throws(FileError) {
                let status = posix_fallocate(file.rawValue, 0, off_t(size))
                if status != 0 { throw FileError(operation: "posix_fallocate", path: temporary, errno: status) }
                try file.sync(path: temporary)
            } catch {
                try? file.close()
                throw error
            }
            try file.close(path: temporary)
            try Directory.rename(temporary, to: path, directory: dataDirectory)
            return true
        } catch {
            unlink(temporary)
            return false
        }
    }
}
