/// Which way a call goes (R2: recorded per line per direction).
public enum CallDirection: String, Sendable, Codable, CaseIterable {
    case incoming, outgoing
}

/// How a line asks for consent (R4).
public enum ConsentMode: Equatable, Sendable {
    /// Continuing after the announcement is consent; hanging up during it leaves nothing.
    case continueMeansConsent
    /// The caller may press `key` during the announcement or within `windowFrames` after it to
    /// object: the call continues unrecorded and what was captured is destroyed.
    case optOutKey(Character, windowFrames: UInt64)
}

/// The consent outcome kept with a call (catalog column `consent`).
public enum ConsentOutcome: String, Sendable, Codable {
    case given
    case objected
    case hungUp = "hung-up"
    case notAsked = "not-asked"
}

/// Per-line call policy, from the configuration.
public struct LinePolicy: Equatable, Sendable {
    public var record: Set<CallDirection>
    public var consent: ConsentMode
    /// Announcement length in frames; nil when the line has none (then incoming calls are not announced).
    public var announcementFrames: UInt64?
    /// Length of the optional notice for outgoing calls (R5); nil for none.
    public var outgoingNoticeFrames: UInt64?
    /// The outgoing notice plays once dialling has paused this long (the far end is ringing or answered).
    public var outgoingNoticeAfterDialPauseFrames: UInt64

    public init(record: Set<CallDirection>, consent: ConsentMode, announcementFrames: UInt64?, outgoingNoticeFrames: UInt64? = nil,
                outgoingNoticeAfterDialPauseFrames: UInt64 = 3 * 8000) {
        self.record = record
        self.consent = consent
        self.announcementFrames = announcementFrames
        self.outgoingNoticeFrames = outgoingNoticeFrames
        self.outgoingNoticeAfterDialPauseFrames = outgoingNoticeAfterDialPauseFrames
    }
}

/// What happens on a line, in sample-clock order. Ring edges are turned into ring bursts by
/// `RingCadence` first; the machine never sees a lone edge.
public enum CallEvent: Equatable, Sendable {
    case ringBurst(frame: UInt64)
    /// No ring burst for the ringing timeout and nobody answered: the caller gave up.
    case ringingEnded(frame: UInt64)
    case offHook(frame: UInt64)
    case onHook(frame: UInt64)
    case callerNumber(String, frame: UInt64)
    case dtmf(Character, frame: UInt64)
    /// The sample clock reached `frame` (timers: end of announcement, opt-out window, dial pause).
    case tick(frame: UInt64)
}

/// What the line worker must do. The machine does no I/O; the worker performs these in order.
public enum CallAction: Equatable, Sendable {
    /// Start encoding audio from `frame` into memory (nothing reaches flash yet).
    case beginCapture(direction: CallDirection, frame: UInt64, callerNumber: String?)
    /// Play the announcement into the line from `frame`.
    case playAnnouncement(frame: UInt64)
    /// Cut the announcement short at `frame` (the caller hung up or objected).
    case stopAnnouncement(frame: UInt64)
    /// Consent is settled (or not needed): create the catalog row and sealed file, write what is
    /// buffered, keep writing.
    case commitRecording(frame: UInt64, consent: ConsentOutcome)
    /// The call ended at `frame`: finish the sealed recording.
    case finishRecording(frame: UInt64, consent: ConsentOutcome, announcementCompleted: Bool?, dialedDigits: String)
    /// Destroy everything captured of this call (never committed), and log why.
    case discardCapture(frame: UInt64, consent: ConsentOutcome, announcementCompleted: Bool)
    case playOutgoingNotice(frame: UInt64)
    /// The caller number arrived after capture began.
    case setCallerNumber(String)
}

/// One line's call logic: idle → ringing → off-hook (incoming: announcement, consent, recording) /
/// off-hook without ring (outgoing) → on-hook → idle. A value type with no I/O
/// (`mutating func handle(_:) -> [CallAction]`), tested as tables of events and actions.
public struct CallStateMachine: Equatable, Sendable {
    public enum State: Equatable, Sendable {
        case idle
        case ringing(callerNumber: String?)
        /// An incoming call being announced; audio is captured to memory only.
        case announcing(Call, announcementEnd: UInt64)
        /// Announcement over, waiting out the opt-out window; still memory only.
        case optOutWindow(Call, deadline: UInt64)
        /// Committed to flash.
        case recording(Call)
        /// A call that is not recorded (direction not configured, or the caller objected).
        case unrecorded(direction: CallDirection)
    }

    public struct Call: Equatable, Sendable {
        public var direction: CallDirection
        public var startFrame: UInt64
        public var callerNumber: String?
        public var consent: ConsentOutcome
        public var announcementCompleted: Bool?
        public var dialedDigits: String = ""
        public var lastDigitFrame: UInt64?
        public var noticePlayed = false
    }

    public let policy: LinePolicy
    public private(set) var state: State = .idle

    public init(policy: LinePolicy) { self.policy = policy }

    /// The call in progress, if any (announcing, opt-out window, recording).
    public var call: Call? {
        switch state {
        case .announcing(let call, _), .optOutWindow(let call, _), .recording(let call): call
        case .idle, .ringing, .unrecorded: nil
        }
    }

    public mutating func handle(_ event: CallEvent) -> [CallAction] {
        var event = event
        // Detectors report a digit once it has ended, dated at its start, so an event may be dated
        // before the call began (a key already sounding at off-hook, a late edge). Nothing that began
        // before the call belongs to it, and nothing ends it before it began: every action's frame is
        // at or after the call's start frame, so no frame arithmetic downstream can underflow.
        if let start = call?.startFrame, event.frame < start {
            if case .dtmf = event { return [] }
            event = event.dated(start)
        }
        switch (state, event) {
        case (.idle, .ringBurst):
            state = .ringing(callerNumber: nil)
            return []
        case (.ringing, .ringBurst), (.ringing, .tick):
            return []
        case (.idle, .callerNumber(let number, _)), (.ringing(nil), .callerNumber(let number, _)):
            // CLIP comes between the first and second ring (or before the first, after a line reversal).
            state = .ringing(callerNumber: number)
            return []
        case (.ringing, .ringingEnded):
            state = .idle
            return []
        case (.ringing(let number), .offHook(let frame)):
            return answer(.incoming, at: frame, callerNumber: number)
        case (.idle, .offHook(let frame)):
            return answer(.outgoing, at: frame, callerNumber: nil)

        case (.announcing(var call, let end), .tick(let frame)) where frame >= end:
            call.announcementCompleted = true
            if case .optOutKey(_, let window) = policy.consent {
                state = .optOutWindow(call, deadline: end + window)
                return handle(.tick(frame: frame))
            }
            call.consent = .given
            state = .recording(call)
            return [.commitRecording(frame: end, consent: .given)]
        case (.optOutWindow(var call, let deadline), .tick(let frame)) where frame >= deadline:
            call.consent = .given
            state = .recording(call)
            return [.commitRecording(frame: deadline, consent: .given)]
        case (.announcing(let call, _), .dtmf(let key, let frame)), (.optOutWindow(let call, _), .dtmf(let key, let frame)):
            guard case .optOutKey(let optOut, _) = policy.consent, key == optOut else { return [] }
            let completed = call.announcementCompleted ?? false
            state = .unrecorded(direction: call.direction)
            return (completed ? [] : [.stopAnnouncement(frame: frame)])
                + [.discardCapture(frame: frame, consent: .objected, announcementCompleted: completed)]
        case (.announcing, .onHook(let frame)):
            state = .idle
            return [.stopAnnouncement(frame: frame), .discardCapture(frame: frame, consent: .hungUp, announcementCompleted: false)]
        case (.optOutWindow(let call, _), .onHook(let frame)):
            // The caller heard the whole announcement and went on without objecting (R4): that is
            // consent, even though the window had not closed yet.
            state = .idle
            return [.commitRecording(frame: frame, consent: .given),
                    .finishRecording(frame: frame, consent: .given, announcementCompleted: true, dialedDigits: call.dialedDigits)]
        case (.announcing(var call, let end), .callerNumber(let number, _)), (.optOutWindow(var call, let end), .callerNumber(let number, _)):
            call.callerNumber = number
            state = if case .announcing = state { .announcing(call, announcementEnd: end) } else { .optOutWindow(call, deadline: end) }
            return [.setCallerNumber(number)]

        case (.recording(var call), .dtmf(let key, let frame)):
            guard call.direction == .outgoing else { return [] }  // callers' keypresses (IVR, PINs) are not kept
            call.dialedDigits.append(key)
            call.lastDigitFrame = frame
            state = .recording(call)
            return []
        case (.recording(var call), .tick(let frame)):
            guard call.direction == .outgoing, !call.noticePlayed, policy.outgoingNoticeFrames != nil,
                  let last = call.lastDigitFrame, frame >= last + policy.outgoingNoticeAfterDialPauseFrames else { return [] }
            call.noticePlayed = true
            state = .recording(call)
            return [.playOutgoingNotice(frame: last + policy.outgoingNoticeAfterDialPauseFrames)]
        case (.recording(let call), .callerNumber(let number, _)):
            var updated = call
            updated.callerNumber = number
            state = .recording(updated)
            return [.setCallerNumber(number)]
        case (.recording(let call), .onHook(let frame)):
            state = .idle
            return [.finishRecording(frame: frame, consent: call.consent, announcementCompleted: call.announcementCompleted,
                                     dialedDigits: call.dialedDigits)]

        case (.unrecorded, .onHook):
            state = .idle
            return []
        default:
            // Everything else changes nothing: a ring burst during a call (a second caller hears
            // busy), digits while idle, ticks while idle, a second off-hook edge.
            return []
        }
    }

    private mutating func answer(_ direction: CallDirection, at frame: UInt64, callerNumber: String?) -> [CallAction] {
        guard policy.record.contains(direction) else {
            state = .unrecorded(direction: direction)
            return []
        }
        var call = Call(direction: direction, startFrame: frame, callerNumber: callerNumber, consent: .notAsked, announcementCompleted: nil)
        let begin = CallAction.beginCapture(direction: direction, frame: frame, callerNumber: callerNumber)
        if direction == .incoming, let length = policy.announcementFrames {
            call.announcementCompleted = false
            state = .announcing(call, announcementEnd: frame + length)
            return [begin, .playAnnouncement(frame: frame)]
        }
        state = .recording(call)
        return [begin, .commitRecording(frame: frame, consent: .notAsked)]
    }
}

extension CallEvent {
    /// The frame the event happened at.
    public var frame: UInt64 {
        switch self {
        case .ringBurst(let frame), .ringingEnded(let frame), .offHook(let frame), .onHook(let frame), .tick(let frame): frame
        case .callerNumber(_, let frame), .dtmf(_, let frame): frame
        }
    }

    /// The same event at `frame`.
    public func dated(_ frame: UInt64) -> CallEvent {
        switch self {
        case .ringBurst: .ringBurst(frame: frame)
        case .ringingEnded: .ringingEnded(frame: frame)
        case .offHook: .offHook(frame: frame)
        case .onHook: .onHook(frame: frame)
        case .tick: .tick(frame: frame)
        case .callerNumber(let number, _): .callerNumber(number, frame: frame)
        case .dtmf(let key, _): .dtmf(key, frame: frame)
        }
    }
}

extension UInt64 {
    /// Frames from `earlier` to this position; 0 when `earlier` is not before it (never traps).
    @inlinable public func frames(since earlier: UInt64) -> UInt64 { self > earlier ? self - earlier : 0 }
}
