import Crypto
import Foundation
import GRDB
import SkrybaSeal
import SkrybaSystem
import Testing
@testable import SkrybaStore

/// Everything under Tests/SkrybaTests/Retention (retention, holds, secured copies, rights,
/// receipts, interrupted deletions): `swift test --filter Retention`.
@Suite enum RetentionTests {}

/// "2026-01-31T10:00:00.000Z" → Date; a test typo traps loudly.
func utc(_ text: String) -> Date {
    guard let date = UTCTimestamp.date(from: text) else { fatalError("not a UTC timestamp: \(text)") }
    return date
}

func utcText(_ date: Date?) -> String? { date.map(UTCTimestamp.string(from:)) }

/// A data directory with a catalog, a device key and real sealed recordings, as the appliance has.
struct RetentionFixture {
    static let identity = AgeIdentity()
    let directory: String
    let catalog: Catalog
    let key: DeviceKey

    init(_ name: String) throws {
        directory = try makeTemporaryDirectory(prefix: "skryba-retention-\(name)")
        catalog = try Catalog(dataDirectory: directory, actor: "skrybad")
        key = try DeviceKey.loadOrCreate(dataDirectory: directory, audit: catalog.audit, at: utc("2026-01-01T00:00:00.000Z"))
    }

    func engine(_ policy: RetentionPolicy) -> RetentionEngine {
        engine(policy, clock: FixedClockStatus.trusted)
    }

    /// The engine with a given clock verdict (the daemon's is `KernelClockStatus`).
    func engine(_ policy: RetentionPolicy, clock: any SystemClockStatus) -> RetentionEngine {
        RetentionEngine(catalog: catalog, dataDirectory: directory, policy: policy, signer: key, clock: clock)
    }

    var copies: SecuredCopies { SecuredCopies(catalog: catalog, dataDirectory: directory, signer: key) }
    var rights: DataSubjectRights { DataSubjectRights(catalog: catalog, dataDirectory: directory, signer: key) }

    /// A complete sealed recording of `records` records of `recordBytes` plaintext bytes (one
    /// second of "audio" each), catalogued and finished as the daemon does.
    @discardableResult
    func record(line: Int = 1, direction: RecordingDirection = .incoming, start: Date, records: Int = 3, recordBytes: Int = 2000,
                callerNumber: String? = "+48748800100", clockUntrusted: Bool = false) throws -> RecordingID {
        let id = try catalog.insert(NewRecording(line: line, direction: direction, startUTC: start, startFrame: 0,
                                                 recipients: [Self.identity.recipient.description], callerNumber: callerNumber,
                                                 consent: .given, clockUntrusted: clockUntrusted), at: start)
        let relative = DataLayout.recordingPath(id, startUTC: start)
        let path = "\(directory)/\(relative)"
        try Directory.create((path as NSString).deletingLastPathComponent)
        let writer = try SealedRecordingWriter(path: path, recipients: [Self.identity.recipient])
        try catalog.setFile(id, relativePath: relative, at: start)
        for index in 0..<records {
            try writer.append((0..<recordBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }, position: UInt64(index + 1) * 48000,
                              final: index == records - 1)
        }
        let end = start.addingTimeInterval(Double(records))
        try catalog.finish(id, status: .complete, endFrame: UInt64(records) * 8000, durationMs: Int64(records) * 1000,
                           fileSize: writer.bytesWritten, fileSHA256: writer.sha256, reason: nil, at: end)
        return id
    }

    /// A configuration file for this data directory (two lines, outgoing calls only, a replay
    /// backend), with `retention` as its `[retention]` table and line 2's `extra` keys; its path.
    func writeConfiguration(_ name: String, retention: String, lineTwo extra: String = "", dataDirectory: String? = nil) throws -> String {
        try Data().write(to: URL(fileURLWithPath: "\(directory)/events.tsv"))
        let path = "\(directory)/\(name)"
        try """
            data_dir = "\(dataDirectory ?? directory)"
            recipients = ["\(Self.identity.recipient)"]
            [audio]
            capture = "tap"
            channels = 2
            [gpio]
            backend = "replay"
            replay = "events.tsv"
            [retention]
            \(retention)
            [[lines]]
            id = 1
            name = "A"
            capture_channel = 0
            record = ["outgoing"]
            [[lines]]
            id = 2
            name = "B"
            capture_channel = 1
            record = ["outgoing"]
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func path(_ id: RecordingID) throws -> String {
        "\(directory)/\(try #require(try catalog.recording(id)?.filePath))"
    }

    func fileExists(_ id: RecordingID) throws -> Bool {
        FileManager.default.fileExists(atPath: try path(id))
    }

    func entries(kind: AuditKind) throws -> [AuditEntry] {
        try catalog.audit.entries().filter { $0.kind == kind.rawValue }
    }

    /// Every audit entry's details, as one string: to prove no personal data is in the log.
    func wholeAuditText() throws -> String {
        try catalog.audit.entries().map { "\($0.subject ?? "") \($0.details)" }.joined(separator: "\n")
    }
}

/// The catalog's personal data of one row, read raw (what the sqlite3 shell shows).
func rawPersonalData(_ catalog: Catalog, _ id: RecordingID) throws -> [String?] {
    let row = try catalog.connection.read("test") { database in
        try Row.fetchOne(database, sql: "SELECT caller_number, dialed_digits FROM recordings WHERE id = ?", arguments: [id.rawValue])
    }
    let stored = try #require(row)
    return [stored["caller_number"], stored["dialed_digits"]]
}
