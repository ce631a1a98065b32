import Foundation
import SkrybaOpus
import SkrybaPipeline
import SkrybaSeal
import SkrybaSystem
import Testing
@testable import SkrybaStore

/// Everything under Tests/SkrybaTests/Disclosure (register of requests, search, exports over SSH,
/// bundles, listenings): `swift test --filter Disclosure`.
@Suite enum DisclosureTests {}

/// A data directory with a catalog, a device key and real sealed recordings of the fixture speech,
/// sealed to an organisation key from stock age-keygen.
struct DisclosureFixture {
    let directory: String
    let dataDirectory: String
    let catalog: Catalog
    let key: DeviceKey
    let identityFile: String
    let recipient: AgeRecipient
    var register: RequestRegister { RequestRegister(catalog: catalog) }

    init(_ name: String) throws {
        directory = try makeTemporaryDirectory(prefix: "skryba-disclosure-\(name)")
        // The export account (another user) must reach the data directory inside.
        chmod(directory, 0o755)
        dataDirectory = "\(directory)/data"
        try Directory.create(dataDirectory)
        catalog = try Catalog(dataDirectory: dataDirectory, actor: "skrybad")
        key = try DeviceKey.loadOrCreate(dataDirectory: dataDirectory, audit: catalog.audit, at: utc("2026-03-01T08:00:00.000Z"))
        identityFile = "\(directory)/org.key"
        let made = try Tool.run("age-keygen", ["-o", identityFile])
        guard made.status == 0 else { throw ToolFailure("age-keygen failed: \(made.output)") }
        recipient = try AgeRecipient(parsing: try Tool.run("age-keygen", ["-y", identityFile]).output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A complete recording of the fixture speech (`speech` index), catalogued and finished as the daemon does.
    @discardableResult
    func record(line: Int = 1, direction: RecordingDirection = .incoming, start: Date, callerNumber: String?, lineNumber: String? = "+48914245000",
                dialedDigits: String? = nil, speech: Int = 1, repeats: Int = 1) throws -> RecordingID {
        let id = try catalog.insert(NewRecording(line: line, direction: direction, startUTC: start, startFrame: 0,
                                                 recipients: [recipient.description], callerNumber: nil, consent: .given), at: start)
        let relative = DataLayout.recordingPath(id, startUTC: start)
        let path = "\(dataDirectory)/\(relative)"
        try Directory.create((path as NSString).deletingLastPathComponent)
        let writer = try SealedRecordingWriter(path: path, recipients: [recipient])
        try catalog.setFile(id, relativePath: relative, at: start)
        let encoder = try LineEncoder(sampleRate: 8000, settings: OpusSettings(), sink: SealedSink(writer: writer), serialNumber: UInt32(id.rawValue),
                                      metadata: .init([("SKRYBA_LINE", String(line))]))
        for _ in 0..<repeats { try ALSAFixture.shared.speech[speech].withUnsafeBufferPointer { try encoder.consume($0) } }
        try encoder.finish()
        let samples = ALSAFixture.shared.speech[speech].count * repeats
        try catalog.finish(id, status: .complete, endFrame: UInt64(samples), durationMs: Int64(samples / 8), fileSize: writer.bytesWritten,
                           fileSHA256: writer.sha256, reason: nil, dialedDigits: dialedDigits, at: start.addingTimeInterval(Double(samples) / 8000))
        // What CallStore.finish does with the caller ID learnt during the call and the line's number.
        try catalog.recordNumbers(id, callerNumber: callerNumber, lineNumber: lineNumber)
        return id
    }

    /// A caller's listening request for `ids`, both opinions given.
    func callerRequest(_ ids: [RecordingID], number: String = "+48 601 234 567", kind: RequestKind = .listening) throws -> String {
        var new = NewRequest(kind: kind, receivedUTC: utc("2026-03-03T09:00:00.000Z"))
        new.requesterName = "Jan Kowalski"
        new.requesterAddress = "ul. Długa 1, 70-001 Szczecin"
        new.callNumber = number
        new.callTime = "2 marca 2026 ok. 10:15"
        new.concerning = "wniosek o dowód osobisty"
        let reference = try register.register(new, by: "kancelaria", at: utc("2026-03-03T09:05:00.000Z")).reference
        _ = try register.link(reference, recordings: ids, by: "IOD", at: utc("2026-03-03T09:10:00.000Z"))
        _ = try register.addOpinion(reference, role: .dpo, text: "Brak przeciwwskazań", by: "IOD Anna Nowak", at: utc("2026-03-03T10:00:00.000Z"))
        _ = try register.addOpinion(reference, role: .head, text: "Zgoda", by: "Kierownik WSO", at: utc("2026-03-03T11:00:00.000Z"))
        return reference
    }

    func entries(kind: AuditKind) throws -> [AuditEntry] { try catalog.audit.entries().filter { $0.kind == kind.rawValue } }
}

/// The call of 2026-03-02 10:14:30 Warsaw (09:14:30 UTC), and others around it.
enum DisclosureTime {
    static let call = utc("2026-03-02T09:14:30.000Z")
}
