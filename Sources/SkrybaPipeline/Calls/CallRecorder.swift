import Foundation
import SkrybaALSA
import SkrybaCapture
import SkrybaCore

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
    private let session: CaptureSession

    public init(capture: RecorderConfiguration, lines: [CallLineSetup], playbackPCM: String?, playbackChannels: Int,
                store: CallStore, signals: any LineSignalSource) {
        self.capture = capture
        self.lines = lines
        self.playbackPCM = playbackPCM
        self.playbackChannels = playbackChannels
        self.store = store
        self.signals = signals
        session = CaptureSession(configuration: capture)
    }

    public func requestStop() { session.requestStop() }

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
        var workers: [CallLine] = []
        let outcome: CaptureSession.Outcome
        do {
            outcome = try session.run { _, startTime in
                workers = lines.map { CallLine(setup: $0, store: store, dispatcher: dispatcher, player: player, alarms: alarms, sessionStart: startTime) }
                return workers
            }
        } catch {
            player?.finish(at: 0)
            signals.close()
            throw error
        }
        player?.finish(at: outcome.capture.framesCaptured)
        signals.close()
        if let failure = player?.failure {
            alarms.raise(Alarm(kind: .playbackFailed, line: 0, frame: outcome.capture.framesCaptured, message: "announcement playback failed: \(failure)"))
        }
        return CallRunReport(framesCaptured: outcome.capture.framesCaptured, end: outcome.end, recoveredOverruns: outcome.capture.recoveredOverruns,
                             ringOverflows: outcome.ringOverflows,
                             calls: workers.flatMap(\.calls).sorted { ($0.startFrame, $0.line) < ($1.startFrame, $1.line) },
                             alarms: alarms.alarms, playbackFramesWritten: player?.framesWritten,
                             realtimeScheduling: outcome.capture.realtimeScheduling)
    }
}
