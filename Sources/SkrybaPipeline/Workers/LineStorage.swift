import Foundation

/// One line's side of the storage service, for every path that records (calls, the whole-line mode,
/// the bench): it sends the line's jobs in order (keeping those a full queue cannot take yet), feeds a
/// recording's audio to its encoder only as far as the queue can take the records that makes — the
/// rest is lost, counted, kept as a gap and alarmed — and closes recordings with the slots kept for
/// closing. The line's worker owns it; nothing here waits on flash.
final class LineStorage {
    let line: Int
    let rate: Int
    let storage: StorageService
    let queue: StorageQueue
    private let alarms: AlarmBoard
    /// Audio per queued record (one flush interval), in frames.
    private let flushFrames: UInt64
    /// Jobs the queue had no slot for yet (it was full): retried with every period, in order.
    private var waitingJobs: [StorageQueue.Job] = []
    /// Frames never encoded because the queue was full (each kept as a gap).
    private(set) var lostFrames: UInt64 = 0
    /// The current recording's hole came from a full queue (alarmed when the loss began).
    private var lostInRecording = false
    /// The current recording's first hole raised its alarm (one per recording; the catalog keeps them all).
    private var gapAlarmed = false
    private var alarmedFallingBehind = false

    init(line: Int, rate: Int, packetsPerPage: Int, storage: StorageService, alarms: AlarmBoard) {
        self.line = line
        self.rate = rate
        self.storage = storage
        guard let queue = storage.queue(line: line) else {
            preconditionFailure("the storage service was built without a queue for line \(line) (its recorder builds one per line)")
        }
        self.queue = queue
        self.alarms = alarms
        flushFrames = UInt64(rate / 50 * packetsPerPage)
        waitingJobs.reserveCapacity(4)
    }

    var hasWaitingJobs: Bool { !waitingJobs.isEmpty }

    /// Jobs first, in order, as the queue frees slots.
    func sendWaitingJobs() {
        while let job = waitingJobs.first, queue.push(job: job) { waitingJobs.removeFirst() }
    }

    func send(_ job: StorageQueue.Job) {
        sendWaitingJobs()
        if !waitingJobs.isEmpty || !queue.push(job: job) { waitingJobs.append(job) }
    }

    /// The recording's consent is settled: the storage service creates its row and file and writes
    /// what waited in memory; from now on each flush interval is queued as one record.
    func open(_ call: CallRecord, _ recording: RecordingSession<DeferredSealedSink>) throws {
        try recording.sink.storage.handOver(to: queue)
        send(.open(call, backlog: recording.sink.storage))
    }

    /// Encodes `samples`, which start at `from`; a hole before them is filled with silence. Once
    /// `queued` (handed over), only as much as the queue can take.
    func feed(_ recording: RecordingSession<DeferredSealedSink>, _ samples: UnsafeBufferPointer<Int16>, at from: UInt64, queued: Bool) throws {
        let holes = recording.gapCount
        defer { if recording.gapCount > holes { alarmGap(recording, at: from) } }
        if queued {
            // Storage behind: encode only what the queue can take; the rest is lost, counted, and kept as a gap.
            var room = roomFrames(recording, records: queue.freeRecordSlots)
            if alarmedFallingBehind && queue.used == 0 {
                alarmedFallingBehind = false
                alarms.clear(.storageFallingBehind, line: line, reason: "the storage service caught up")
            }
            if queue.used * 2 >= queue.buffering.slotsPerLine && !alarmedFallingBehind {
                alarmedFallingBehind = true
                raise(.storageFallingBehind, at: from, "the storage service is behind: \(queue.used) of line \(line)'s "
                    + "\(queue.buffering.slotsPerLine) queued records wait for flash (a slow or stalled fsync); recordings still lose nothing")
            }
            if from > recording.nextFrame { room -= try recording.fill(until: from, atMost: room) }
            guard waitingJobs.isEmpty, recording.nextFrame == from, room >= UInt64(samples.count) else {
                lostFrames += UInt64(samples.count)
                if !lostInRecording {
                    lostInRecording = true
                    let at = String(format: "%.2f s", Double(recording.nextFrame - recording.startFrame) / Double(rate))
                    raise(.storageOverflow, at: from, "line \(line)'s storage queue is full (flash stalled longer than its buffer lasts): "
                        + "the recording's audio from \(at) on is lost until storage catches up; counted, and kept as a gap in the catalog")
                }
                return
            }
        }
        try recording.consume(samples, at: from)
    }

    /// Ends a handed-over recording at `frame`: the slots kept for closing take its last records; a
    /// hole the queue cannot take as silence ends the file early (the catalog's duration is the
    /// file's, the hole is listed).
    func close(_ recording: RecordingSession<DeferredSealedSink>, at frame: UInt64) throws {
        let holes = recording.gapCount
        defer { if recording.gapCount > holes { alarmGap(recording, at: frame) } }
        queue.isClosing = true
        defer { queue.isClosing = false }
        // Finishing itself flushes at most twice (a page completed by the padding, the final page).
        let room = roomFrames(recording, records: queue.freeRecordSlots - 2)
        try recording.finish(at: frame, fillingAtMost: waitingJobs.isEmpty ? room : 0)
    }

    /// The recording is over (closed, discarded or failed): the next one starts with its alarms unraised.
    func recordingEnded() {
        gapAlarmed = false
        lostInRecording = false
    }

    /// The run is over: what the queue could not take yet goes after everything queued.
    func endOfRun() {
        sendWaitingJobs()
        storage.submitAtEnd(waitingJobs, line: line)
        waitingJobs = []
    }

    /// How many more frames the encoder may take while producing at most `records` flushes: the
    /// writer flushes when the first packet after a full page is encoded, i.e. when the stream reaches
    /// k × flushFrames + one packet (k ≥ 1).
    private func roomFrames(_ recording: RecordingSession<DeferredSealedSink>, records: Int) -> UInt64 {
        guard records >= 0 else { return 0 }
        let encoded = UInt64(recording.encoder.capturedSamples), packet = UInt64(rate / 50)
        let nextFlush = encoded < flushFrames + packet ? flushFrames + packet : ((encoded - packet) / flushFrames + 1) * flushFrames + packet
        return nextFlush + UInt64(records) * flushFrames - 1 - encoded
    }

    private func alarmGap(_ recording: RecordingSession<DeferredSealedSink>, at frame: UInt64) {
        // A hole the storage queue made was alarmed when the loss began.
        guard !gapAlarmed, !lostInRecording, let gap = recording.lastGap else { return }
        gapAlarmed = true
        let lost = String(format: "%.2f s of audio never reached line \(line)'s recording at %.2f s into it", Double(gap.durationMs) / 1000,
                          Double(gap.offsetMs) / 1000)
        raise(.recordingGap, at: frame, "\(lost) (dropped before encoding: ring overflow or device recovery); "
              + "the file holds silence there and the catalog lists the gap")
    }

    private func raise(_ kind: Alarm.Kind, at frame: UInt64, _ message: String) {
        alarms.raise(Alarm(kind: kind, line: line, frame: frame, message: message))
    }
}
