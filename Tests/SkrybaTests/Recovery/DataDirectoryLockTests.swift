import Foundation
import Testing
import SkrybaPipeline
import SkrybaSeal
import SkrybaSystem
import SkrybaStore
#if canImport(Glibc)
import Glibc
#endif

/// One owner of a data directory: a running skrybad refuses fsck, erasure and a second daemon
/// (naming itself), lets read-only commands and one-transaction changes (a legal hold) work beside
/// it, and its SIGKILL frees the directory at once.
@Suite struct DataDirectoryLockTests {
    struct Durable: Decodable { var durable: String }

    @Test func aRunningDaemonRefusesFsckAndASecondDaemonUntilItIsKilled() throws {
        _ = ALSAFixture.shared
        let directory = try makeTemporaryDirectory(prefix: "skryba-lock")
        let arguments = ["--capture", "skryba_test_speech2", "--channels", "2", "--data-dir", directory,
                         "--recipient", AgeIdentity().recipient.description, "--pacing", "simulation", "--speed", "1",
                         "--stop-at-frame", "\(8000 * 600)", "--progress"]
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: Tool.product("skrybad"))
        daemon.arguments = arguments
        let output = Pipe()
        daemon.standardOutput = output
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL); daemon.waitUntilExit() } }
        // Recording (so past start-up): the first durable record.
        var buffer = Data()
        while !buffer.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            try #require(!chunk.isEmpty, "skrybad ended before recording")
            buffer += chunk
        }
        let holder = "pid \(daemon.processIdentifier) (\(Tool.product("skrybad")) \(arguments.joined(separator: " "))), running since "

        let fsck = try Tool.run(Tool.product("skryba"), ["fsck", "--data-dir", directory])
        #expect(fsck.status == 1 && fsck.output.hasPrefix("skryba: the data directory") && !fsck.output.contains("Usage:"), "\(fsck.output)")
        #expect(fsck.output.contains("the data directory \(directory) is in use by \(holder)"), "\(fsck.output)")
        #expect(fsck.output.contains("only one process may change it at a time — stop that one first (for the daemon: systemctl stop skrybad), then try again"))
        let second = try Tool.run(Tool.product("skrybad"), arguments)
        #expect(second.status != 0)
        #expect(second.output.contains("the data directory \(directory) is in use by \(holder)"), "\(second.output)")
        let hold = try Tool.run(Tool.product("skryba"), ["hold", "add", "--data-dir", directory, "--recording", "R000001",
                                                         "--case", "I C 1/26", "--reason", "test"])
        #expect(hold.status == 0 && hold.output.contains("hold 'I C 1/26' now keeps 1 recording(s): R000001"),
                "a legal hold is one transaction: it never waits for recording to stop\n\(hold.output)")
        let erase = try Tool.run(Tool.product("skryba"), ["recordings", "erase", "R000002", "--data-dir", directory,
                                                          "--reason", "art. 17 request", "--by", "dpo"])
        #expect(erase.status != 0 && erase.output.contains("is in use by \(holder)"), "erasure deletes files: only the owner may\n\(erase.output)")

        // Read-only commands work beside the daemon.
        let list = try Tool.run(Tool.product("skryba"), ["recordings", "list", "--data-dir", directory])
        #expect(list.status == 0 && list.output.contains("R000001\t1\tline"), "\(list.output)")
        let verify = try Tool.run(Tool.product("skryba"), ["audit", "verify", "--data-dir", directory])
        #expect(verify.status == 0 && verify.output.contains("chain intact"), "\(verify.output)")
        let rows = try Catalog(dataDirectory: directory).recordings()
        #expect(rows.count == 2 && rows.allSatisfy { $0.status == .recording }, "nothing was closed behind the daemon's back")

        // A SIGKILL (like a power cut) frees the directory: the kernel drops the lock.
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
        let after = try Tool.run(Tool.product("skryba"), ["fsck", "--data-dir", directory])
        #expect(after.status == 1, "\(after.output)")
        #expect(after.output.contains("closed-interrupted: R000001"), "\(after.output)")
        let again = try Tool.run(Tool.product("skryba"), ["fsck", "--data-dir", directory])
        #expect(again.status == 0 && again.output.contains("0 finding(s)"), "recovery is final: no file-changed later\n\(again.output)")
    }

    @Test func theLockFileNamesItsHolderAndIsFreedWithIt() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-lock-file")
        let now = Date(timeIntervalSince1970: 1_764_000_000)
        do {
            let lock = try DataDirectoryLock.acquire(dataDirectory: directory, command: ["skrybad", "--config", "/etc/skryba/skryba.toml"], at: now)
            let text = String(decoding: FileManager.default.contents(atPath: lock.path) ?? Data(), as: UTF8.self)
            #expect(text == "pid \(getpid())\ncommand skrybad --config /etc/skryba/skryba.toml\nsince 2025-11-24T16:00:00.000Z\n")
            #expect(throws: DataDirectoryLockError.self) { try DataDirectoryLock.acquire(dataDirectory: directory) }
            do {
                _ = try DataDirectoryLock.acquire(dataDirectory: directory)
            } catch {
                #expect(error.description == "the data directory \(directory) is in use by pid \(getpid()) (skrybad --config /etc/skryba/skryba.toml), "
                    + "running since 2025-11-24T16:00:00.000Z; only one process may change it at a time — stop that one first "
                    + "(for the daemon: systemctl stop skrybad), then try again")
            }
            withExtendedLifetime(lock) {}
        }
        _ = try DataDirectoryLock.acquire(dataDirectory: directory)  // released with its owner
    }
}
