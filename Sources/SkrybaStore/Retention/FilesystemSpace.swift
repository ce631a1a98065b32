#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SkrybaSystem

/// Size and free space of the filesystem holding a path.
public struct FilesystemUsage: Equatable, Sendable {
    public var totalBytes: Int64
    /// What an unprivileged writer can still use (statvfs f_bavail): ext4's reserved blocks are not counted.
    public var availableBytes: Int64

    public init(totalBytes: Int64, availableBytes: Int64) {
        self.totalBytes = totalBytes
        self.availableBytes = availableBytes
    }

    public var availablePercent: Double { totalBytes > 0 ? Double(availableBytes) * 100 / Double(totalBytes) : 0 }
}

/// Where the retention engine learns how full the recordings' filesystem is.
public protocol FilesystemSpace: Sendable {
    func usage(of path: String) throws -> FilesystemUsage
}

/// statvfs(3): the real thing, on the appliance and in the tests (a real tmpfs).
public struct StatvfsSpace: FilesystemSpace {
    public init() {}

    public func usage(of path: String) throws -> FilesystemUsage {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { throw RetentionError.file(FileError(operation: "statvfs", path: path, errno: errno)) }
        let blockSize = Int64(info.f_frsize)
        return FilesystemUsage(totalBytes: Int64(info.f_blocks) * blockSize, availableBytes: Int64(info.f_bavail) * blockSize)
    }
}
