import Foundation
import SkrybaCapture
import SkrybaCore
import SkrybaOpus
import SkrybaSignals

/// How a line is set up for calls (from the configuration).
public struct CallLineSetup: Sendable {
    public var line: Int
    public var name: String
    public var playbackChannel: Int
    public var rate: Int
    public var opus: OpusSettings
    public var packetsPerPage: Int
    public var policy: LinePolicy
    public var announcement: AnnouncementPlayer.Clip?
    public var outgoingNotice: AnnouncementPlayer.Clip?
    public var recorderID: String
    public var limits: LineHealthLimits

    public init(line: Int, name: String, playbackChannel: Int, rate: Int, opus: OpusSettings, packetsPerPage: Int, policy: LinePolicy,
                announcement: AnnouncementPlayer.Clip?, outgoingNotice: AnnouncementPlayer.Clip?, recorderID: String, limits: LineHealthLimits) {
        self.line = line
        self.name = name
        self.playbackChannel = playbackChannel
        self.rate = rate
        self.opus = opus
        self.packetsPerPage = packetsPerPage
        self.policy = policy
        self.announcement = announcement
        self.outgoingNotice = outgoingNotice
        self.recorderID = recorderID
        self.limits = limits
    }
}

/// What became of one call, for the daemon's report and the simulator.
public struct CallSummary: Equatable, Sendable, Codable {
    public var line: Int
    public var direction: String
    public var startFrame: UInt64
    public var endFrame: UInt64
    public var outcome: String  // complete | interrupted | discarded | failed
    public var recording: String?
    public var consent: String?
    public var callerNumber: String?
    public var dialedDigits: String?
}

/// One line's worker: merges ring/hook edges, ring cadence, DTMF and caller ID into the call state
/// machine in sample-clock order, feeds each call's audio to its encoder from the exact off-hook
/// frame to the exact on-hook frame, and carries out the machine's actions.
public final class CallLine: LineConsumer, @unchecked Sendable {
    public let setup: CallLineSetup
    private let store: CallStore
    private let dispatcher: SignalDispatcher
    private let player: AnnouncementPlayer?
    private let alarms: AlarmBoard
    private let sessionStart: Date
    private var machine: CallStateMachine
    private var cadence: RingCadence
    private var dtmf: DTMFDetector
    private var fsk: FSKCallerIDDecoder
    private var dtmfCallerID = DTMFCallerIDParser()

    private var call: CallRecord?
    private var encoder: LineEncoder<DeferredSealedSink>?
    private var started: CallStore.Started?
    private var callFailure: String?
    private var hookLevel = false
    private var offHookSince: UInt64?
    private var unansweredEpisodes = 0
    private var lastSignalFrame: UInt64 = 0
    private var raised = Set<Alarm.Kind>()
    public private(set) var calls: [CallSummary] = []
    /// Audio held back until the signal source can no longer produce an edge inside it.
    private let lagFrames: UInt64
    private var pending: [(startFrame: UInt64, samples: [Int16])] = []

    public init(setup: CallLineSetup, store: CallStore, dispatcher: SignalDispatcher, player: AnnouncementPlayer?, alarms: AlarmBoard,
                sessionStart: Date) {
        self.setup = setup
        self.store = store
        self.dispatcher = dispatcher
        self.player = player
        self.alarms = alarms
        self.sessionStart = sessionStart
        machine = CallStateMachine(policy: setup.policy)
        cadence = RingCadence(rate: setup.rate)
        dtmf = DTMFDetector(sampleRate: setup.rate)
        fsk = FSKCallerIDDecoder(sampleRate: setup.rate)
        lagFrames = dispatcher.decisionDelayFrames(rate: setup.rate)
    }

    public func consume(_ period: CapturedPeriod) {
        guard lagFrames > 0 else { return process(period) }
        // GPIO edges are known a little after they happen: work that far behind the capture.
        pending.append((period.startFrame, Array(period.samples)))
        let reached = period.startFrame + UInt64(period.samples.count)
        while let first = pending.first, first.startFrame + UInt64(first.samples.count) + lagFrames <= reached {
            pending.removeFirst()
            first.samples.withUnsafeBufferPointer { process(CapturedPeriod(startFrame: first.startFrame, samples: $0)) }
        }
    }

    private func process(_ period: CapturedPeriod) {
        let start = period.startFrame
        let end = start + UInt64(period.samples.count)
        var events: [CallEvent] = []
        for edge in dispatcher.edges(line: setup.line, before: end) {
            switch edge.signal {
            case .ring:
                events += cadence.edge(level: edge.level, frame: edge.frame)
            case .hook where edge.level != hookLevel:
                hookLevel = edge.level
                events.append(edge.level ? .offHook(frame: edge.frame) : .onHook(frame: edge.frame))
            case .hook:
                break
            }
        }
        events += cadence.advance(to: end)
        for digit in dtmf.process(period.samples, startFrame: start) {
            events.append(.dtmf(digit.key, frame: digit.startFrame))
            if let id = dtmfCallerID.feed(digit), let number = id.number { events.append(.callerNumber(number, frame: digit.endFrame)) }
        }
        for id in fsk.process(period.samples, startFrame: start) {
            if let number = id.number { events.append(.callerNumber(number, frame: id.endFrame)) }
        }
        // Stable by frame: simultaneous events keep their order (edges before detections).
        let ordered = events.enumerated().sorted { ($0.element.frame, $0.offset) < ($1.element.frame, $1.offset) }.map(\.element)

        var cursor = start
        for event in ordered {
            let frame = min(max(event.frame, start), end)
            feed(period, from: cursor, to: frame)
            cursor = max(cursor, frame)
            handle(event)
        }
        feed(period, from: cursor, to: end)
        handle(.tick(frame: end))
        watchHealth(period, end: end)
        player?.advance(line: setup.line, to: end)
    }

    public func finish(endFrame: UInt64) {
        for held in pending { held.samples.withUnsafeBufferPointer { process(CapturedPeriod(startFrame: held.startFrame, samples: $0)) } }
        pending = []
        // The run ends (stop frame or signal): calls in progress end here, as if hung up.
        if hookLevel { handle(.onHook(frame: endFrame)) }
        player?.advance(line: setup.line, to: endFrame)
    }

    private func handle(_ event: CallEvent) {
        switch event {
        case .offHook(let frame):
            offHookSince = frame
            if cadence.isRinging { unansweredEpisodes = 0 }
            cadence.reset()
        case .onHook:
            offHookSince = nil
        case .ringingEnded(let frame):
            unansweredEpisodes += 1
            if unansweredEpisodes >= setup.limits.unansweredRingingEpisodes {
                raise(.ringWithoutOffHook, at: frame,
                      "\(unansweredEpisodes) ringing episodes in a row ended without off-hook: is the loop-current (hook) input connected?")
            }
        default:
            break
        }
        for action in machine.handle(event) { perform(action) }
    }

    private func feed(_ period: CapturedPeriod, from: UInt64, to: UInt64) {
        // After a failure the call's file is closed: stop encoding rather than fail again every flush.
        guard let encoder, callFailure == nil, to > from else { return }
        let offset = Int(from - period.startFrame), count = Int(to - from)
        do {
            try encoder.consume(UnsafeBufferPointer(rebasing: period.samples[offset..<offset + count]))
        } catch {
            fail("encoding failed: \(error)", at: to)
        }
    }

    private func perform(_ action: CallAction) {
        switch action {
        case .beginCapture(let direction, let frame, let callerNumber):
            let startUTC = sessionStart.addingTimeInterval(Double(frame) / Double(setup.rate))
            call = CallRecord(line: setup.line, direction: direction, startFrame: frame, startUTC: startUTC, callerNumber: callerNumber)
            callFailure = nil
            started = nil
            do {
                encoder = try LineEncoder(
                    sampleRate: setup.rate, settings: setup.opus, sink: DeferredSealedSink(),
                    serialNumber: UInt32(truncatingIfNeeded: frame), metadata: .init([
                        ("SKRYBA_LINE", "\(setup.line)"), ("SKRYBA_LINE_NAME", setup.name), ("SKRYBA_DIRECTION", direction.rawValue),
                        ("SKRYBA_START_UTC", startUTC.formatted(.iso8601)), ("SKRYBA_START_FRAME", "\(frame)"),
                        ("SKRYBA_RECORDER", setup.recorderID),
                    ]), packetsPerPage: setup.packetsPerPage)
            } catch {
                fail("cannot start the encoder: \(error)", at: frame)
            }
        case .playAnnouncement(let frame):
            guard let clip = setup.announcement else { return }
            call?.announcement = clip
            player?.play(clip, line: setup.line, channel: setup.playbackChannel, from: frame)
        case .stopAnnouncement(let frame):
            player?.stop(line: setup.line, at: frame)
        case .playOutgoingNotice(let frame):
            if let clip = setup.outgoingNotice { player?.play(clip, line: setup.line, channel: setup.playbackChannel, from: frame) }
        case .setCallerNumber(let number):
            call?.callerNumber = number
        case .commitRecording(let frame, let consent):
            guard var current = call, let encoder, callFailure == nil else { return }
            current.consent = consent
            call = current
            do {
                let started = try store.commit(current)
                self.started = started
                try encoder.sink.storage.commit(to: started.writer)
            } catch {
                fail("cannot write the recording: \(error)", at: frame)
            }
        case .finishRecording(let frame, let consent, let completed, let digits):
            guard var current = call else { return }
            current.consent = consent
            current.announcementCompleted = completed
            current.dialedDigits = digits
            if let encoder, callFailure == nil {
                do { try encoder.finish() } catch { fail("cannot finish the recording: \(error)", at: frame) }
            }
            let duration = Int64(frame - current.startFrame) * 1000 / Int64(setup.rate)
            if let started { store.finish(started, call: current, endFrame: frame, durationMs: duration, failure: callFailure) }
            calls.append(CallSummary(line: setup.line, direction: current.direction.rawValue, startFrame: current.startFrame, endFrame: frame,
                                     outcome: started == nil ? "failed" : (callFailure == nil ? "complete" : "interrupted"),
                                     recording: started?.id.description, consent: consent.rawValue, callerNumber: current.callerNumber,
                                     dialedDigits: digits.isEmpty ? nil : digits))
            endCall()
        case .discardCapture(let frame, let consent, let completed):
            guard var current = call else { return }
            encoder?.sink.storage.discard()
            current.consent = consent
            current.announcementCompleted = completed
            let duration = Int64(frame - current.startFrame) * 1000 / Int64(setup.rate)
            let reason = consent == .objected ? "the caller objected with the opt-out key; the call went on unrecorded"
                : "the caller hung up during the announcement"
            let id = try? store.discarded(current, endFrame: frame, durationMs: duration, reason: reason)
            calls.append(CallSummary(line: setup.line, direction: current.direction.rawValue, startFrame: current.startFrame, endFrame: frame,
                                     outcome: "discarded", recording: id?.description, consent: consent.rawValue, callerNumber: nil,
                                     dialedDigits: nil))
            endCall()
        }
    }

    private func endCall() {
        call = nil
        encoder = nil
        started = nil
        callFailure = nil
    }

    private func fail(_ message: String, at frame: UInt64) {
        if callFailure == nil { callFailure = message }
        started?.writer.abandon()
        raise(.recordingFailed, at: frame, message)
    }

    private func watchHealth(_ period: CapturedPeriod, end: UInt64) {
        let quiet = setup.limits.silenceAmplitude
        if period.samples.contains(where: { $0 > quiet || $0 < -quiet }) {
            lastSignalFrame = end
            raised.remove(.noCaptureSignal)
        } else if end - lastSignalFrame >= setup.limits.noSignalFrames {
            raise(.noCaptureSignal, at: end, "no signal on the capture channel for \((end - lastSignalFrame) / UInt64(setup.rate)) s: is the tap connected?")
        }
        if let since = offHookSince, end - since >= setup.limits.stuckOffHookFrames {
            raise(.stuckOffHook, at: end, "off hook since frame \(since) (\((end - since) / UInt64(setup.rate) / 60) min): stuck or miswired loop-current input?")
        }
    }

    private func raise(_ kind: Alarm.Kind, at frame: UInt64, _ message: String) {
        guard kind == .recordingFailed || raised.insert(kind).inserted else { return }
        alarms.raise(Alarm(kind: kind, line: setup.line, frame: frame, message: message))
    }
}

extension CallEvent {
    var frame: UInt64 {
        switch self {
        case .ringBurst(let frame), .ringingEnded(let frame), .offHook(let frame), .onHook(let frame), .tick(let frame): frame
        case .callerNumber(_, let frame), .dtmf(_, let frame): frame
        }
    }
}
