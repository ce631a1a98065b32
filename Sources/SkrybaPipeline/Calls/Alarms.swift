import Foundation

/// Something a technician or IT must look at (REQUIREMENTS.md "Alarms"). Raised once per cause.
public struct Alarm: Equatable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        case stuckOffHook = "stuck-off-hook"
        case ringWithoutOffHook = "ring-without-off-hook"
        case noCaptureSignal = "no-capture-signal"
        case recordingFailed = "recording-failed"
        /// Part of a recording's timeline never reached its encoder (ring overflow, device recovery,
        /// storage backlog overflow): the file holds silence there and the catalog lists the gap.
        case recordingGap = "recording-gap"
        /// The storage service (flash, SQLite) is behind: a line's queue of records is half full.
        /// Nothing is lost yet; a stall longer than docs/architecture.md states would lose audio.
        case storageFallingBehind = "storage-falling-behind"
        /// A line's storage queue was full: audio of a call was not encoded (counted, kept as a gap).
        case storageOverflow = "storage-overflow"
        case playbackFailed = "playback-failed"
        /// Not even the room a new call needs is free, and nothing more may be deleted.
        case storageFull = "storage-full"
        /// Below the `keep_free` rule, nothing more may be deleted, but calls still fit.
        case storageNearlyFull = "storage-nearly-full"
        /// The system clock is not synchronised: new recordings are flagged, retention keeps them.
        case clockNotSynchronised = "clock-not-synchronised"
        /// Captured audio was dropped (a full ring, a capture overrun): a recording has a hole.
        case audioLost = "audio-lost"
        /// The capture device failed (the USB audio interface was unplugged): capture reopens it with
        /// back-off, and recording resumes by itself when it returns (the outage is a gap).
        case captureDeviceGone = "capture-device-gone"
        /// The GPIO chip failed (ring/hook inputs unreadable): calls cannot be detected.
        case gpioFailed = "gpio-failed"
        /// No age recipient is configured: nothing can be sealed, so nothing is recorded.
        case noRecipient = "no-recipient"

        /// A condition lasts until its cause is gone (cleared then); the other kinds are events,
        /// cleared by the daemon once `AlarmBoard.eventHoldSeconds` passed without a repeat.
        public var isCondition: Bool {
            switch self {
            case .stuckOffHook, .ringWithoutOffHook, .noCaptureSignal, .storageFallingBehind, .storageFull, .storageNearlyFull,
                 .clockNotSynchronised, .captureDeviceGone, .gpioFailed, .noRecipient: true
            case .recordingFailed, .recordingGap, .storageOverflow, .playbackFailed, .audioLost: false
            }
        }
    }
    public var kind: Kind
    public var line: Int
    public var frame: UInt64
    public var message: String
    public var description: String { "ALARM \(kind.rawValue) line \(line) at frame \(frame): \(message)" }

    public init(kind: Kind, line: Int, frame: UInt64, message: String) {
        self.kind = kind
        self.line = line
        self.frame = frame
        self.message = message
    }
}

/// An alarm in force: since when (wall clock) and how often it was raised again since.
public struct ActiveAlarm: Equatable, Sendable, Codable {
    public var alarm: Alarm
    public var raisedAt: Date
    /// The last time it was raised (events repeat: one more overflow, one more gap).
    public var lastRaisedAt: Date
    public var count: Int
}

/// The alarms of a run, shared by the line workers, storage, retention and the daemon's health
/// checks. Each alarm has a start (`raise`) and an end (`clear`); one (kind, line) is in force at
/// most once. Callbacks run on the raising thread (a line worker, the storage thread): they must
/// hand the work on, not do it (the daemon queues audit entries and log lines).
public final class AlarmBoard: @unchecked Sendable {
    public struct Key: Hashable, Sendable {
        public var kind: Alarm.Kind
        public var line: Int
    }
    /// An event alarm (`Kind.isCondition` false) is cleared after this long without a repeat.
    public static let eventHoldSeconds: TimeInterval = 600

    private let lock = NSLock()
    private var raised: [Alarm] = []
    private var inForce: [Key: ActiveAlarm] = [:]
    /// Called for every raise; `isNew` is false for a repeat of an alarm already in force.
    public var onAlarm: ((Alarm) -> Void)?
    public var onRaised: ((Alarm, _ isNew: Bool) -> Void)?
    /// Called when an alarm in force ends: the alarm as raised, and why it ended.
    public var onCleared: ((Alarm, _ reason: String) -> Void)?

    public init() {}

    public func raise(_ alarm: Alarm, at now: Date = Date()) {
        let key = Key(kind: alarm.kind, line: alarm.line)
        let isNew = lock.withLock {
            raised.append(alarm)
            if var current = inForce[key] {
                current.lastRaisedAt = now
                current.count += 1
                current.alarm.message = alarm.message
                inForce[key] = current
                return false
            }
            inForce[key] = ActiveAlarm(alarm: alarm, raisedAt: now, lastRaisedAt: now, count: 1)
            return true
        }
        onAlarm?(alarm)
        onRaised?(alarm, isNew)
    }

    /// Ends the alarm of `kind` on `line` if it is in force; true when it was.
    @discardableResult
    public func clear(_ kind: Alarm.Kind, line: Int = 0, reason: String) -> Bool {
        guard let ended = lock.withLock({ inForce.removeValue(forKey: Key(kind: kind, line: line)) }) else { return false }
        onCleared?(ended.alarm, reason)
        return true
    }

    /// Clears the event alarms not raised again for `eventHoldSeconds` (the daemon's health check).
    public func clearQuietEvents(at now: Date) {
        let quiet = lock.withLock {
            inForce.values.filter { !$0.alarm.kind.isCondition && now.timeIntervalSince($0.lastRaisedAt) >= Self.eventHoldSeconds }
        }
        for event in quiet {
            clear(event.alarm.kind, line: event.alarm.line,
                  reason: "not repeated for \(Int(Self.eventHoldSeconds / 60)) min (the recordings keep their gaps in the catalog)")
        }
    }

    public func isInForce(_ kind: Alarm.Kind, line: Int = 0) -> Bool { lock.withLock { inForce[Key(kind: kind, line: line)] != nil } }

    /// Every alarm raised during the run, in order (the daemon's end-of-run report).
    public var alarms: [Alarm] { lock.withLock { raised } }
    /// The alarms in force, oldest first.
    public var active: [ActiveAlarm] {
        lock.withLock { inForce.values.sorted { ($0.raisedAt, $0.alarm.line, $0.alarm.kind.rawValue) < ($1.raisedAt, $1.alarm.line, $1.alarm.kind.rawValue) } }
    }
}

/// Thresholds for the wiring alarms, in frames (tests shrink them; the sample clock makes hours quick).
public struct LineHealthLimits: Sendable {
    /// Off hook longer than this: the loop-current input is stuck or miswired.
    public var stuckOffHookFrames: UInt64
    /// This many ringing episodes in a row that nobody answered: the hook input may be disconnected.
    public var unansweredRingingEpisodes: Int
    /// No sample louder than `silenceAmplitude` for this long: the tap or its channel is dead.
    public var noSignalFrames: UInt64
    public var silenceAmplitude: Int16

    public static func standard(rate: Int) -> LineHealthLimits {
        LineHealthLimits(stuckOffHookFrames: UInt64(rate) * 4 * 3600, unansweredRingingEpisodes: 20,
                         noSignalFrames: UInt64(rate) * 3600, silenceAmplitude: 2)
    }

    public init(stuckOffHookFrames: UInt64, unansweredRingingEpisodes: Int, noSignalFrames: UInt64, silenceAmplitude: Int16) {
        self.stuckOffHookFrames = stuckOffHookFrames
        self.unansweredRingingEpisodes = unansweredRingingEpisodes
        self.noSignalFrames = noSignalFrames
        self.silenceAmplitude = silenceAmplitude
    }
}
