import Foundation
import SkrybaSystem
import Testing
@testable import SkrybaStore
#if canImport(Glibc)
import Glibc
#endif

/// A real tmpfs of a given size mounted at `path` (needs root, as the tests run here). A failed
/// mount fails the test: capacity is never tested against a mock.
struct TmpfsMount {
    let path: String

    init(at path: String, size: String) throws {
        try Directory.create(path)
        let status = "size=\(size),mode=0750".withCString { options in mount("tmpfs", path, "tmpfs", 0, options) }
        guard status == 0 else {
            let reason = String(cString: strerror(errno))
            Issue.record("mount -t tmpfs -o size=\(size) tmpfs \(path) failed: \(reason); the capacity tests need root and a real small filesystem")
            throw FileError(operation: "mount tmpfs", path: path, errno: errno)
        }
        self.path = path
    }

    func unmount() {
        if umount2(path, 0) != 0 { Issue.record("umount \(path) failed: \(String(cString: strerror(errno)))") }
    }
}

extension RetentionTests {
    /// Capacity on a real 2 MiB tmpfs mounted at DATA_DIR/recordings: oldest first, never a held
    /// recording, never the call in progress; an alarm flag when nothing is left to delete.
    @Suite(.serialized) struct CapacityTests {
        static let pageSize: Int64 = 4096

        /// ~200 KB sealed recordings, one a day from 1 January 2026.
        func fill(_ fixture: RetentionFixture, count: Int) throws -> [RecordingID] {
            try (0..<count).map { day in
                try fixture.record(line: 1, start: utc("2026-01-01T08:00:00.000Z").addingTimeInterval(Double(day) * 86_400),
                                   records: 50, recordBytes: 4000)
            }
        }

        /// Bytes a file occupies on tmpfs: whole pages.
        func pages(_ fixture: RetentionFixture, _ id: RecordingID) throws -> Int64 {
            let size = try #require(try fixture.catalog.recording(id)?.fileSize)
            return (size + Self.pageSize - 1) / Self.pageSize * Self.pageSize
        }

        @Test func pressureDeletesOldestFirstAndNeverAHeldOne() throws {
            let fixture = try RetentionFixture("capacity")
            let mount = try TmpfsMount(at: "\(fixture.directory)/recordings", size: "2m")
            defer { mount.unmount() }
            let ids = try fill(fixture, count: 8)
            try fixture.catalog.addHold(caseReference: "II K 7/26", reason: "evidence", recordings: [ids[0], ids[3]],
                                        at: utc("2026-01-09T08:00:00.000Z"))
            // Halinów: as long as capacity allows; here, keep half the filesystem free.
            let policy = RetentionPolicy(default: .untilCapacity, capacity: CapacityRule(minimumFreePercent: 50))
            let engine = fixture.engine(policy)
            let before = try StatvfsSpace().usage(of: mount.path)
            #expect(before.totalBytes == 2 << 20)
            let required = Int64(1 << 20)
            #expect(before.availableBytes < required)

            // What must go: the oldest recordings that are not held, until half is free.
            var expected: [RecordingID] = []
            var free = before.availableBytes
            for id in ids where id != ids[0] && id != ids[3] && free < required {
                expected.append(id)
                free += try pages(fixture, id)
            }
            #expect(expected == [ids[1], ids[2], ids[4]])

            let report = try engine.run(at: utc("2026-01-09T09:00:00.000Z"))
            #expect(report.deleted.map(\.recording) == expected)
            #expect(report.deleted.allSatisfy { $0.rule == "capacity" && $0.deadlineUTC == nil })
            #expect(report.capacityRuleMet)
            #expect(!report.nothingDeletable)
            #expect(report.requiredFreeBytes == required)
            #expect(try #require(report.usage).availableBytes >= required)
            #expect(try fixture.fileExists(ids[0]) && fixture.fileExists(ids[3]))
            #expect(try fixture.catalog.recordings(includeDeleted: false, includeRestricted: true).map(\.id)
                == [ids[0], ids[3], ids[5], ids[6], ids[7]])
            // A second run has nothing to do.
            let again = try engine.run(at: utc("2026-01-09T10:00:00.000Z"))
            #expect(again.deleted == [])
            #expect(again.receipt == nil)
            #expect(try fixture.catalog.audit.verify().isIntact)
        }

        @Test func aFullDiskMakesRoomForTheCallInProgressThenRaisesTheAlarm() throws {
            let fixture = try RetentionFixture("enospc")
            let mount = try TmpfsMount(at: "\(fixture.directory)/recordings", size: "2m")
            defer { mount.unmount() }
            let ids = try fill(fixture, count: 6)
            try fixture.catalog.addHold(caseReference: "II K 8/26", reason: "evidence", recordings: [ids[0]],
                                        at: utc("2026-01-07T08:00:00.000Z"))
            let engine = fixture.engine(RetentionPolicy(default: .untilCapacity, capacity: CapacityRule(minimumFreePercent: 10)))
            #expect(try engine.run(at: utc("2026-01-07T08:00:00.000Z")).deleted == [])

            // A call in progress writes until the filesystem is full.
            let callStart = utc("2026-01-07T09:00:00.000Z")
            let call = try fixture.catalog.insert(NewRecording(line: 2, direction: .incoming, startUTC: callStart, startFrame: 0,
                                                               recipients: [RetentionFixture.identity.recipient.description]), at: callStart)
            let relative = DataLayout.recordingPath(call, startUTC: callStart)
            try Directory.create("\(fixture.directory)/\((relative as NSString).deletingLastPathComponent)")
            try fixture.catalog.setFile(call, relativePath: relative, at: callStart)
            let file = try FileDescriptor.open("\(fixture.directory)/\(relative)", .createExclusive(permissions: 0o600))
            defer { try? file.close() }
            let chunk = [UInt8](repeating: 0x5A, count: 64 * 1024)
            func writeUntilFull() -> FileError? {
                while true {
                    do throws(FileError) { try file.writeAll(chunk) } catch { return error }
                }
            }
            #expect(writeUntilFull()?.errno == ENOSPC)

            // The daemon asks for room: the oldest recordings that are not held go, the call is untouched.
            let report = try engine.makeRoom(bytesNeeded: 256 * 1024, at: utc("2026-01-07T09:05:00.000Z"))
            #expect(report.deleted.map(\.recording) == [ids[1], ids[2], ids[3]])
            #expect(report.capacityRuleMet)
            #expect(!report.nothingDeletable)
            #expect(try fixture.catalog.recording(call)?.status == .recording)
            try file.writeAll([UInt8](repeating: 0x5A, count: 256 * 1024))  // the call goes on

            // Everything left is held: filling up again, there is nothing to delete — the alarm.
            try fixture.catalog.addHold(caseReference: "II K 9/26", reason: "evidence", recordings: [ids[4], ids[5]],
                                        at: utc("2026-01-07T09:10:00.000Z"))
            #expect(writeUntilFull()?.errno == ENOSPC)
            let full = try engine.makeRoom(bytesNeeded: 64 * 1024, at: utc("2026-01-07T09:15:00.000Z"))
            #expect(full.deleted == [])
            #expect(!full.capacityRuleMet)
            #expect(full.nothingDeletable)
            #expect(try fixture.fileExists(ids[0]) && fixture.fileExists(ids[4]) && fixture.fileExists(ids[5]))
            #expect(full.receipt == nil)
        }
    }
}
