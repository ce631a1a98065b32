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
    /// Days of recording left at the current rate (the daemon measures it), said in the nearly-full alarm.
    public var daysLeft: (() -> Double?)?

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
        let changed = lock.withLock {
            defer { lastStorage = state }
            return state != lastStorage
        }
        guard changed else { return }
        // Leaving a state ends its alarm (full → nearly full ends "full" and raises "nearly full").
        if state != .full { alarms.clear(.storageFull, reason: "a call fits on the recordings' filesystem again") }
        if state == .ok { alarms.clear(.storageNearlyFull, reason: "the [retention] keep_free rule is met again") }
        guard state != .ok, let free = report.freeBytes else { return }
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
                    + "\(kept); nothing more may be deleted"
                    + (daysLeft?().map { String(format: "; about %.1f days of recording left at the current rate", $0) } ?? "")))
        case .full:
            alarms.raise(Alarm(kind: .storageFull, line: 0, frame: 0, message:
                "only \(ByteCount(free)) free on the recordings' filesystem, and a call needs about \(ByteCount(report.bytesNeeded))\(kept); "
                    + "nothing more may be deleted: new calls may not be recorded"))
        }
    }

    private func note(_ trust: ClockTrust) {
        let (raise, cleared) = lock.withLock {
            defer { clockWasTrusted = trust.isTrusted }
            return (clockWasTrusted && !trust.isTrusted, !clockWasTrusted && trust.isTrusted)
        }
        if cleared { alarms.clear(.clockNotSynchronised, reason: "the system clock is synchronised") }
        guard raise else { return }
        alarms.raise(Alarm(kind: .clockNotSynchronised, line: 0, frame: 0, message:
            "\(trust.reason); calls are recorded, flagged as dated on an untrusted clock, and retention will not delete them by date"))
    }
}

/// Dates on the command line: ISO 8601 with a zone (`2026-11-22T10:00:00Z`, `2026-11-22T11:00+01:00`), or
/// `YYYY-MM-DD[ HH:MM[:SS]]` on the offices' legal time (Europe/Warsaw). Strict: a day the month lacks
/// (`2026-11-31`), an hour or minute out of range (`25:00`, `10:99`) or a Warsaw time the clocks skip is
/// refused, never rolled over into another date.
public enum CommandLineDate {
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Years a date on this appliance can sensibly name.
    public static let years = 2000...2099

    public static func parse(_ text: String) throws(Problem) -> Date {
        let usage = "(2026-11-22T10:00:00Z, or 2026-11-22 10:00 in Warsaw time)"
        let text = FreeText.printable(text)
        var scanner = Array(text.trimmingCharacters(in: .whitespaces).utf8)[...]
        func number(_ digits: Int) -> Int? {
            guard scanner.count >= digits, scanner.prefix(digits).allSatisfy({ (48...57).contains($0) }) else { return nil }
            defer { scanner = scanner.dropFirst(digits) }
            return scanner.prefix(digits).reduce(0) { $0 * 10 + Int($1 - 48) }
        }
        func take(_ character: Character) -> Bool {
            guard scanner.first == character.asciiValue else { return false }
            scanner = scanner.dropFirst()
            return true
        }
        func notADate() -> Problem { Problem(description: "'\(text)' is not a date \(usage)") }

        guard let year = number(4), take("-"), let month = number(2), take("-"), let day = number(2) else { throw notADate() }
        var hour = 0, minute = 0, second = 0, fraction = 0.0
        var offset: Int?
        if take(" ") || take("T") {
            guard let h = number(2), take(":"), let m = number(2) else { throw notADate() }
            (hour, minute) = (h, m)
            if take(":") {
                guard let s = number(2) else { throw notADate() }
                second = s
                if take(".") {
                    let digits = scanner.prefix { (48...57).contains($0) }
                    guard !digits.isEmpty, digits.count <= 9 else { throw notADate() }
                    fraction = Double(String(decoding: digits, as: UTF8.self)).map { $0 / pow(10, Double(digits.count)) } ?? 0
                    scanner = scanner.dropFirst(digits.count)
                }
            }
            if take("Z") {
                offset = 0
            } else if let sign = scanner.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                scanner = scanner.dropFirst()
                guard let zoneHours = number(2) else { throw notADate() }
                _ = take(":")
                guard let zoneMinutes = number(2), zoneHours <= 14, zoneMinutes <= 59 else {
                    throw Problem(description: "'\(text)': the zone offset is not a real one (-14:00 to +14:00)")
                }
                offset = (sign == UInt8(ascii: "-") ? -1 : 1) * (zoneHours * 3600 + zoneMinutes * 60)
            }
        }
        guard scanner.isEmpty else { throw notADate() }
        guard years.contains(year) else { throw Problem(description: "'\(text)': the year \(year) is outside \(years.lowerBound)...\(years.upperBound)") }
        guard (1...12).contains(month) else { throw Problem(description: "'\(text)': there is no month \(month)") }
        var calendar = LegalTime.calendar
        if let offset, let zone = TimeZone(secondsFromGMT: offset) { calendar.timeZone = zone }
        let days = calendar.range(of: .day, in: .month, for: calendar.date(from: DateComponents(year: year, month: month, day: 1)) ?? Date())?.count ?? 31
        guard (1...days).contains(day) else {
            throw Problem(description: "'\(text)': \(String(format: "%04d-%02d", year, month)) has no day \(day) (it has \(days) days)")
        }
        guard (0...23).contains(hour) else { throw Problem(description: "'\(text)': the hour \(hour) is outside 0...23") }
        guard (0...59).contains(minute) else { throw Problem(description: "'\(text)': the minute \(minute) is outside 0...59") }
        guard (0...59).contains(second) else { throw Problem(description: "'\(text)': the second \(second) is outside 0...59") }
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        let back = calendar.date(from: components).map { calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: $0) }
        guard let date = calendar.date(from: components), let back,
              [back.year, back.month, back.day, back.hour, back.minute, back.second] == [year, month, day, hour, minute, second] else {
            throw Problem(description: "'\(text)': that time does not exist in Warsaw (the clocks skip it when summer time begins)")
        }
        return date.addingTimeInterval(fraction)
    }
}
