import Foundation
import SkrybaCore
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// Where calls go on the appliance: a committed call gets its catalog row and its sealed file
/// (`recordings/YYYY/MM/DD/<id>.skryba`); a discarded one only its `discarded` row and one audit entry.
public final class CallStore: @unchecked Sendable {
    public let dataDirectory: String
    public let catalog: Catalog
    public let recipients: [AgeRecipient]
    /// Told after every durable record: (recording id, records, stream position).
    public var onDurable: ((RecordingID, UInt64, UInt64) -> Void)?
    /// Called before a recording's file is created: retention makes room when the free-space rule
    /// is not met, so a full disk never stops a call while anything may be deleted.
    public var beforeOpen: (() -> Void)?
    /// Whether the system clock can be trusted for a call starting then; a recording started on
    /// an untrusted clock is flagged in the catalog (docs/retention.md, "An untrusted clock").
    public var isClockTrusted: ((Date) -> Bool)?
    /// Told when a recording's file cannot be created or written (ENOSPC, EIO, EMFILE…), from the
    /// line's worker, before its row is settled: the appliance releases its storage reserve and makes room.
    public var onStorageFailure: ((FileError) -> Void)?
    /// Told on the storage thread when a call's recording starts, ends or is not kept (the journal's call lines).
    public var onCallEvent: ((CallJournalEvent) -> Void)?
    /// Tests: called on the storage thread before each record's fsync (a test that stalls storage blocks here).
    public var beforeRecordSync: (() -> Void)?
    /// Each line's own telephone number (configuration), stored with its calls for the register's search.
    public var lineNumbers: [Int: String] = [:]

    public struct Started {
        public var id: RecordingID
        public var writer: SealedRecordingWriter
    }

    public init(dataDirectory: String, catalog: Catalog, recipients: [AgeRecipient]) throws {
        guard !recipients.isEmpty else { throw SealedWriterError.noRecipients }
        self.dataDirectory = dataDirectory
        self.catalog = catalog
        self.recipients = recipients
    }

    func newRecording(_ call: CallRecord) -> NewRecording {
        NewRecording(line: call.line, direction: call.wholeLine ? .line : call.direction == .incoming ? .incoming : .outgoing, startUTC: call.startUTC,
                     startFrame: call.startFrame, recipients: recipients.map(\.description), callerNumber: call.callerNumber,
                     dialedDigits: nil, announcement: call.announcement.map { Announcement(id: $0.id, sha256: $0.sha256) },
                     consent: call.consent.flatMap { Consent(rawValue: $0.rawValue) })
    }

    /// The row (status `recording`, audited), then the sealed file, created and fsync'ed.
    public func commit(_ call: CallRecord) throws -> Started {
        let started = try open(newRecording(call))
        onCallEvent?(.started(started.id, line: call.line, direction: call.direction))
        return started
    }

    /// Any new recording: its row first, then its sealed file at `recordings/YYYY/MM/DD/<id>.skryba`.
    /// When the file cannot be made, no file is left behind and the row is closed as `failed` with
    /// the reason (audited) before the error is rethrown: never a row left `recording`, never an orphan.
    public func open(_ recording: NewRecording) throws -> Started {
        beforeOpen?()
        var recording = recording
        recording.clockUntrusted = recording.clockUntrusted || !(isClockTrusted?(recording.startUTC) ?? true)
        let id = try catalog.insert(recording, at: Date())
        let relative = DataLayout.recordingPath(id, startUTC: recording.startUTC)
        let path = "\(dataDirectory)/\(relative)"
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try Directory.create(directory)
            // The writer removes its own file if the header cannot be made durable.
            let writer = try SealedRecordingWriter(path: path, recipients: recipients)
            do { try catalog.setFile(id, relativePath: relative, at: Date()) } catch {
                writer.abandon()
                unlink(path)
                try? Directory.sync(directory)
                throw error
            }
            if let onDurable { writer.onDurable = { records, position in onDurable(id, records, position) } }
            if let onStorageFailure { writer.onFailure = onStorageFailure }
            writer.beforeSync = beforeRecordSync
            return Started(id: id, writer: writer)
        } catch {
            if let failure = error as? FileError { onStorageFailure?(failure) }
            do {
                try catalog.finish(id, status: .failed, endFrame: nil, durationMs: nil, fileSize: nil, fileSHA256: nil,
                                   reason: "its file \(relative) could not be created: \(error)", at: Date())
            } catch let closing {
                // The row stays `recording` without a file; recovery closes it at the next start.
                FileHandle.standardError.write(Data("skrybad: cannot record the failure of \(id) in the catalog: \(closing)\n".utf8))
            }
            throw error
        }
    }

    /// Settles a recording's row: `complete` when its stream was finished cleanly, otherwise
    /// `interrupted` with what is durable; with its gaps (audited). `call` adds what a call learnt.
    public func finish(_ started: Started, call: CallRecord?, endFrame: UInt64, durationMs: Int64, failure: String?,
                       gaps: [RecordingGap]) {
        let writer = started.writer
        let clean = failure == nil && writer.isFinished && writer.failure == nil
        writer.abandon()
        if let call {
            onCallEvent?(.ended(started.id, line: call.line, direction: call.direction, durationMs: durationMs, complete: clean, gaps: gaps.count))
        }
        do {
            try catalog.finish(started.id, status: clean ? .complete : .interrupted, endFrame: endFrame,
                               durationMs: clean ? durationMs : Self.durableMs(writer, upTo: durationMs),
                               fileSize: writer.bytesWritten, fileSHA256: writer.sha256, reason: failure,
                               consent: call?.consent.flatMap { Consent(rawValue: $0.rawValue) },
                               announcementCompleted: call.flatMap { $0.announcement == nil ? nil : $0.announcementCompleted },
                               dialedDigits: call.flatMap { $0.dialedDigits.isEmpty ? nil : $0.dialedDigits },
                               gaps: clean ? gaps : gaps.filter { $0.offsetMs < Self.durableMs(writer, upTo: durationMs) }, at: Date())
            // The caller ID may arrive after the row was made; with the line's number it finds the call later (issue 11).
            try catalog.recordNumbers(started.id, callerNumber: call?.callerNumber, lineNumber: call.flatMap { lineNumbers[$0.line] })
        } catch {
            // The row stays `recording`; recovery settles it from the file at the next start.
            FileHandle.standardError.write(Data("skrybad: cannot finish \(started.id) in the catalog: \(error)\n".utf8))
        }
    }

    /// What an interrupted file holds: audio up to its last durable record (the granule counts
    /// 48 kHz samples and includes the encoder's pre-skip, as recovery counts it).
    static func durableMs(_ writer: SealedRecordingWriter, upTo callMs: Int64) -> Int64 {
        min(callMs, Int64(writer.durablePosition / 48))
    }

    public func discarded(_ call: CallRecord, endFrame: UInt64, durationMs: Int64, reason: String) throws -> RecordingID {
        var row = newRecording(call)
        row.announcement?.completed = call.announcementCompleted
        onCallEvent?(.notRecorded(line: call.line, direction: call.direction, durationMs: durationMs, reason: reason))
        return try catalog.recordDiscardedCall(row, endFrame: endFrame, durationMs: durationMs, reason: reason, at: Date())
    }
}

/// What the line worker knows of a call while it is going on.
public struct CallRecord: Sendable {
    public var line: Int
    public var direction: CallDirection
    public var startFrame: UInt64
    public var startUTC: Date
    public var callerNumber: String?
    public var announcement: AnnouncementPlayer.Clip?
    public var announcementCompleted: Bool?
    public var consent: ConsentOutcome?
    public var dialedDigits = ""
    /// The whole-line mode: the line recorded from start to end, no call logic (catalog direction `line`).
    public var wholeLine = false

    public init(line: Int, direction: CallDirection, startFrame: UInt64, startUTC: Date, callerNumber: String? = nil, wholeLine: Bool = false) {
        self.line = line
        self.direction = direction
        self.startFrame = startFrame
        self.startUTC = startUTC
        self.callerNumber = callerNumber
        self.wholeLine = wholeLine
    }

    /// As reports name it: `incoming`, `outgoing` or `line`.
    public var directionName: String { wholeLine ? "line" : direction.rawValue }
}

/// The storage service's destination for calls and whole-line recordings.
extension CallStore: RecordingDestination {
    public func open(_ call: CallRecord) throws -> OpenedRecording {
        let started = try commit(call)
        return OpenedRecording(id: started.id.description, path: started.writer.path, writer: started.writer, catalogID: started.id)
    }

    public func finish(_ recording: OpenedRecording, call: CallRecord, endFrame: UInt64, durationMs: Int64, failure: String?, gaps: [RecordingGap]) {
        guard let writer = recording.writer as? SealedRecordingWriter, let id = recording.catalogID else { return }
        finish(Started(id: id, writer: writer), call: call.wholeLine ? nil : call, endFrame: endFrame, durationMs: durationMs, failure: failure, gaps: gaps)
    }

    public func discarded(_ call: CallRecord, endFrame: UInt64, durationMs: Int64, reason: String) throws -> String? {
        let id: RecordingID = try discarded(call, endFrame: endFrame, durationMs: durationMs, reason: reason)
        return id.description
    }
}
