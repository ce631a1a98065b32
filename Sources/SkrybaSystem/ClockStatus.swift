import CKernelClock
import Foundation

/// Whether the system clock may be believed, and why (docs/retention.md, "An untrusted clock").
/// A board without a battery-backed clock starts in 1970 until NTP sets it: recordings stamped then
/// carry a date that says nothing, and retention must not delete on the strength of it.
public struct ClockTrust: Equatable, Sendable, CustomStringConvertible {
    public var isTrusted: Bool
    /// One sentence for the alarm, the audit log and the status line.
    public var reason: String

    public init(isTrusted: Bool, reason: String) {
        self.isTrusted = isTrusted
        self.reason = reason
    }

    public static func trusted(_ reason: String) -> ClockTrust { ClockTrust(isTrusted: true, reason: reason) }
    public static func untrusted(_ reason: String) -> ClockTrust { ClockTrust(isTrusted: false, reason: reason) }

    /// No running appliance can truly be earlier than this (the firmware is newer): a clock that
    /// reads earlier is wrong, whatever any daemon says about synchronisation.
    public static let earliestPlausible = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    /// Untrusted when `now` is before `earliestPlausible`; nil otherwise.
    public static func implausible(_ now: Date) -> ClockTrust? {
        guard now < earliestPlausible else { return nil }
        let shown = ISO8601DateFormatter().string(from: now)
        return .untrusted("the system clock reads \(shown), before this firmware was made (2026-01-01): it has not been set")
    }

    public var description: String { reason }
}

/// Where the daemon and retention learn whether the clock is synchronised. The real one asks the
/// kernel; tests inject a fixed answer (and run the real one under faketime).
public protocol SystemClockStatus: Sendable {
    /// Whether `now`, which the caller read from the system clock, can be trusted.
    func trust(at now: Date) -> ClockTrust
}

/// The kernel's NTP state, as chrony, ntpd and systemd-timesyncd leave it: adjtimex(2) with no
/// modes only reads; it returns TIME_ERROR and sets STA_UNSYNC in `status` until a time daemon has
/// disciplined the clock. systemd-timesyncd's flag file counts as well.
public struct KernelClockStatus: SystemClockStatus {
    /// systemd-timesyncd creates this file once it has synchronised the clock.
    public var timesyncFlagFile: String

    public init(timesyncFlagFile: String = "/run/systemd/timesync/synchronized") {
        self.timesyncFlagFile = timesyncFlagFile
    }

    public func trust(at now: Date) -> ClockTrust {
        if let implausible = ClockTrust.implausible(now) { return implausible }
        var state = timex()
        let result = adjtimex(&state)
        if result != -1, result != TIME_ERROR, state.status & STA_UNSYNC == 0 {
            return .trusted("the kernel reports the clock synchronised (adjtimex)")
        }
        if access(timesyncFlagFile, F_OK) == 0 {
            return .trusted("systemd-timesyncd reports the clock synchronised (\(timesyncFlagFile))")
        }
        return .untrusted("the kernel reports the clock unsynchronised (adjtimex: STA_UNSYNC) and no time daemon has set it (is chrony running and reaching its servers?)")
    }
}

/// Trusts a plausible clock without asking the kernel: for simulations and test benches, whose
/// machines may have no time daemon (`skrybad --assume-clock-synchronised`). A clock before
/// `ClockTrust.earliestPlausible` is still untrusted.
public struct AssumedSynchronisedClock: SystemClockStatus {
    public init() {}

    public func trust(at now: Date) -> ClockTrust {
        ClockTrust.implausible(now) ?? .trusted("the clock is assumed synchronised (--assume-clock-synchronised)")
    }
}

/// Always the same answer: for tests that drive simulated time.
public struct FixedClockStatus: SystemClockStatus {
    public var answer: ClockTrust

    public init(_ answer: ClockTrust) { self.answer = answer }

    public static let trusted = FixedClockStatus(.trusted("trusted by the test"))

    public func trust(at now: Date) -> ClockTrust { answer }
}
