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
    }
    public var kind: Kind
    public var line: Int
    public var frame: UInt64
    public var message: String
    public var description: String { "ALARM \(kind.rawValue) line \(line) at frame \(frame): \(message)" }
}

/// The alarms raised during a run, shared by the line workers.
public final class AlarmBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var raised: [Alarm] = []
    public var onAlarm: ((Alarm) -> Void)?

    public init() {}

    public func raise(_ alarm: Alarm) {
        lock.withLock { raised.append(alarm) }
        onAlarm?(alarm)
    }

    public var alarms: [Alarm] { lock.withLock { raised } }
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
