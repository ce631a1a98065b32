import Foundation
import SkrybaCapture
import SkrybaSeal
import SkrybaStore
import Synchronization

/// How much sealed audio each line may hold in memory while storage is behind (docs/architecture.md,
/// "Storage service"). A record is one flush interval of Ogg Opus; each line's queue holds
/// `slotsPerLine` of them, of which `reservedSlots` are kept for the messages that open and close
/// recordings, so a call can always be closed.
public struct StorageBuffering: Sendable, Equatable {
    public var slotsPerLine: Int
    /// Bytes reserved per slot (a larger record still goes, through a one-off allocation).
    public var recordBytes: Int
    public static let reservedSlots = 3

    public init(slotsPerLine: Int, recordBytes: Int) {
        self.slotsPerLine = max(slotsPerLine, Self.reservedSlots + 2)
        self.recordBytes = recordBytes
    }

    /// The appliance's sizing: a fixed memory budget shared by the lines, at least 8 slots each.
    /// A slot holds four times the average record at `bitrate`, so VBR peaks fit.
    public static func sized(lines: Int, bitrate: Int, flushIntervalMs: Int, budgetBytes: Int = 16 << 20) -> StorageBuffering {
        let recordBytes = bitrate / 8 * flushIntervalMs / 1000 * 4 + 2048
        return StorageBuffering(slotsPerLine: max(8, budgetBytes / max(1, lines) / recordBytes), recordBytes: recordBytes)
    }

    /// Records a line may queue for one recording beyond the one the storage thread is writing.
    public var recordSlots: Int { slotsPerLine - Self.reservedSlots }

    /// Seconds of audio a stall of the storage thread (a blocked fsync, a slow SQLite commit) is
    /// survived without loss, wherever it starts: the message being handled keeps its slot, the
    /// other record slots fill one per flush interval, and one more interval waits in the sink
    /// (spent on the interval the stall began in).
    public func stallSeconds(flushIntervalMs: Int) -> Double { Double(recordSlots - 1) * Double(flushIntervalMs) / 1000 }
}

/// One line's queue to the storage service: single producer (the line's worker), single consumer
/// (the storage thread), fixed capacity, lock-free. Record slots are preallocated byte buffers
/// that go back to the worker when the storage thread is done with them, so a queued record
/// allocates nothing. Indices count monotonically (as `PeriodRing`).
public final class StorageQueue: @unchecked Sendable {
    public enum Job {
        /// The consent is settled: create the row and the file, then write what waited in memory.
        case open(CallRecord, backlog: DeferredSealedSink.Storage)
        /// The call ended: settle its row (with its gaps) and report it.
        case finish(CallRecord, endFrame: UInt64, durationMs: Int64, failure: String?, gaps: [RecordingGap])
        /// The call was not recorded (no consent): only its `discarded` row.
        case discarded(CallRecord, endFrame: UInt64, durationMs: Int64, reason: String)
        /// A call that never reached storage (its encoder could not start), for the report.
        case summary(CallSummary)
    }

    public let line: Int
    public let buffering: StorageBuffering
    /// Write and read indices, each on its own cache line (as `PeriodRing`).
    @usableFromInline let indices: UnsafeMutableRawPointer
    @inlinable var written: UnsafeMutablePointer<Atomic<Int>> { indices.assumingMemoryBound(to: Atomic<Int>.self) }
    @inlinable var read: UnsafeMutablePointer<Atomic<Int>> { (indices + 64).assumingMemoryBound(to: Atomic<Int>.self) }
    private let bytes: UnsafeMutableRawPointer
    private let lengths: UnsafeMutablePointer<Int>
    private let positions: UnsafeMutablePointer<UInt64>
    private let finals: UnsafeMutablePointer<Bool>
    private let jobs: UnsafeMutablePointer<Job?>
    private let oversize: UnsafeMutablePointer<[UInt8]?>
    private let wake: WakeSignal
    /// The most slots ever in use at once (worker side), for the report.
    public private(set) var highWater = 0

    init(line: Int, buffering: StorageBuffering, wake: WakeSignal) {
        self.line = line
        self.buffering = buffering
        self.wake = wake
        let slots = buffering.slotsPerLine
        indices = .allocate(byteCount: 128, alignment: 64)
        indices.bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
        (indices + 64).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
        bytes = .allocate(byteCount: slots * buffering.recordBytes, alignment: 16)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: slots * buffering.recordBytes)
        lengths = .allocate(capacity: slots)
        lengths.initialize(repeating: 0, count: slots)
        positions = .allocate(capacity: slots)
        positions.initialize(repeating: 0, count: slots)
        finals = .allocate(capacity: slots)
        finals.initialize(repeating: false, count: slots)
        jobs = .allocate(capacity: slots)
        jobs.initialize(repeating: nil, count: slots)
        oversize = .allocate(capacity: slots)
        oversize.initialize(repeating: nil, count: slots)
    }

    deinit {
        let slots = buffering.slotsPerLine
        // Plaintext audio may sit in the slots: overwritten before the memory goes back.
        explicit_bzero(bytes, slots * buffering.recordBytes)
        bytes.deallocate()
        lengths.deallocate()
        positions.deallocate()
        finals.deallocate()
        jobs.deinitialize(count: slots)
        jobs.deallocate()
        oversize.deinitialize(count: slots)
        oversize.deallocate()
        indices.deallocate()
    }

    /// Worker side, while a recording is being finished: its last records may use the slots kept
    /// for closing (all but the one its `.finish` job needs).
    public var isClosing = false

    /// Slots in use (worker side: the storage thread may free more at any moment).
    @inlinable public var used: Int { written.pointee.load(ordering: .relaxed) - read.pointee.load(ordering: .acquiring) }
    /// Records the worker may still queue now without touching the slots kept for jobs.
    public var freeRecordSlots: Int { max(0, (isClosing ? buffering.slotsPerLine - 1 : buffering.recordSlots) - used) }

    /// Queues one sealed-to-be record; false when only the reserved slots are left (the caller
    /// counts the loss). Worker thread only.
    public func push(record: UnsafeRawBufferPointer, position: UInt64, final: Bool) -> Bool {
        let index = written.pointee.load(ordering: .relaxed)
        guard index - read.pointee.load(ordering: .acquiring) < (isClosing ? buffering.slotsPerLine - 1 : buffering.recordSlots) else { return false }
        let slot = index % buffering.slotsPerLine
        if record.count <= buffering.recordBytes {
            if let base = record.baseAddress { (bytes + slot * buffering.recordBytes).copyMemory(from: base, byteCount: record.count) }
        } else {
            oversize[slot] = [UInt8](record)
        }
        lengths[slot] = record.count
        positions[slot] = position
        finals[slot] = final
        publish(index)
        return true
    }

    /// Queues a job; false only when every slot is taken (the caller keeps it and tries again).
    public func push(job: Job) -> Bool {
        let index = written.pointee.load(ordering: .relaxed)
        guard index - read.pointee.load(ordering: .acquiring) < buffering.slotsPerLine else { return false }
        let slot = index % buffering.slotsPerLine
        lengths[slot] = -1
        jobs[slot] = job
        publish(index)
        return true
    }

    private func publish(_ index: Int) {
        written.pointee.store(index + 1, ordering: .releasing)
        highWater = max(highWater, index + 1 - read.pointee.load(ordering: .relaxed))
        wake.signal()
    }

    enum Item {
        case record(UnsafeRawBufferPointer, position: UInt64, final: Bool)
        case job(Job)
    }

    /// Storage thread: runs `body` on the oldest message, then frees its slot. False when empty.
    func drainOne(_ body: (Item) -> Void) -> Bool {
        let index = read.pointee.load(ordering: .relaxed)
        guard index < written.pointee.load(ordering: .acquiring) else { return false }
        let slot = index % buffering.slotsPerLine
        if lengths[slot] < 0, let job = jobs[slot] {
            jobs[slot] = nil
            body(.job(job))
        } else if let large = oversize[slot] {
            large.withUnsafeBytes { body(.record($0, position: positions[slot], final: finals[slot])) }
            oversize[slot] = nil
        } else {
            body(.record(UnsafeRawBufferPointer(start: bytes + slot * buffering.recordBytes, count: lengths[slot]),
                         position: positions[slot], final: finals[slot]))
        }
        read.pointee.store(index + 1, ordering: .releasing)
        return true
    }
}

/// A recording's file as the storage thread writes it: one record per flush interval (sealed and
/// fsync'ed, or plain Ogg pages).
public protocol RecordWriter: AnyObject {
    func append(_ plaintext: UnsafeRawBufferPointer, position: UInt64, final: Bool) throws
    /// Closes the file; whatever was not finished stays as it is (recovery knows what is durable).
    func abandon()
    var bytesWritten: Int64 { get }
}

extension SealedRecordingWriter: RecordWriter {}

/// A recording the storage thread has opened: `id` names it in reports (catalog id or path).
public struct OpenedRecording {
    public var id: String
    public var path: String
    public var writer: any RecordWriter
    /// Its catalog row, when the destination keeps one.
    public var catalogID: RecordingID?
    public init(id: String, path: String, writer: any RecordWriter, catalogID: RecordingID? = nil) {
        self.id = id
        self.path = path
        self.writer = writer
        self.catalogID = catalogID
    }
}

/// Where the storage service puts recordings: the catalog and its sealed files (`CallStore`, calls and
/// the whole-line mode), or the bench's files. Called on the storage thread only.
public protocol RecordingDestination: AnyObject {
    /// Creates the recording's row and file (its consent is settled).
    func open(_ call: CallRecord) throws -> OpenedRecording
    /// Settles it: `complete` when its stream was finished cleanly, otherwise what is durable.
    func finish(_ recording: OpenedRecording, call: CallRecord, endFrame: UInt64, durationMs: Int64, failure: String?, gaps: [RecordingGap])
    /// A call that was not recorded (no consent): its row only, if the destination keeps rows.
    func discarded(_ call: CallRecord, endFrame: UInt64, durationMs: Int64, reason: String) throws -> String?
}

/// Everything that waits on flash or SQLite, on one thread of its own: creating a call's row, its
/// directory and its sealed file (after retention made room), writing and fsyncing its records,
/// settling its row and audit entries. Line workers only queue messages (`StorageQueue`); they
/// never wait for storage, so a slow flash costs memory (bounded), not audio — until a line's
/// queue is full, and then the loss is counted, kept as a gap and alarmed.
public final class StorageService: @unchecked Sendable {
    public let destination: any RecordingDestination
    public let alarms: AlarmBoard
    public let queues: [StorageQueue]
    private let wake: WakeSignal
    private let stopping = Atomic<Bool>(false)
    /// Messages handled so far: the daemon's watchdog sees a stuck storage thread by it not moving while messages wait.
    public let handled = Atomic<UInt64>(0)
    private var thread: JoinableThread?
    /// Storage-thread state of each line's current recording.
    private var current: [Int: Open] = [:]
    /// What became of each call, in the order the storage thread settled them (read after `finish`).
    public private(set) var summaries: [CallSummary] = []
    /// Jobs a line could not queue before the run ended (its queue was full): done after the queues.
    private var atEnd: [(line: Int, job: StorageQueue.Job)] = []
    private let atEndLock = NSLock()

    /// Every file opened, by line then in order, and the bytes written to those settled (read after `finish`).
    public var paths: [String] {
        opened.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element.path)
    }
    private var opened: [(line: Int, path: String)] = []
    public private(set) var bytesWritten: Int64 = 0

    private struct Open {
        var frame: UInt64
        var started: OpenedRecording?
        var failure: String?
    }

    public init(store destination: any RecordingDestination, alarms: AlarmBoard, lines: [Int], buffering: StorageBuffering) {
        self.destination = destination
        self.alarms = alarms
        let wake = WakeSignal.make()
        self.wake = wake
        queues = lines.map { StorageQueue(line: $0, buffering: buffering, wake: wake) }
    }

    deinit { wake.destroy() }

    public func queue(line: Int) -> StorageQueue? { queues.first { $0.line == line } }

    public func start() throws(ThreadStartError) {
        thread = try JoinableThread(name: "storage") { [self] in run() }
    }

    /// A worker at the end of the run (not its steady state): jobs its full queue could not take.
    public func submitAtEnd(_ jobs: [StorageQueue.Job], line: Int) {
        guard !jobs.isEmpty else { return }
        atEndLock.withLock { atEnd += jobs.map { (line, $0) } }
    }

    /// After the line workers have finished: writes everything still queued, then stops.
    public func finish() {
        stopping.store(true, ordering: .releasing)
        wake.signal()
        thread?.join()
        thread = nil
    }

    private func run() {
        while true {
            let stop = stopping.load(ordering: .acquiring)
            var worked = false
            for queue in queues {
                while queue.drainOne({ handle($0, line: queue.line) }) {
                    worked = true
                    handled.add(1, ordering: .relaxed)
                }
            }
            if stop && !worked {
                for (line, job) in atEndLock.withLock({ atEnd }) { handle(.job(job), line: line) }
                return
            }
            if !worked { wake.wait() }
        }
    }

    private func handle(_ item: StorageQueue.Item, line: Int) {
        switch item {
        case .record(let bytes, let position, let final):
            guard let started = current[line]?.started, current[line]?.failure == nil else { return }
            do {
                try started.writer.append(bytes, position: position, final: final)
            } catch {
                fail(line, "cannot write the recording: \(error)")
            }
        case .job(.open(let call, let backlog)):
            do {
                let started = try destination.open(call)
                current[line] = Open(frame: call.startFrame, started: started)
                opened.append((line, started.path))
                try backlog.commit(to: started.writer)
            } catch {
                if current[line] == nil { current[line] = Open(frame: call.startFrame) }
                fail(line, "cannot write the recording: \(error)")
            }
        case .job(.finish(let call, let endFrame, let durationMs, let failure, let gaps)):
            let open = current.removeValue(forKey: line)
            let reason = failure ?? open?.failure
            if let started = open?.started {
                destination.finish(started, call: call, endFrame: endFrame, durationMs: durationMs, failure: reason, gaps: gaps)
                bytesWritten += started.writer.bytesWritten
            }
            summaries.append(CallSummary(line: line, direction: call.directionName, startFrame: call.startFrame, endFrame: endFrame,
                                         outcome: open?.started == nil ? "failed" : (reason == nil ? "complete" : "interrupted"),
                                         recording: open?.started?.id, consent: call.consent?.rawValue))
        case .job(.summary(let summary)):
            summaries.append(summary)
        case .job(.discarded(let call, let endFrame, let durationMs, let reason)):
            let id = try? destination.discarded(call, endFrame: endFrame, durationMs: durationMs, reason: reason)
            summaries.append(CallSummary(line: line, direction: call.directionName, startFrame: call.startFrame, endFrame: endFrame,
                                         outcome: "discarded", recording: id ?? nil, consent: call.consent?.rawValue))
        }
    }

    private func fail(_ line: Int, _ message: String) {
        guard current[line]?.failure == nil else { return }
        current[line]?.failure = message
        current[line]?.started?.writer.abandon()
        alarms.raise(Alarm(kind: .recordingFailed, line: line, frame: current[line]?.frame ?? 0, message: message))
    }
}
