#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SkrybaSystem

/// One owner of a data directory at a time: `skrybad` and every command that changes the catalog
/// or the files take an exclusive flock(2) on `DATA_DIR/.lock` for as long as they run. The kernel
/// drops it when the process ends however it ends (exit, SIGKILL, power cut), so a stale lock never
/// blocks a restart. The holder writes its pid and command line into the file, so whoever is
/// refused is told who has it. Read-only commands take no lock.
public final class DataDirectoryLock: @unchecked Sendable {
    public static let fileName = ".lock"
    public let path: String
    private let file: FileDescriptor

    private init(path: String, file: FileDescriptor) {
        self.path = path
        self.file = file
    }

    deinit { try? file.close() }

    /// Takes the lock or refuses at once (never waits: a second daemon must not queue behind the first).
    /// Creates the data directory (0700) if it is missing.
    public static func acquire(dataDirectory: String, command: [String] = CommandLine.arguments,
                               at now: Date = Date()) throws(DataDirectoryLockError) -> DataDirectoryLock {
        let path = "\(dataDirectory)/\(fileName)"
        let file: FileDescriptor
        do throws(FileError) {
            try Directory.create(dataDirectory)
            file = try FileDescriptor.open(path, .createOrOpen(permissions: 0o600))
        } catch { throw .file(error) }
        while flock(file.rawValue, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let failure = errno
            let holder = (try? file.readAll(path: path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            try? file.close()
            if failure == EWOULDBLOCK { throw .held(dataDirectory: dataDirectory, holder: Holder(parsing: holder)) }
            throw .file(FileError(operation: "flock", path: path, errno: failure))
        }
        // Best effort: on a 100 % full disk the name may not fit, and the lock itself is what counts.
        let text = "pid \(getpid())\ncommand \(command.joined(separator: " "))\nsince \(UTCTimestamp.string(from: now))\n"
        try? file.truncate(to: 0, path: path)
        try? file.writeAll(Array(text.utf8), path: path)
        return DataDirectoryLock(path: path, file: file)
    }

    /// For a command that owns the directory until it exits: the lock is kept for the process's lifetime.
    /// Holding it already (a command that opens the catalog twice) is not a conflict.
    public static func holdUntilExit(dataDirectory: String) throws(DataDirectoryLockError) {
        let path = "\(dataDirectory)/\(fileName)"
        var alreadyHeld = false
        held.withLock { locks in alreadyHeld = locks.contains { $0.path == path } }
        guard !alreadyHeld else { return }
        let lock = try acquire(dataDirectory: dataDirectory)
        held.withLock { $0.append(lock) }
    }

    private static let held = LockedLocks()

    private final class LockedLocks: @unchecked Sendable {
        private let guardian = NSLock()
        private var locks: [DataDirectoryLock] = []
        func withLock(_ body: (inout [DataDirectoryLock]) -> Void) { guardian.withLock { body(&locks) } }
    }

    /// Who holds a lock, as its file says.
    public struct Holder: Equatable, Sendable, CustomStringConvertible {
        public var pid: Int32?
        public var command: String?
        public var since: String?

        init(parsing text: String) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                switch parts[0] {
                case "pid": pid = Int32(parts[1])
                case "command": command = parts[1]
                case "since": since = parts[1]
                default: break
                }
            }
        }

        public var description: String {
            guard let pid else { return "another process (it has not written its name into the lock file yet)" }
            return "pid \(pid)" + (command.map { " (\($0))" } ?? "") + (since.map { ", running since \($0)" } ?? "")
        }
    }
}

public enum DataDirectoryLockError: Error, Equatable, CustomStringConvertible {
    case held(dataDirectory: String, holder: DataDirectoryLock.Holder)
    case file(FileError)

    public var description: String {
        switch self {
        case .held(let directory, let holder):
            "the data directory \(directory) is in use by \(holder); only one process may change it at a time — "
                + "stop that one first (for the daemon: systemctl stop skrybad), then try again"
        case .file(let error):
            "cannot lock the data directory: \(error)"
        }
    }
}
