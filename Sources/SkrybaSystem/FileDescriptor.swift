#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
// swift-system's `FileDescriptor`, `Errno` and `FilePath` are the project's file handles: every
// target that imports SkrybaSystem sees them, with the crash-safety discipline below on top.
@_exported import SystemPackage

/// A failed file operation: which call, on which path, errno. The description is the sentence a
/// technician reads: "<path>: fsync failed: Input/output error (errno 5)".
public struct FileError: Error, Equatable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public init(operation: String, path: String, _ error: Errno) {
        self.init(operation: operation, path: path, errno: error.rawValue)
    }

    /// The same errno as swift-system's type (`.noSpace`, `.fileExists`, …).
    public var code: Errno { Errno(rawValue: errno) }

    public var description: String { "\(path): \(operation) failed: \(code) (errno \(errno))" }
}

/// Runs one swift-system call; its `Errno` becomes a `FileError` naming `operation` and `path`.
@inline(__always)
func naming<T>(_ operation: String, _ path: String, _ body: () throws -> T) throws(FileError) -> T {
    do {
        return try body()
    } catch {
        // swift-system throws only `Errno`; anything else would be a new failure mode of its own.
        throw FileError(operation: operation, path: path, errno: (error as? Errno)?.rawValue ?? EIO)
    }
}

/// The crash-safety rules of DESIGN.md §4 on swift-system's descriptor: every open is O_CLOEXEC
/// (no descriptor leaks into a child), reads and writes retry EINTR and loop over short counts; a
/// failed fsync is never retried (the kernel may already have dropped the dirty pages, so a retry
/// that "succeeds" would lie): the caller cuts the file back to its last durable size instead
/// (`truncateDurably`). Errors name the file and the operation (`FileError`).
extension FileDescriptor {
    public enum Mode: Sendable {
        case readOnly
        /// Create a new file; fails if it exists (never overwrite a recording).
        case createExclusive(permissions: UInt32)
        /// Create or truncate.
        case truncate(permissions: UInt32)
        /// Open read-write, creating the file if it is missing; never truncates.
        case createOrOpen(permissions: UInt32)
        case readWrite
    }

    /// A created file gets exactly `permissions` (fchmod: whatever the umask) and, when root creates
    /// it, the owner of the directory it is in (`Ownership`).
    public static func open(_ path: String, _ mode: Mode) throws(FileError) -> FileDescriptor {
        let (access, options, permissions): (AccessMode, OpenOptions, UInt32?) = switch mode {
        case .readOnly: (.readOnly, [], nil)
        case .createExclusive(let permissions): (.writeOnly, [.create, .exclusiveCreate], permissions)
        case .truncate(let permissions): (.writeOnly, [.create, .truncate], permissions)
        case .createOrOpen(let permissions): (.readWrite, [.create], permissions)
        case .readWrite: (.readWrite, [], nil)
        }
        let file = try naming("open", path) {
            try FileDescriptor.open(FilePath(path), access, options: options.union(.closeOnExec),
                                    permissions: permissions.map { FilePermissions(rawValue: mode_t($0)) }, retryOnInterrupt: true)
        }
        if let permissions {
            do throws(FileError) {
                if fchmod(file.rawValue, mode_t(permissions)) != 0 { throw FileError(operation: "fchmod", path: path, errno: errno) }
                try Ownership.adoptParentOwner(descriptor: file.rawValue, path: path)
            } catch {
                try? file.close()
                throw error
            }
        }
        return file
    }

    /// write(2) until every byte is written (short writes and EINTR are retried; swift-system's `writeAll`).
    public func writeAll(_ bytes: UnsafeRawBufferPointer, path: String) throws(FileError) {
        _ = try naming("write", path) { try writeAll(bytes) }
    }

    public func writeAll(_ bytes: [UInt8], path: String) throws(FileError) {
        _ = try naming("write", path) { try writeAll(bytes) }
    }

    /// fsync(2), exactly once: a failure (EINTR included) is reported, never retried.
    public func sync(path: String) throws(FileError) {
        if fsync(rawValue) != 0 { throw FileError(operation: "fsync", path: path, errno: errno) }
    }

    public func truncate(to length: Int64, path: String) throws(FileError) {
        try naming("ftruncate", path) { try resize(to: length, retryOnInterrupt: true) }
    }

    /// Cuts the file back to `length` (the end of what is known to be on disk) and fsyncs the cut:
    /// what a torn or failed write left beyond it is gone, the rest stays a valid file. Truncating
    /// needs no free space, so it works on a full disk.
    public func truncateDurably(to length: Int64, path: String) throws(FileError) {
        try truncate(to: length, path: path)
        try sync(path: path)
    }

    public func size(path: String) throws(FileError) -> Int64 {
        try naming("fstat", path) { try stat(retryOnInterrupt: true).size }
    }

    /// Reads the whole file from the start (pread, so the file offset does not matter).
    public func readAll(path: String) throws(FileError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var offset: Int64 = 0
        while true {
            let count = try naming("read", path) {
                try chunk.withUnsafeMutableBytes { try read(fromAbsoluteOffset: offset, into: $0, retryOnInterrupt: true) }
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            offset += Int64(count)
        }
    }

    /// close(2), never retried (on Linux the descriptor is gone even when close reports EINTR).
    public func close(path: String) throws(FileError) {
        try naming("close", path) { try close() }
    }
}

/// Directory operations whose durability matters: a new, renamed or removed entry is only on disk
/// after the directory itself is fsync'ed.
public enum Directory {
    public static func sync(_ path: String) throws(FileError) {
        let directory = try naming("open directory", path) {
            try FileDescriptor.open(FilePath(path), .readOnly, options: [.directory, .closeOnExec], retryOnInterrupt: true)
        }
        defer { try? directory.close() }
        if fsync(directory.rawValue) != 0 { throw FileError(operation: "fsync directory", path: path, errno: errno) }
    }
    /// mkdir -p with mode (owner-only unless asked otherwise), fsync'ing each parent whose entry
    /// list changed. A directory root creates takes its parent's owner (`Ownership`).
    public static func create(_ path: String, permissions: UInt32 = 0o700) throws(FileError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            let parent = prefix.isEmpty ? "/" : prefix
            prefix += "/" + component
            if mkdir(prefix, mode_t(permissions)) == 0 {
                try Ownership.adoptParentOwner(path: prefix)
                try sync(parent)
            } else if errno != EEXIST {
                throw FileError(operation: "mkdir", path: prefix, errno: errno)
            }
        }
    }

    public static func exists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// rename(2) then fsync the directory: the atomic replace.
    public static func rename(_ from: String, to: String, directory: String) throws(FileError) {
        if Glibc.rename(from, to) != 0 { throw FileError(operation: "rename to \(to)", path: from, errno: errno) }
        try sync(directory)
    }

    /// Regular files below `path`, recursively, sorted.
    public static func files(under path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        // readdir's record ends after d_name's terminator (its d_reclen), not at sizeof(struct dirent):
        // read the name in place, never copy the whole struct out of the buffer.
        guard let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name) else { return [] }
        var found: [String] = []
        while let entry = readdir(directory) {
            let name = String(cString: UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self))
            if name == "." || name == ".." { continue }
            let child = "\(path)/\(name)"
            var status = stat()
            guard lstat(child, &status) == 0 else { continue }
            switch status.st_mode & S_IFMT {
            case S_IFDIR: found += files(under: child)
            case S_IFREG: found.append(child)
            default: break
            }
        }
        return found.sorted()
    }
}

/// Who owns what the appliance creates. Everything under the data directory belongs to the daemon's
/// user; when a command runs as root (a technician's `sudo skryba copies add`), a file or directory
/// it creates takes the owner and group of the directory it is made in, so the daemon can still
/// use it. Not root: nothing to do (the kernel makes the caller the owner).
public enum Ownership {
    public static func adoptParentOwner(path: String) throws(FileError) {
        guard geteuid() == 0, let owner = try ownerOfParent(path) else { return }
        if lchown(path, owner.uid, owner.gid) != 0 { throw FileError(operation: "chown", path: path, errno: errno) }
    }

    public static func adoptParentOwner(descriptor: Int32, path: String) throws(FileError) {
        guard geteuid() == 0, let owner = try ownerOfParent(path) else { return }
        if fchown(descriptor, owner.uid, owner.gid) != 0 { throw FileError(operation: "chown", path: path, errno: errno) }
    }

    /// The parent's uid and gid when they differ from root's own (nil: nothing to change).
    private static func ownerOfParent(_ path: String) throws(FileError) -> (uid: uid_t, gid: gid_t)? {
        let slash = path.lastIndex(of: "/")
        let parent = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var status = stat()
        guard stat(parent, &status) == 0 else { throw FileError(operation: "stat", path: parent, errno: errno) }
        return status.st_uid == 0 && status.st_gid == 0 ? nil : (status.st_uid, status.st_gid)
    }
}

/// A fresh private directory under $TMPDIR (mkdtemp): a plain path, safe inside ALSA_CONFIG_PATH,
/// which alsa-lib splits on separators.
public func makeTemporaryDirectory(prefix: String) throws(FileError) -> String {
    let base = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array("\(base)/\(prefix).XXXXXX".utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
        throw FileError(operation: "mkdtemp", path: base, errno: errno)
    }
    return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
