#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

/// An open file descriptor with the crash-safety rules of DESIGN.md §4 built in: writes loop over
/// short writes and EINTR; a failed fsync is never retried (the kernel may already have dropped the
/// dirty pages, so a retry that "succeeds" would lie) — the file is poisoned instead.
public struct FileDescriptor: Sendable {
    public let rawValue: Int32
    public let path: String

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
        let descriptor: Int32 = switch mode {
        case .readOnly: Glibc.open(path, O_RDONLY | O_CLOEXEC)
        case .createExclusive(let permissions): Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        case .truncate(let permissions): Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, permissions)
        case .createOrOpen(let permissions): Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, permissions)
        case .readWrite: Glibc.open(path, O_RDWR | O_CLOEXEC)
        }
        guard descriptor >= 0 else { throw FileError(operation: "open", path: path, errno: errno) }
        let file = FileDescriptor(rawValue: descriptor, path: path)
        switch mode {
        case .createExclusive(let permissions), .truncate(let permissions), .createOrOpen(let permissions):
            do throws(FileError) {
                if fchmod(descriptor, mode_t(permissions)) != 0 { throw FileError(operation: "fchmod", path: path, errno: errno) }
                try Ownership.adoptParentOwner(descriptor: descriptor, path: path)
            } catch {
                Glibc.close(descriptor)
                throw error
            }
        case .readOnly, .readWrite:
            break
        }
        return file
    }

    /// write(2) until every byte is written.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(rawValue, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileError(operation: "write", path: path, errno: errno)
            }
            offset += written
        }
    }

    public func writeAll(_ bytes: [UInt8]) throws(FileError) {
        let failure: FileError? = bytes.withUnsafeBytes { buffer in
            do throws(FileError) { try writeAll(buffer) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    public func sync() throws(FileError) {
        if fsync(rawValue) != 0 { throw FileError(operation: "fsync", path: path, errno: errno) }
    }

    public func truncate(to length: Int64) throws(FileError) {
        if ftruncate(rawValue, off_t(length)) != 0 { throw FileError(operation: "ftruncate", path: path, errno: errno) }
    }

    public func size() throws(FileError) -> Int64 {
        var status = stat()
        guard fstat(rawValue, &status) == 0 else { throw FileError(operation: "fstat", path: path, errno: errno) }
        return Int64(status.st_size)
    }

    /// Reads the whole file from the start.
    public func readAll() throws(FileError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(rawValue, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileError(operation: "read", path: path, errno: errno)
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            offset += off_t(count)
        }
    }

    public func close() throws(FileError) {
        if Glibc.close(rawValue) != 0 { throw FileError(operation: "close", path: path, errno: errno) }
    }
}

/// Directory operations whose durability matters: a new, renamed or removed entry is only on disk
/// after the directory itself is fsync'ed.
public enum Directory {
    public static func sync(_ path: String) throws(FileError) {
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileError(operation: "open directory", path: path, errno: errno) }
        defer { Glibc.close(descriptor) }
        if fsync(descriptor) != 0 { throw FileError(operation: "fsync directory", path: path, errno: errno) }
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
