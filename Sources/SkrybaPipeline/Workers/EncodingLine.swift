import Foundation
import SkrybaCapture
import SkrybaCore
import SkrybaOgg
import SkrybaStore

/// A line consumer that records everything it is given as one `RecordingSession` (the whole-line
/// mode and the bench), computing only: the recording is handed to the storage service when the
/// line starts (there is no consent to wait for), each flush interval is queued through the line's
/// `LineStorage` as calls' are, and the storage thread creates, writes, fsyncs and settles the file.
/// The first error stops this line only; it is kept for the report.
public final class EncodingLine: ImmediateLineConsumer {
    public let line: Int
    public let session: RecordingSession<DeferredSealedSink>
    public private(set) var failure: String?
    private let call: CallRecord
    private let storage: LineStorage
    private var stopped = false
    private var finished = false

    /// Hands the recording over at once (from the thread that builds the lines, before the capture starts).
    public init(line: Int, session: RecordingSession<DeferredSealedSink>, packetsPerPage: Int, startUTC: Date, storage: StorageService,
                alarms: AlarmBoard) throws {
        self.line = line
        self.session = session
        call = CallRecord(line: line, direction: .incoming, startFrame: session.startFrame, startUTC: startUTC, wholeLine: true)
        self.storage = LineStorage(line: line, rate: session.rate, packetsPerPage: packetsPerPage, storage: storage, alarms: alarms)
        try self.storage.open(call, session)
    }

    /// The sink a whole line's recording needs: nothing waits for consent, so only the headers and
    /// one flush interval are ever held before the hand-over.
    public static func sink(rate: Int, bitrate: Int, packetsPerPage: Int, buffering: StorageBuffering) -> DeferredSealedSink {
        var capacity = DeferredSealedSink.Capacity.awaitingConsent(frames: 0, rate: rate, bitrate: bitrate, flushFrames: rate / 50 * packetsPerPage)
        capacity.recordBytes = buffering.recordBytes
        return DeferredSealedSink(capacity: capacity)
    }

    public var gapFrames: UInt64 { session.gapFrames }
    /// Frames lost because the line's storage queue was full.
    public var storageLostFrames: UInt64 { storage.lostFrames }

    public func consume(_ period: CapturedPeriod) {
        if storage.hasWaitingJobs { storage.sendWaitingJobs() }
        guard !stopped else { return }
        do { try storage.feed(session, period.samples, at: period.startFrame, queued: true) } catch { fail(error) }
    }

    /// Once: a run that could not start finishes the lines it had built.
    public func finish(endFrame: UInt64) {
        guard !finished else { return }
        finished = true
        if !stopped {
            do { try storage.close(session, at: endFrame) } catch { fail(error) }
        }
        storage.send(.finish(call, endFrame: endFrame, durationMs: session.durationMs, failure: failure, gaps: session.gaps))
        storage.endOfRun()
    }

    private func fail(_ error: any Error) {
        failure = "line \(line): \(error)"
        stopped = true
    }
}
