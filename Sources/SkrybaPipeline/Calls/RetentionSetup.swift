import Foundation
import SkrybaConfig
import SkrybaCore
import SkrybaStore
import SkrybaSystem

/// The retention engine as the configuration describes it (`[retention]`, the lines' `retention*`).
public enum RetentionSetup {
    public static func policy(_ configuration: RetentionConfiguration) -> RetentionPolicy {
        func period(_ period: RetentionConfiguration.Period) -> RetentionPeriod {
            switch period {
            case .days(let days): .days(days)
            case .months(let months): .months(months)
            case .untilCapacity: .untilCapacity
            }
        }
        func direction(_ direction: CallDirection?) -> RecordingDirection? {
            direction.map { $0 == .incoming ? .incoming : .outgoing }
        }
        var overrides = configuration.perDirection.map { RetentionOverride(direction: direction($0.key), period: period($0.value)) }
        overrides += configuration.perLine.map { RetentionOverride(line: $0.key.line, direction: direction($0.key.direction), period: period($0.value)) }
        let capacity = configuration.keepFreePercent != nil || configuration.keepFreeBytes != nil
            ? CapacityRule(minimumFreePercent: configuration.keepFreePercent, minimumFreeBytes: configuration.keepFreeBytes) : nil
        return RetentionPolicy(default: period(configuration.period), overrides: overrides.sorted { "\($0)" < "\($1)" }, capacity: capacity)
    }

    public static func engine(_ configuration: SkrybaConfiguration, catalog: Catalog, signer: DeviceKey, clock: any SystemClockStatus,
                              actor: String? = nil) -> RetentionEngine {
        RetentionEngine(catalog: catalog, dataDirectory: configuration.dataDirectory, policy: policy(configuration.retention), signer: signer,
                        clock: clock, actor: actor)
    }

    /// Refuses a `keep_free` amount the data filesystem cannot honour (more than 90% of it, as the
    /// percentage is capped): validation cannot know the filesystem, the daemon can.
    public static func checkFilesystem(_ configuration: SkrybaConfiguration, space: any FilesystemSpace = StatvfsSpace()) throws {
        guard let bytes = configuration.retention.keepFreeBytes else { return }
        let usage = try space.usage(of: configuration.dataDirectory)
        guard Double(bytes) > Double(usage.totalBytes) * 0.9 else { return }
        throw RetentionSetupError("\(configuration.path): [retention] keep_free asks to keep \(ByteCount(bytes)) free, but the filesystem of "
            + "\(configuration.dataDirectory) holds \(ByteCount(usage.totalBytes)) in all; give at most 90% of it (e.g. \"10%\"), "
            + "or nothing could be recorded")
    }
}

public struct RetentionSetupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// "1.5 GiB", "600 MiB", "4096 bytes": sizes as a technician reads them.
struct ByteCount: CustomStringConvertible {
    let bytes: Int64
    init(_ bytes: Int64) { self.bytes = bytes }
    var description: String {
        for (unit, scale) in [("TiB", 0x1p40), ("GiB", 0x1p30), ("MiB", 0x1p20), ("KiB", 0x1p10)] where Double(bytes) >= scale {
            let tenths = (Double(bytes) / scale * 10).rounded()
            return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int64(tenths / 10)) \(unit)" : "\(tenths / 10) \(unit)"
        }
        return "\(bytes) bytes"
    }
}

/// Turns what retention and the clock report into alarms, once per cause: `clock-not-synchronised`
/// when the clock becomes untrusted, `storage-nearly-full` / `storage-full` when the recordings'
/// filesystem gets there (docs/retention.md). Shared by the start-up run, the timer and each new call.
public final class RetentionMonitor: @unchecked Sendable {
    public let alarms: AlarmBoard
    public let clock: any SystemClockStatus
    private let lock = NSLock()
    private var clockWasTrusted = true
    private var lastStorage = StorageState.ok

    public init(alarms: AlarmBoard, clock: any SystemClockStatus) {
        self.alarms = alarms
        self.clock = clock
    }

    /// Whether a call starting at `start` (read from the system clock) has a date to trust; raises
    /// the alarm when the clock has just become untrusted.
    public func clockTrust(at start: Date) -> ClockTrust {
        let trust = clock.trust(at: start)
        note(trust)
        return trust
    }

    /// After each retention run (its clock verdict and the space left).
    public func observe(_ report: RetentionReport) {
        note(report.clock)
        let state = report.storage
        let raise = lock.withLock {
            defer { lastStorage = state }
            return state != lastStorage && state != .ok
        }
        guard raise, let free = report.freeBytes else { return }
        let kept = report.keptWithinRetention > 0
            ? "; \(report.keptWithinRetention) recording(s) are kept because their retention period has not run out (only recordings kept "
                + "\"as long as capacity allows\" are deleted for space)" : ""
        switch state {
        case .ok:
            break
        case .nearlyFull:
            alarms.raise(Alarm(kind: .storageNearlyFull, line: 0, frame: 0, message:
                "only \(ByteCount(free)) free on the recordings' filesystem; the [retention] keep_free rule asks for "
                    + "\(ByteCount(report.requiredFreeBytes - report.bytesNeeded)), plus about \(ByteCount(report.bytesNeeded)) for the next call"
                    + "\(kept); nothing more may be deleted"))
        case .full:
            alarms.raise(Alarm(kind: .storageFull, line: 0, frame: 0, message:
                "only \(ByteCount(free)) free on the recordings' filesystem, and a call needs about \(ByteCount(report.bytesNeeded))\(kept); "
                    + "nothing more may be deleted: new calls may not be recorded"))
        }
    }

    private func note(_ trust: ClockTrust) {
        let raise = lock.withLock {
            defer { clockWasTrusted = trust.isTrusted }
            return clockWasTrusted && !trust.isTrusted
        }
        guard raise else { return }
        alarms.raise(Alarm(kind: .clockNotSynchronised, line: 0, frame: 0, message:
            "\(trust.reason); calls are recorded, flagged as dated on an untrusted clock, and retention will not delete them by date"))
    }
}

/// Dates on the command line: ISO 8601 with a zone (`2026-11-22T10:00:00Z`), or `YYYY-MM-DD[ HH:MM[:SS]]`
/// on the offices' legal time (Europe/Warsaw).
public enum CommandLineDate {
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = try? Date(trimmed, strategy: .iso8601) { return date }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Warsaw")!
        let parts = trimmed.split(whereSeparator: { " T-:".contains($0) }).compactMap { Int($0) }
        guard [3, 5, 6].contains(parts.count) else { return nil }
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts.count > 3 ? parts[3] : 0,
                                        minute: parts.count > 4 ? parts[4] : 0, second: parts.count > 5 ? parts[5] : 0)
        guard components.isValidDate(in: calendar) else { return nil }
        return calendar.date(from: components)
    }
}
