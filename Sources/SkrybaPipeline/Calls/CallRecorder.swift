import Foundation
import SkrybaALSA
import SkrybaCapture
import SkrybaCore
import SkrybaStore

/// What a call-recording run did.
public struct CallRunReport: Codable, Sendable {
    public var framesCaptured: UInt64
    public var end: String
    public var recoveredOverruns: UInt64
    public var ringOverflows: [RingOverflow]
    public var calls: [CallSummary]
    public var alarms: [Alarm]
    public var playbackFramesWritten: UInt64?
    public var realtimeScheduling: Bool
    /// Per line: frames of calls not encoded because the line's storage queue was full.
    public var storageLostFrames: [UInt64]
    /// Per line: the most storage-queue slots in use at once (of `storageSlotsPerLine`).
    public var storageQueueHighWater: [Int]
    public var storageSlotsPerLine: Int
}

/// The appliance at work: capture → rings → one `CallLine` per line (ring/hook, caller ID, DTMF,
/// the call state machine, encoding, sealing into the catalog) and the announcement player on the
/// playback PCM, all on one sample clock.
public final class CallRecorder: @unchecked Sendable {
    public let capture: RecorderConfiguration
    public let lines: [CallLineSetup]
    public let playbackPCM: String?
    public let playbackChannels: Int
    public let store: CallStore
    public let signals: any LineSignalSource
    public let alarms = AlarmBoard()
    public let storageBuffering: StorageBuffering
    /// Tests: called once the line workers have finished, before the storage service writes what is
    /// still queued (a test that stalls storage releases it here).
    public var afterLinesFinished: (() -> Void)?
    private let session: CaptureSession
    private let liveLock = NSLock()
    private var running: (storage: StorageService, workers: [CallLine], player: AnnouncementPlayer?)?

    /// How far the pipeline got, read while it runs (the daemon's watchdog, health checks and
    /// control socket): nil before the capture started and after it ended.
    public struct Progress: Sendable {
        /// The sample clock the capture thread last published.
        public var capturePosition: UInt64
        public var ringOverflows: [RingOverflow]
        /// Messages the storage thread has handled, and how many wait in the line queues.
        public var storageHandled: UInt64
        public var storagePending: Int
        /// Per line, in configuration order.
        public var lines: [LineLiveState]
    }

    public var progress: Progress? {
        guard let live = session.live, let running = liveLock.withLock({ running }) else { return nil }
        return Progress(capturePosition: live.position, ringOverflows: live.ringOverflows,
                        storageHandled: running.storage.handled.load(ordering: .relaxed),
                        storagePending: running.storage.queues.reduce(0) { $0 + $1.used }, lines: running.workers.map(\.live))
    }

    public init(capture: RecorderConfiguration, lines: [CallLineSetup], playbackPCM: String?, playbackChannels: Int,
                store: CallStore, signals: any LineSignalSource, storageBuffering: StorageBuffering) {
        self.storageBuffering = storageBuffering
        self.capture = capture
        self.lines = lines
        self.playbackPCM = playbackPCM
        self.playbackChannels = playbackChannels
        self.store = store
        self.signals = signals
        session = CaptureSession(configuration: capture)
    }

    public func requestStop() { session.requestStop() }

    /// A technician's `announcement test N` while the daemon runs (docs/console.md).
    public enum AnnouncementTest: Sendable, Equatable {
        /// Scheduled into the line's playback channel from `startFrame` (the capture's sample clock).
        case playing(announcementID: String, frames: Int, startFrame: UInt64, channel: Int)
        case notRunning
        case noSuchLine
        case noAnnouncement
        case noPlayback
        /// Off hook, a call in progress, or an announcement already playing: nothing is played.
        case lineBusy
    }

    /// Plays line `id`'s announcement into its output now, only on an idle line: the test is never
    /// heard by a caller, and a call that begins meanwhile replaces it with its own announcement.
    public func testAnnouncement(line id: Int) -> AnnouncementTest {
        guard let setup = lines.first(where: { $0.line == id }) else { return .noSuchLine }
        guard let clip = setup.announcement else { return .noAnnouncement }
        guard let running = liveLock.withLock({ running }) else { return .notRunning }
        guard let player = running.player else { return .noPlayback }
        guard let worker = running.workers.first(where: { $0.setup.line == id }) else { return .noSuchLine }
        let live = worker.live
        guard !live.isOffHook, live.call == nil,
              let start = player.playUnlessBusy(clip, line: id, channel: setup.playbackChannel, from: live.frame) else { return .lineBusy }
        return .playing(announcementID: clip.id, frames: clip.samples.count, startFrame: start, channel: setup.playbackChannel)
    }

    /// The capture device: gone or there, outages, frames lost to them (the health check reads it).
    public var captureHealth: CaptureDeviceHealth { session.deviceHealth }

    public func run() throws -> CallRunReport {
        let needsPlayback = lines.contains { $0.announcement != nil || $0.outgoingNotice != nil }
        var player: AnnouncementPlayer?
        if needsPlayback, let playbackPCM {
            let pcm = try PCM(name: playbackPCM, stream: .playback,
                              parameters: PCMParameters(rate: capture.layout.rate, channels: playbackChannels, periodFrames: capture.periodFrames),
                              configurationFile: capture.alsaConfigurationFile)
            player = AnnouncementPlayer(pcm: pcm, lines: lines.map(\.line))
            try player?.start()
        }
        let dispatcher = SignalDispatcher(source: signals)
        let storage = StorageService(store: store, alarms: alarms, lines: lines.map(\.line), buffering: storageBuffering)
        do { try storage.start() } catch {
            player?.finish(at: 0)
            throw error
        }
        var workers: [CallLine] = []
        let outcome: CaptureSession.Outcome
        do {
            outcome = try session.run { _, startTime in
                workers = try lines.map {
                    try CallLine(setup: $0, store: store, storage: storage, dispatcher: dispatcher, player: player, alarms: alarms, sessionStart: startTime)
                }
                let made = workers
                liveLock.withLock { running = (storage, made, player) }
                return workers
            }
        } catch {
            liveLock.withLock { running = nil }
            storage.finish()
            player?.finish(at: 0)
            signals.close()
            throw error
        }
        liveLock.withLock { running = nil }
        afterLinesFinished?()
        storage.finish()
        player?.finish(at: outcome.capture.framesCaptured)
        signals.close()
        if let failure = player?.failure {
            alarms.raise(Alarm(kind: .playbackFailed, line: 0, frame: outcome.capture.framesCaptured, message: "announcement playback failed: \(failure)"))
        }
        return CallRunReport(framesCaptured: outcome.capture.framesCaptured, end: outcome.end, recoveredOverruns: outcome.capture.recoveredOverruns,
                             ringOverflows: outcome.ringOverflows,
                             calls: storage.summaries.sorted { ($0.startFrame, $0.line) < ($1.startFrame, $1.line) },
                             alarms: alarms.alarms, playbackFramesWritten: player?.framesWritten,
                             realtimeScheduling: outcome.capture.realtimeScheduling, storageLostFrames: workers.map(\.storageLostFrames),
                             storageQueueHighWater: storage.queues.map(\.highWater), storageSlotsPerLine: storageBuffering.slotsPerLine)
    }
}

/// A call as the journal tells it: line, direction, duration and recording id — never a caller
/// number or dialled digits (the journal is outside retention and erasure).
public enum CallJournalEvent: Sendable, Equatable {
    case started(RecordingID, line: Int, direction: CallDirection)
    case ended(RecordingID, line: Int, direction: CallDirection, durationMs: Int64, complete: Bool, gaps: Int)
    /// No consent (the caller objected or hung up during the announcement): only a `discarded` row.
    case notRecorded(line: Int, direction: CallDirection, durationMs: Int64, reason: String)
}
