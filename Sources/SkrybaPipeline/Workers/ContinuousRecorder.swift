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


/// Records every line of a capture PCM to its own Ogg Opus stream in `Store`, from the first frame
/// to the frame limit (or a stop request): the capture thread, the rings, the line workers and the
/// encoders, exactly as the appliance runs them. The bench and `skrybad` both drive it.
public struct ContinuousRecorder<Store: RecordingStore> {
    public let configuration: RecorderConfiguration
    public let store: Store
    /// Set while running; `requestStop()` ends the capture at the next period.
    private let stopBox = StopBox()

    public init(configuration: RecorderConfiguration, store: Store) {
        self.configuration = configuration
        self.store = store
    }

    public func requestStop() { stopBox.capture?.requestStop() }

    public func run() throws -> RecorderReport {
        let configuration = configuration
        let layout = configuration.layout
        let pcm = try PCM(name: configuration.pcmName, stream: .capture,
                          parameters: PCMParameters(rate: layout.rate, channels: layout.channels,
                                                    periodFrames: configuration.periodFrames,
                                                    periodsPerBuffer: configuration.periodsPerBuffer),
                          configurationFile: configuration.alsaConfigurationFile)
        let periodFrames = pcm.parameters.periodFrames
        let rings = CaptureRings(layout: layout, periodFrames: periodFrames, slotsPerRing: configuration.slotsPerRing)
        let startTime = Date()
        var lines: [EncodingLine<Store.Sink>] = []
        var files: [String] = []
        let store = store
        let rate = layout.rate
        for line in 0..<layout.lineCount {
            let (sink, path) = try store.open(line: line + 1, startUTC: startTime, startFrame: 0)
            let metadata = LineEncoder<Store.Sink>.Metadata([
                ("SKRYBA_LINE", "\(line + 1)"),
                ("SKRYBA_START_UTC", startTime.formatted(.iso8601)),
                ("SKRYBA_START_FRAME", "0"),
                ("SKRYBA_RECORDER", configuration.recorderID),
            ])
            let encoder = try LineEncoder(sampleRate: layout.rate, settings: configuration.opus, sink: sink,
                                          serialNumber: UInt32(truncatingIfNeeded: 0x534B_0000 + line), metadata: metadata,
                                          packetsPerPage: configuration.packetsPerPage)
            lines.append(EncodingLine(line: line + 1, encoder: encoder, periodFrames: periodFrames) { store.finish($0, sampleRate: rate) })
            files.append(path)
        }

        let capture = CaptureThread(consumers: min(configuration.workerThreads, layout.lineCount))
        stopBox.capture = capture
        defer { stopBox.capture = nil }
        let workers = LineWorkers(rings: rings, capture: capture, consumers: lines)
        let reader = pcm.realtimeReader()
        if configuration.realTimeSource {
            capture.start(rings.makeLoop(source: RealTimePacedSource(reader, rate: layout.rate, speed: configuration.realTimeSpeed),
                                         frameLimit: configuration.frameLimit, pacing: configuration.pacing),
                          realtimePriority: configuration.realtimePriority)
        } else {
            capture.start(rings.makeLoop(source: reader, frameLimit: configuration.frameLimit, pacing: configuration.pacing),
                          realtimePriority: configuration.realtimePriority)
        }
        let outcome = capture.join()
        workers.join()
        withExtendedLifetime(pcm) {}

        let end = switch outcome.end {
        case .reachedFrameLimit: "reached-frame-limit"
        case .stopRequested: "stop-requested"
        case .deviceFailed(let code): "device-failed: \(alsaErrorText(code)) (\(code))"
        }
        return RecorderReport(framesCaptured: outcome.framesCaptured, end: end, recoveredOverruns: outcome.recoveredOverruns,
                      ringOverflows: rings.overflows, gapFrames: lines.map(\.gapFrames), files: files,
                      bytesWritten: lines.reduce(0) { $0 + $1.bytesWritten },
                      lineFailures: lines.compactMap(\.failure), realtimeScheduling: outcome.realtimeScheduling,
                      periodFrames: periodFrames)
    }
}

private final class StopBox: @unchecked Sendable {
    var capture: CaptureThread?
}
