import Foundation
import Testing
import SkrybaPipeline
import SkrybaSeal
import SkrybaSystem
@testable import SkrybaStore
#if canImport(Glibc)
import Glibc
#endif

/// What the code creates under the data directory: owner-only, and owned by the data directory's
/// owner even when a command runs as root. And `Directory.files` lists big directories exactly.
@Suite struct DataDirectoryFilesTests {
    static func owner(_ path: String) -> (uid: uid_t, gid: gid_t, mode: mode_t)? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return (status.st_uid, status.st_gid, status.st_mode & 0o7777)
    }

    /// 1,500 names from 1 to 255 bytes in one directory, listed a few times: every name exact.
    @Test func directoryListingReadsEveryNameExactly() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-listing")
        var generator = SplitMix64(seed: 9)
        var expected: [String] = []
        for index in 0..<1500 {
            let length = Int.random(in: 1...(255 - 5), using: &generator)
            let name = String(format: "%05d", index) + String(repeating: "x", count: length)
            try FileDescriptor.open("\(directory)/\(name)", .createExclusive(permissions: 0o600)).close()
            expected.append("\(directory)/\(name)")
        }
        try Directory.create("\(directory)/sub/dir")
        try FileDescriptor.open("\(directory)/sub/dir/R000001.skryba", .createExclusive(permissions: 0o600)).close()
        expected.append("\(directory)/sub/dir/R000001.skryba")
        for _ in 0..<3 { #expect(Directory.files(under: directory) == expected.sorted()) }
    }

    /// A data directory made from nothing by skrybad: directories 0700, files 0600, catalog and its
    /// -wal and -shm included, whatever the umask.
    @Test func everythingTheDaemonCreatesIsOwnerOnly() throws {
        let fixture = ALSAFixture.shared
        let data = try makeTemporaryDirectory(prefix: "skryba-modes") + "/fresh/data"
        let previous = umask(0o022)
        defer { umask(previous) }
        let run = try Tool.run(Tool.product("skrybad"), ["--capture", "skryba_test_speech2", "--channels", "2", "--data-dir", data,
                                                         "--recipient", AgeIdentity().recipient.description, "--pacing", "simulation",
                                                         "--stop-at-frame", "\(fixture.speech[0].count)"])
        #expect(run.status == 0, "\(run.output)")
        let catalog = try Catalog(dataDirectory: data)  // opens -wal and -shm again
        let rows = try catalog.recordings()
        let day = (try #require(rows.first?.filePath) as NSString).deletingLastPathComponent
        for directory in [data, "\(data)/keys", "\(data)/recordings", "\(data)/\(day)", "\(data)/\((day as NSString).deletingLastPathComponent)"] {
            #expect(Self.owner(directory)?.mode == 0o700, "\(directory)")
        }
        var files = ["catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", DataLayout.deviceKey, DataDirectoryLock.fileName,
                     StorageReserve.fileName]
        files += rows.compactMap(\.filePath)
        for file in files { #expect(Self.owner("\(data)/\(file)")?.mode == 0o600, "\(file)") }
        withExtendedLifetime(catalog) {}
    }

    /// Root runs `skryba copies add` on a data directory owned by the daemon's user (uid 12345):
    /// `secured/`, the copy and (from fsck) the lock belong to that user, owner-only (SQLite gives -wal and -shm
    /// the catalog's owner and mode itself).
    @Test func rootRunCommandsKeepTheDataDirectorysOwner() throws {
        try #require(geteuid() == 0, "the tests run as root")
        let data = try makeTemporaryDirectory(prefix: "skryba-owner")
        do {
            let catalog = try Catalog(dataDirectory: data, actor: "test")
            let id = try catalog.insert(NewRecording(line: 1, direction: .incoming, startUTC: Date().addingTimeInterval(-3600), startFrame: 0,
                                                     recipients: [AgeIdentity().recipient.description], callerNumber: "221234567"), at: Date())
            let relative = DataLayout.recordingPath(id, startUTC: Date().addingTimeInterval(-3600))
            try Directory.create(("\(data)/\(relative)" as NSString).deletingLastPathComponent)
            let file = try FileDescriptor.open("\(data)/\(relative)", .createExclusive(permissions: 0o600))
            try file.writeAll(Array("sealed".utf8))
            try file.close()
            try catalog.setFile(id, relativePath: relative, at: Date())
            try catalog.finish(id, status: .complete, endFrame: 8000, durationMs: 1000, fileSize: 6,
                               fileSHA256: String(repeating: "a", count: 64), reason: nil, at: Date())
        }
        let chown = try Tool.run("chown", ["-R", "12345:12345", data])
        #expect(chown.status == 0, "\(chown.output)")

        let copy = try Tool.run(Tool.product("skryba"), ["copies", "add", "--data-dir", data, "--recording", "R000001",
                                                         "--called-number", "221000000", "--made-by", "Jan Kowalski"])
        #expect(copy.status == 0, "\(copy.output)")
        let secured = "\(data)/\(SecuredCopies.directory)"
        #expect(Self.owner(secured).map { [$0.uid, $0.gid, $0.mode] } == [12345, 12345, 0o700])
        let copies = Directory.files(under: secured)
        #expect(copies.count == 1)
        // fsck owns the directory (copies add runs beside the daemon and takes no lock): its lock file too.
        let fsck = try Tool.run(Tool.product("skryba"), ["fsck", "--data-dir", data])
        #expect(fsck.output.contains("finding(s)"), "\(fsck.output)")
        for path in copies + ["\(data)/\(DataDirectoryLock.fileName)", "\(data)/catalog.sqlite"] {
            #expect(Self.owner(path).map { [$0.uid, $0.gid, $0.mode] } == [12345, 12345, 0o600], "\(path)")
        }
        // This (root) process opening the catalog: SQLite gives -wal and -shm the catalog's owner and mode.
        let catalog = try Catalog(dataDirectory: data)
        for path in ["\(data)/catalog.sqlite-wal", "\(data)/catalog.sqlite-shm"] {
            #expect(Self.owner(path).map { [$0.uid, $0.gid, $0.mode] } == [12345, 12345, 0o600], "\(path)")
        }
        withExtendedLifetime(catalog) {}
    }
}
