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

/// What became of one call, for the daemon's report and the simulator. The report goes to the
/// journal, outside retention and erasure: it names lines and recording ids only, never a caller
/// number or dialled digits (those are personal data and live in the catalog alone).
public struct CallSummary: Equatable, Sendable, Codable {
    public var line: Int
    public var direction: String
    public var startFrame: UInt64
    public var endFrame: UInt64
    public var outcome: String  // complete | interrupted | discarded | failed
    public var recording: String?
    public var consent: String?
}

/// One line's worker: merges ring/hook edges, ring cadence, DTMF and caller ID into the call state
/// machine in sample-clock order, feeds each call's audio to its encoder from the exact off-hook
/// frame to the exact on-hook frame, and carries out the machine's actions.
public final class CallLine: LineConsumer, @unchecked Sendable {
    public let setup: CallLineSetup
    /// Hook, call and level as the worker last saw them (the control socket reads it).
    public let live = LineLiveState()
    private let store: CallStore
    /// Where everything that waits on flash or SQLite goes; this worker only queues messages.
    private let storage: StorageService
    /// The line's queue to it: jobs in order, records only as far as it has room.
    private let lineStorage: LineStorage
    /// A storage service of this line's own (a `CallLine` made without one), stopped at `finish`.
    private let ownsStorage: Bool
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
    private var recording: RecordingSession<DeferredSealedSink>?
    /// The current call was handed to the storage service (its consent is settled).
    private var queued = false
    private var callFailure: String?
    private var hookLevel = false
    private var offHookSince: UInt64?
    private var unansweredEpisodes = 0
    private var lastSignalFrame: UInt64 = 0
    private var raised = Set<Alarm.Kind>()
    private var noSignalAlarmed = false, stuckOffHookAlarmed = false
    /// What became of this line's calls; complete once the line has finished (storage settles them).
    public var calls: [CallSummary] { storage.summaries.filter { $0.line == setup.line } }
    /// Frames of calls never encoded because the line's storage queue was full (each kept as a gap).
    public var storageLostFrames: UInt64 { lineStorage.lostFrames }
    /// Audio held back until the signal source can no longer produce an edge inside it.
    private let lagFrames: UInt64
    /// The periods still to process (GPIO lag) and the last ones processed (the detectors' look-back):
    /// ring slots this worker holds and releases late (`heldPeriods`), never copies. Periods are
    /// numbered from 0 in arrival order; `held` has the newest `held.count` of them.
    private var held: HeldPeriods?
    /// Periods received so far: the newest is `received - 1`.
    private var received = 0
    /// The first period received not yet processed.
    private var nextToProcess = 0
    /// The plaintext a call may hold before its consent is settled (the policy's longest wait).
    private let awaitingConsent: DeferredSealedSink.Capacity
    /// Only a player paced by the slowest worker needs each period's progress (a lock per period):
    /// one paced by its device is not told, so a worker on the board takes no lock per period.
    private let reportsProgress: Bool
    /// Detection only where it can matter (docs/signals.md): the gate, and which detector heard the previous period.
    private var gate: DetectionGate
    private var dtmfListening = false
    private var fskListening = false
    /// How many periods each detector heard (look-back replays not counted): what the gate saves.
    public struct DetectorUse: Equatable, Sendable {
        public var dtmfPeriods = 0
        public var fskPeriods = 0
        public init(dtmfPeriods: Int = 0, fskPeriods: Int = 0) {
            self.dtmfPeriods = dtmfPeriods
            self.fskPeriods = fskPeriods
        }
    }
    public private(set) var detectorUse = DetectorUse()
    /// This period's events, kept across periods so that none allocates.
    private var events: [CallEvent] = []

    public init(setup: CallLineSetup, store: CallStore, storage: StorageService? = nil, dispatcher: SignalDispatcher, player: AnnouncementPlayer?,
                alarms: AlarmBoard, sessionStart: Date) throws(ThreadStartError) {
        self.setup = setup
        self.store = store
        let flushFrames = UInt64(setup.rate / 50 * setup.packetsPerPage)
        ownsStorage = storage == nil
        let storage = storage ?? StorageService(store: store, alarms: alarms, lines: [setup.line], buffering: .sized(
            lines: 1, bitrate: setup.opus.bitrate, flushIntervalMs: setup.packetsPerPage * 20))
        if ownsStorage { try storage.start() }
        self.storage = storage
        let lineStorage = LineStorage(line: setup.line, rate: setup.rate, packetsPerPage: setup.packetsPerPage, storage: storage, alarms: alarms)
        self.lineStorage = lineStorage
        self.dispatcher = dispatcher
        self.player = player
        self.alarms = alarms
        self.sessionStart = sessionStart
        machine = CallStateMachine(policy: setup.policy)
        cadence = RingCadence(rate: setup.rate)
        dtmf = DTMFDetector(sampleRate: setup.rate)
        fsk = FSKCallerIDDecoder(sampleRate: setup.rate)
        gate = DetectionGate(sampleRate: setup.rate)
        let lagFrames = dispatcher.decisionDelayFrames(rate: setup.rate)
        self.lagFrames = lagFrames
        var consentWait = setup.policy.announcementFrames ?? 0
        if case .optOutKey(_, let window) = setup.policy.consent { consentWait += window }
        var capacity = DeferredSealedSink.Capacity.awaitingConsent(frames: consentWait + lagFrames, rate: setup.rate, bitrate: setup.opus.bitrate,
                                                                  flushFrames: Int(flushFrames))
        capacity.recordBytes = lineStorage.queue.buffering.recordBytes
        awaitingConsent = capacity
        reportsProgress = player?.pacing == .slowestWorker
        events.reserveCapacity(32)
    }

    /// The GPIO lag in periods (rounded up, plus one for a period the lag ends inside), the look-back
    /// and the period being consumed.
    public func heldPeriods(periodFrames: Int) -> Int {
        let periodFrames = UInt64(max(periodFrames, 1))
        let lagPeriods = lagFrames == 0 ? 0 : Int((lagFrames + periodFrames - 1) / periodFrames) + 1
        return lagPeriods + DetectionGate.lookBackPeriods + 1
    }

    public func consume(_ period: CapturedPeriod, holding held: HeldPeriods) -> Int {
        self.held = held
        received += 1
        // GPIO edges are known a little after they happen: work that far behind the capture.
        let reached = period.startFrame + UInt64(period.samples.count)
        while nextToProcess < received {
            let next = self.period(nextToProcess)
            guard next.startFrame + UInt64(next.samples.count) + lagFrames <= reached else { break }
            processNext()
        }
        // A run of periods shorter than the first could outgrow what the ring was sized for (less
        // than one slot is always left to the capture): the oldest is then processed early (an edge
        // inside it takes effect at the next frame still to process, as a late edge does).
        let keep = min(heldPeriods(periodFrames: held.ring.periodFrames), held.ring.slotCount - 1)
        while received - nextToProcess + DetectionGate.lookBackPeriods > keep, nextToProcess < received { processNext() }
        let oldest = received - held.count
        let keepFrom = max(oldest, nextToProcess - DetectionGate.lookBackPeriods, received - keep)
        // What stays held once the worker has released the rest (`finish` reads it).
        self.held = HeldPeriods(ring: held.ring, count: received - keepFrom)
        return keepFrom - oldest
    }

    /// Period `number`, one this worker still holds.
    private func period(_ number: Int) -> CapturedPeriod {
        guard let held else { preconditionFailure("a period is read before any was received") }
        return held[number - (received - held.count)]
    }

    /// The oldest period still held.
    private var oldestHeld: Int { received - (held?.count ?? 0) }

    private func processNext() {
        process(period(nextToProcess), previous: nextToProcess - 1)
        nextToProcess += 1
    }

    /// - Parameter previous: the number of the period processed before this one (the look-back).
    private func process(_ period: CapturedPeriod, previous: Int) {
        let start = period.startFrame
        let end = start + UInt64(period.samples.count)
        events.removeAll(keepingCapacity: true)
        var rang = false, heardOffHook = hookLevel, heardOnHook = !hookLevel
        for edge in dispatcher.edges(line: setup.line, before: end) {
            // An edge known only after its audio went by takes effect at the first frame still to
            // process, so a recording's frames always match the audio it holds.
            let frame = max(edge.frame, start)
            switch edge.signal {
            case .ring:
                rang = true
                events += cadence.edge(level: edge.level, frame: frame)
            case .hook where edge.level != hookLevel:
                hookLevel = edge.level
                live.noteHook(offHook: edge.level)
                // Which hook states the period heard: an edge at its first frame leaves none of the old one.
                if edge.level { heardOffHook = true } else { heardOnHook = true }
                if frame == start { if edge.level { heardOnHook = false } else { heardOffHook = false } }
                events.append(edge.level ? .offHook(frame: frame) : .onHook(frame: frame))
            case .hook:
                break
            }
        }
        events += cadence.advance(to: end)
        // DTMF off hook and, on hook, FSK and DTMF only while the line has sounded or rung lately.
        let awake = gate.observe(period.samples, start: start, end: end, rang: rang)
        let listenDTMF = heardOffHook || awake, listenFSK = heardOnHook && awake
        if listenDTMF && !dtmfListening || listenFSK && !fskListening {
            replayLookBack(before: period, previous: previous, dtmf: listenDTMF && !dtmfListening, fsk: listenFSK && !fskListening)
        }
        if listenDTMF {
            detectDTMF(period)
            detectorUse.dtmfPeriods += 1
        }
        if listenFSK {
            detectFSK(period)
            detectorUse.fskPeriods += 1
        }
        dtmfListening = listenDTMF
        fskListening = listenFSK
        // Stable by frame: simultaneous events keep their order (edges before detections).
        if events.count > 1 {
            for index in 1..<events.count {
                let event = events[index]
                var slot = index
                while slot > 0 && events[slot - 1].frame > event.frame {
                    events[slot] = events[slot - 1]
                    slot -= 1
                }
                events[slot] = event
            }
        }

        var cursor = start
        for event in events {
            let frame = min(max(event.frame, start), end)
            feed(period, from: cursor, to: frame)
            cursor = max(cursor, frame)
            handle(event)
        }
        feed(period, from: cursor, to: end)
        handle(.tick(frame: end))
        watchHealth(period, end: end)
        if reportsProgress { player?.advance(line: setup.line, to: end) }
    }

    /// A detector that wakes first hears the periods just before this one (those still held and
    /// contiguous with it), so a signal is decoded from its first sample.
    private func replayLookBack(before period: CapturedPeriod, previous: Int, dtmf replayDTMF: Bool, fsk replayFSK: Bool) {
        var first = previous + 1, nextStart = period.startFrame
        while first - 1 >= oldestHeld, first - 1 >= 0, previous - (first - 1) < DetectionGate.lookBackPeriods {
            let earlier = self.period(first - 1)
            guard earlier.startFrame + UInt64(earlier.samples.count) == nextStart else { break }
            first -= 1
            nextStart = earlier.startFrame
        }
        guard first <= previous else { return }
        for number in first...previous {
            let earlier = self.period(number)
            if replayDTMF { detectDTMF(earlier) }
            if replayFSK { detectFSK(earlier) }
        }
    }

    private func detectDTMF(_ period: CapturedPeriod) {
        for digit in dtmf.process(period.samples, startFrame: period.startFrame) {
            events.append(.dtmf(digit.key, frame: digit.startFrame))
            if let id = dtmfCallerID.feed(digit), let number = id.number { events.append(.callerNumber(number, frame: digit.endFrame)) }
        }
    }

    private func detectFSK(_ period: CapturedPeriod) {
        for id in fsk.process(period.samples, startFrame: period.startFrame) {
            if let number = id.number { events.append(.callerNumber(number, frame: id.endFrame)) }
        }
    }

    public func finish(endFrame: UInt64) {
        while nextToProcess < received { processNext() }
        // The run ends (stop frame or signal): calls in progress end here, as if hung up.
        if hookLevel { handle(.onHook(frame: endFrame)) }
        player?.advance(line: setup.line, to: endFrame)
        lineStorage.endOfRun()
        if ownsStorage { storage.finish() }
    }

    private func handle(_ event: CallEvent) {
        switch event {
        case .offHook(let frame):
            offHookSince = frame
            if unansweredEpisodes > 0 && raised.remove(.ringWithoutOffHook) != nil {
                alarms.clear(.ringWithoutOffHook, line: setup.line, reason: "a ringing call was answered")
            }
            if cadence.isRinging { unansweredEpisodes = 0 }
            cadence.reset()
        case .onHook:
            offHookSince = nil
            if stuckOffHookAlarmed {
                stuckOffHookAlarmed = false
                raised.remove(.stuckOffHook)
                alarms.clear(.stuckOffHook, line: setup.line, reason: "the line went on hook")
            }
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
        // After a failure the call is written no further (one alarm, not one per period); it is closed
        // as interrupted at its end, and the other lines never notice.
        if lineStorage.hasWaitingJobs { lineStorage.sendWaitingJobs() }
        guard let recording, callFailure == nil, to > from else { return }
        let offset = Int(from - period.startFrame), count = Int(to - from)
        do {
            try lineStorage.feed(recording, UnsafeBufferPointer(rebasing: period.samples[offset..<offset + count]), at: from, queued: queued)
        } catch {
            fail("encoding failed: \(error)", at: to)
        }
    }

    private func send(_ job: StorageQueue.Job) { lineStorage.send(job) }

    private func perform(_ action: CallAction) {
        switch action {
        case .beginCapture(let direction, let frame, let callerNumber):
            let startUTC = sessionStart.addingTimeInterval(Double(frame) / Double(setup.rate))
            call = CallRecord(line: setup.line, direction: direction, startFrame: frame, startUTC: startUTC, callerNumber: callerNumber)
            live.callBegan(direction, at: frame)
            callFailure = nil
            queued = false
            do {
                let encoder = try LineEncoder(
                    sampleRate: setup.rate, settings: setup.opus, sink: DeferredSealedSink(capacity: awaitingConsent),
                    serialNumber: UInt32(truncatingIfNeeded: frame), metadata: .init([
                        ("SKRYBA_LINE", "\(setup.line)"), ("SKRYBA_LINE_NAME", setup.name), ("SKRYBA_DIRECTION", direction.rawValue),
                        ("SKRYBA_START_UTC", startUTC.formatted(.iso8601)), ("SKRYBA_START_FRAME", "\(frame)"),
                        ("SKRYBA_RECORDER", setup.recorderID),
                    ]), packetsPerPage: setup.packetsPerPage)
                recording = RecordingSession(line: setup.line, rate: setup.rate, startFrame: frame, encoder: encoder)
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
            guard var current = call, let recording, callFailure == nil else { return }
            current.consent = consent
            call = current
            // The row, the file and the backlog are the storage service's: this worker goes on encoding.
            do { try lineStorage.open(current, recording) } catch {
                fail("cannot hand the call to storage: \(error)", at: frame)
                return
            }
            queued = true
        case .finishRecording(let frame, let consent, let completed, let digits):
            guard var current = call else { return }
            current.consent = consent
            current.announcementCompleted = completed
            current.dialedDigits = digits
            if let recording, callFailure == nil, queued {
                do { try lineStorage.close(recording, at: frame) } catch {
                    fail("cannot finish the recording: \(error)", at: frame)
                }
            }
            if queued {
                send(.finish(current, endFrame: frame, durationMs: recording?.durationMs ?? 0, failure: callFailure,
                             gaps: recording?.gaps ?? []))
            } else {
                // The encoder could not even start: nothing was queued, so only the report knows the call.
                send(.summary(CallSummary(line: setup.line, direction: current.direction.rawValue, startFrame: current.startFrame,
                                          endFrame: frame, outcome: "failed", recording: nil, consent: consent.rawValue)))
            }
            endCall()
        case .discardCapture(let frame, let consent, let completed):
            guard var current = call else { return }
            recording?.sink.storage.discard()
            current.consent = consent
            current.announcementCompleted = completed
            let duration = durationMs(from: current.startFrame, to: frame)
            let reason = consent == .objected ? "the caller objected with the opt-out key; the call went on unrecorded"
                : "the caller hung up during the announcement"
            send(.discarded(current, endFrame: frame, durationMs: duration, reason: reason))
            endCall()
        }
    }

    /// The machine never dates an end before its call's start; the guard keeps a line alive if it ever did.
    private func durationMs(from start: UInt64, to end: UInt64) -> Int64 {
        Int64(clamping: end.frames(since: start)) * 1000 / Int64(setup.rate)
    }

    private func endCall() {
        live.callEnded()
        call = nil
        recording = nil
        lineStorage.recordingEnded()
        queued = false
        callFailure = nil
    }

    private func fail(_ message: String, at frame: UInt64) {
        if callFailure == nil { callFailure = message }
        raise(.recordingFailed, at: frame, message)
    }

    /// Each alarm once, and its message built only then: a silent or stuck line costs nothing per period.
    private func watchHealth(_ period: CapturedPeriod, end: UInt64) {
        live.notePeriod(period.samples, end: end)
        let quiet = setup.limits.silenceAmplitude
        if period.samples.contains(where: { $0 > quiet || $0 < -quiet }) {
            lastSignalFrame = end
            if noSignalAlarmed {
                noSignalAlarmed = false
                raised.remove(.noCaptureSignal)
                alarms.clear(.noCaptureSignal, line: setup.line, reason: "the capture channel has a signal again")
            }
        } else if !noSignalAlarmed, end.frames(since: lastSignalFrame) >= setup.limits.noSignalFrames {
            noSignalAlarmed = true
            raise(.noCaptureSignal, at: end, "no signal on the capture channel for \(end.frames(since: lastSignalFrame) / UInt64(setup.rate)) s: is the tap connected?")
        }
        if let since = offHookSince, !stuckOffHookAlarmed, end.frames(since: since) >= setup.limits.stuckOffHookFrames {
            stuckOffHookAlarmed = true
            raise(.stuckOffHook, at: end, "off hook since frame \(since) (\(end.frames(since: since) / UInt64(setup.rate) / 60) min): stuck or miswired loop-current input?")
        }
    }

    private func raise(_ kind: Alarm.Kind, at frame: UInt64, _ message: String) {
        guard kind == .recordingFailed || raised.insert(kind).inserted else { return }
        alarms.raise(Alarm(kind: kind, line: setup.line, frame: frame, message: message))
    }
}
