import Foundation
import SkrybaALSA
import SkrybaCapture
import SkrybaCore
import SkrybaOpus

/// What `ContinuousRecorder` captures and how.
public struct RecorderConfiguration: Sendable {
    public var pcmName: String
    /// An asound.conf to look `pcmName` up in, instead of alsa-lib's global configuration.
    public var alsaConfigurationFile: String?
    public var layout: LineLayout
    public var periodFrames: Int
    public var periodsPerBuffer = 8
    /// Periods of slack per line ring.
    public var slotsPerRing = 64
    public var opus: OpusSettings
    /// Audio per Ogg page, and so per sealed record and fsync, in 20 ms packets (50 = one second).
    public var packetsPerPage = 50
    public var frameLimit: UInt64?
    public var pacing: CapturePacing
    /// Read no faster than the sample rate (a file PCM behaving like a device).
    public var realTimeSource = false
    /// With `realTimeSource`: how many times faster than real time (simulations that must not take as long as the call).
    public var realTimeSpeed = 1.0
    public var workerThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)
    public var recorderID = ProcessInfo.processInfo.hostName
    public var realtimePriority: Int32? = 70
    /// Published after every read for the GPIO backend (owned by the caller).
    public var clockAnchor: SampleClockAnchor?

    public init(pcmName: String, layout: LineLayout, periodFrames: Int, opus: OpusSettings,
                frameLimit: UInt64?, pacing: CapturePacing) {
        self.pcmName = pcmName
        self.layout = layout
        self.periodFrames = periodFrames
        self.opus = opus
        self.frameLimit = frameLimit
        self.pacing = pacing
    }
}


/// What a `ContinuousRecorder` run did.
public struct RecorderReport: Codable, Equatable, Sendable {
    public var framesCaptured: UInt64
    public var end: String
    public var recoveredOverruns: UInt64
    public var ringOverflows: [RingOverflow]
    public var gapFrames: [UInt64]
    public var files: [String]
    public var bytesWritten: Int
    public var lineFailures: [String]
    public var realtimeScheduling: Bool
    public var periodFrames: Int
}


/// One capture run: opens the PCM, allocates the rings, starts the capture thread and the line
/// workers over the consumers `makeConsumers` builds (it learns the period the device granted),
/// and waits until the frame limit or a stop request. Both recorders drive it.
public final class CaptureSession: @unchecked Sendable {
    public let configuration: RecorderConfiguration
    private let lock = NSLock()
    private var capture: CaptureThread?
    private var rings: CaptureRings?
    private var stopRequested = false
    /// The capture device as the capture thread last saw it (gone, reopened; docs/service.md).
    public let deviceHealth = CaptureDeviceHealth()

    /// While capturing: the sample clock the capture thread last published and each ring's drops
    /// (the daemon's watchdog and live audio-lost alarm read it; nil before and after the run).
    public var live: (position: UInt64, ringOverflows: [RingOverflow])? {
        lock.withLock { () -> (position: UInt64, ringOverflows: [RingOverflow])? in
            guard let capture, let rings else { return nil }
            return (position: capture.position, ringOverflows: rings.overflows)
        }
    }

    public struct Outcome: Sendable {
        public var capture: CaptureOutcome
        public var ringOverflows: [RingOverflow]
        public var periodFrames: Int
        public var startTime: Date
        public var end: String {
            switch capture.end {
            case .reachedFrameLimit: "reached-frame-limit"
            case .stopRequested: "stop-requested"
            case .deviceFailed(let code): "device-failed: \(alsaErrorText(code)) (\(code))"
            }
        }
    }

    public init(configuration: RecorderConfiguration) { self.configuration = configuration }

    /// Ends the capture at the next period (signal handlers call this).
    public func requestStop() {
        lock.withLock {
            stopRequested = true
            capture?.requestStop()
        }
    }

    public func run<Consumer: LineConsumer>(
        _ makeConsumers: (_ periodFrames: Int, _ startTime: Date) throws -> [Consumer]
    ) throws -> Outcome {
        let layout = configuration.layout
        // The source owns the PCM: it closes it when the device is gone and opens it again.
        let reader = ReopeningPCMSource(try PCM(name: configuration.pcmName, stream: .capture,
                                                parameters: PCMParameters(rate: layout.rate, channels: layout.channels,
                                                                          periodFrames: configuration.periodFrames,
                                                                          periodsPerBuffer: configuration.periodsPerBuffer),
                                                configurationFile: configuration.alsaConfigurationFile),
                                        configurationFile: configuration.alsaConfigurationFile, health: deviceHealth)
        let periodFrames = reader.parameters.periodFrames
        let startTime = Date()
        let consumers = try makeConsumers(periodFrames, startTime)
        let held = consumers.map { $0.heldPeriods(periodFrames: periodFrames) }.max() ?? 0
        let rings = CaptureRings(layout: layout, periodFrames: periodFrames, slotsPerRing: configuration.slotsPerRing, heldPerRing: held)
        let capture = CaptureThread(consumers: min(configuration.workerThreads, layout.lineCount))
        lock.withLock {
            self.capture = capture
            self.rings = rings
            if stopRequested { capture.requestStop() }
        }
        defer { lock.withLock { self.capture = nil; self.rings = nil } }
        let workers = try LineWorkers(rings: rings, capture: capture, consumers: consumers)
        do {
        if configuration.realTimeSource {
            try capture.start(rings.makeLoop(source: RealTimePacedSource(reader, rate: layout.rate, speed: configuration.realTimeSpeed),
                                         frameLimit: configuration.frameLimit, pacing: configuration.pacing,
                                         clockAnchor: configuration.clockAnchor),
                          realtimePriority: configuration.realtimePriority)
        } else {
            try capture.start(rings.makeLoop(source: reader, frameLimit: configuration.frameLimit, pacing: configuration.pacing,
                                         clockAnchor: configuration.clockAnchor),
                          realtimePriority: configuration.realtimePriority)
        }
        } catch {
            capture.endWithoutCapture()
            workers.join()
            throw error
        }
        let outcome = capture.join()
        workers.join()
        return Outcome(capture: outcome, ringOverflows: rings.overflows, periodFrames: periodFrames, startTime: startTime)
    }
}

/// Records every line of a capture PCM whole, each to its own Ogg Opus stream, from the first frame
/// to the frame limit (or a stop request): the bench, and `skrybad` without call logic. The line
/// workers only encode; the storage service creates, writes, fsyncs and settles the files in
/// `destination`, as it does for calls.
public struct ContinuousRecorder {
    public let configuration: RecorderConfiguration
    public let destination: any RecordingDestination
    /// Tests: called once the line workers have finished, before the storage service writes what is
    /// still queued (a test that stalls storage releases it here).
    public var afterLinesFinished: (() -> Void)?
    private let session: CaptureSession

    public init(configuration: RecorderConfiguration, store destination: any RecordingDestination) {
        self.configuration = configuration
        self.destination = destination
        session = CaptureSession(configuration: configuration)
    }

    public func requestStop() { session.requestStop() }

    public func run() throws -> RecorderReport {
        let configuration = configuration
        let rate = configuration.layout.rate
        let lineCount = configuration.layout.lineCount
        let alarms = AlarmBoard()
        let buffering = StorageBuffering.sized(lines: lineCount, bitrate: configuration.opus.bitrate,
                                               flushIntervalMs: configuration.packetsPerPage * 20)
        let storage = StorageService(store: destination, alarms: alarms, lines: Array(1...lineCount), buffering: buffering)
        try storage.start()
        var lines: [EncodingLine] = []
        let outcome: CaptureSession.Outcome
        do {
            outcome = try session.run { periodFrames, startTime in
                for line in 1...lineCount {
                    let metadata = LineEncoder<DeferredSealedSink>.Metadata([
                        ("SKRYBA_LINE", "\(line)"),
                        ("SKRYBA_START_UTC", startTime.formatted(.iso8601)),
                        ("SKRYBA_START_FRAME", "0"),
                        ("SKRYBA_RECORDER", configuration.recorderID),
                    ])
                    let sink = EncodingLine.sink(rate: rate, bitrate: configuration.opus.bitrate, packetsPerPage: configuration.packetsPerPage,
                                                 buffering: buffering)
                    let encoder = try LineEncoder(sampleRate: rate, settings: configuration.opus, sink: sink,
                                                  serialNumber: UInt32(truncatingIfNeeded: 0x534B_0000 + line - 1), metadata: metadata,
                                                  packetsPerPage: configuration.packetsPerPage)
                    let session = RecordingSession(line: line, rate: rate, startFrame: 0, encoder: encoder)
                    lines.append(try EncodingLine(line: line, session: session, packetsPerPage: configuration.packetsPerPage, startUTC: startTime,
                                                  storage: storage, alarms: alarms))
                }
                return lines
            }
        } catch {
            // Lines already handed over are settled as interrupted (nothing of theirs was captured).
            for line in lines { line.finish(endFrame: 0) }
            afterLinesFinished?()
            storage.finish()
            throw error
        }
        afterLinesFinished?()
        storage.finish()
        // What the storage thread could not do (a file that cannot be created or written) fails its line.
        let storageFailures = alarms.alarms.filter { $0.kind == .recordingFailed || $0.kind == .storageOverflow }.map { "line \($0.line): \($0.message)" }
        return RecorderReport(framesCaptured: outcome.capture.framesCaptured, end: outcome.end,
                              recoveredOverruns: outcome.capture.recoveredOverruns, ringOverflows: outcome.ringOverflows,
                              gapFrames: lines.map(\.gapFrames), files: storage.paths, bytesWritten: Int(storage.bytesWritten),
                              lineFailures: lines.compactMap(\.failure) + storageFailures, realtimeScheduling: outcome.capture.realtimeScheduling,
                              periodFrames: outcome.periodFrames)
    }
}

/// `requestStop()` may come from a signal handler's queue; it only touches the session's lock.
extension ContinuousRecorder: @unchecked Sendable {}
