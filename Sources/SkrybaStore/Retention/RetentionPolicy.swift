import Foundation

/// How long a recording is kept (R6). Periods are counted from the recording's start on the Warsaw
/// wall clock (`LegalTime`): 30 days (Wałbrzych §7.2), 1 month (Łobez §4.4), 6 months (Szczecin §6),
/// 12 months (Piaseczno §3.4), or as long as capacity allows (Halinów §1.3.6).
public enum RetentionPeriod: Hashable, Sendable, Codable, CustomStringConvertible {
    case days(Int)
    case months(Int)
    /// No deadline: only the capacity rule deletes (the oldest first).
    case untilCapacity

    /// The deadline for a recording that started at `start`; nil for `untilCapacity`.
    public func deadline(from start: Date) -> Date? {
        switch self {
        case .days(let days): LegalTime.adding(days: days, to: start)
        case .months(let months): LegalTime.adding(months: months, to: start)
        case .untilCapacity: nil
        }
    }

    /// "30 days", "1 month", "12 months", "as long as capacity allows".
    public var description: String {
        switch self {
        case .days(let days): days == 1 ? "1 day" : "\(days) days"
        case .months(let months): months == 1 ? "1 month" : "\(months) months"
        case .untilCapacity: "as long as capacity allows"
        }
    }

    /// What the catalog stores in `retention_rule` and, at deletion, in `deletion_rule`:
    /// "retention 30 days", "retention 1 month", "as long as capacity allows".
    public var rule: String {
        switch self {
        case .days, .months: "retention \(description)"
        case .untilCapacity: description
        }
    }

    var problem: String? {
        switch self {
        case .days(let days) where days < 1: "a retention period must be at least 1 day, not \(days)"
        case .months(let months) where months < 1: "a retention period must be at least 1 month, not \(months)"
        default: nil
        }
    }
}

/// Keep at least this much of the recordings' filesystem free, by deleting the oldest recordings
/// that are not held. When both are given, both must hold.
public struct CapacityRule: Hashable, Sendable, Codable, CustomStringConvertible {
    public var minimumFreePercent: Double?
    public var minimumFreeBytes: Int64?

    public init(minimumFreePercent: Double? = nil, minimumFreeBytes: Int64? = nil) {
        self.minimumFreePercent = minimumFreePercent
        self.minimumFreeBytes = minimumFreeBytes
    }

    /// The free bytes this rule asks for on a filesystem of `totalBytes`.
    public func requiredFreeBytes(totalBytes: Int64) -> Int64 {
        let byPercent = minimumFreePercent.map { Int64((Double(totalBytes) * $0 / 100).rounded(.up)) } ?? 0
        return max(byPercent, minimumFreeBytes ?? 0)
    }

    /// "keep 10% free", "keep 1073741824 bytes free", "keep 10% and 1073741824 bytes free".
    public var description: String {
        let parts = [minimumFreePercent.map { "\(Self.format($0))%" }, minimumFreeBytes.map { "\($0) bytes" }].compactMap { $0 }
        return "keep \(parts.isEmpty ? "nothing" : parts.joined(separator: " and ")) free"
    }

    static func format(_ percent: Double) -> String {
        percent == percent.rounded() ? String(Int64(percent)) : String(percent)
    }

    var problem: String? {
        if minimumFreePercent == nil, minimumFreeBytes == nil { return "a capacity rule needs a minimum free percentage or byte count" }
        if let percent = minimumFreePercent, !(percent > 0 && percent < 100) {
            return "the minimum free percentage must be above 0 and below 100, not \(Self.format(percent))"
        }
        if let bytes = minimumFreeBytes, bytes <= 0 { return "the minimum free byte count must be positive, not \(bytes)" }
        return nil
    }
}

/// A retention period for one line, one direction, or one direction on one line.
public struct RetentionOverride: Hashable, Sendable, Codable {
    public var line: Int?
    public var direction: RecordingDirection?
    public var period: RetentionPeriod

    public init(line: Int? = nil, direction: RecordingDirection? = nil, period: RetentionPeriod) {
        self.line = line
        self.direction = direction
        self.period = period
    }

    /// 3: line and direction, 2: line, 1: direction, 0: neither (applies to everything).
    var specificity: Int { (line == nil ? 0 : 2) + (direction == nil ? 0 : 1) }

    func matches(line: Int, direction: RecordingDirection) -> Bool {
        (self.line ?? line) == line && (self.direction ?? direction) == direction
    }

    var scope: String {
        switch (line, direction) {
        case let (line?, direction?): "line \(line) \(direction.rawValue)"
        case let (line?, nil): "line \(line)"
        case let (nil, direction?): direction.rawValue
        case (nil, nil): "all"
        }
    }
}

/// The retention policy of one appliance (docs/retention.md). The most specific override wins: line
/// and direction, then line, then direction, then `defaultPeriod`; among equally specific overrides
/// the first listed wins (`problems` reports such duplicates).
public struct RetentionPolicy: Hashable, Sendable, Codable, CustomStringConvertible {
    public var defaultPeriod: RetentionPeriod
    public var overrides: [RetentionOverride]
    public var capacity: CapacityRule?

    public init(default defaultPeriod: RetentionPeriod, overrides: [RetentionOverride] = [], capacity: CapacityRule? = nil) {
        self.defaultPeriod = defaultPeriod
        self.overrides = overrides
        self.capacity = capacity
    }

    public func period(line: Int, direction: RecordingDirection) -> RetentionPeriod {
        var best: RetentionOverride?
        for candidate in overrides where candidate.matches(line: line, direction: direction) {
            if best == nil || candidate.specificity > best!.specificity { best = candidate }
        }
        return best?.period ?? defaultPeriod
    }

    /// When a recording on `line`, `direction`, started at `start`, is due for deletion; nil when
    /// only capacity deletes it.
    public func deadline(line: Int, direction: RecordingDirection, start: Date) -> Date? {
        period(line: line, direction: direction).deadline(from: start)
    }

    /// Anything that makes the policy ambiguous or meaningless, one sentence each; empty when valid.
    public var problems: [String] {
        var problems = ([defaultPeriod] + overrides.map(\.period)).compactMap(\.problem)
        var seen = Set<String>()
        for entry in overrides {
            if entry.line == nil, entry.direction == nil {
                problems.append("an override needs a line, a direction or both (the default applies to everything else)")
            } else if let line = entry.line, line < 1 {
                problems.append("override for line \(line): lines are numbered from 1")
            } else if !seen.insert(entry.scope).inserted {
                problems.append("two overrides for \(entry.scope); the first one would win")
            }
        }
        if let problem = capacity?.problem { problems.append(problem) }
        if capacity == nil, ([defaultPeriod] + overrides.map(\.period)).contains(.untilCapacity) {
            problems.append("'as long as capacity allows' needs a capacity rule (minimum free space), or nothing is ever deleted")
        }
        return problems
    }

    /// One line for the audit log and the console: "default 30 days; line 2 incoming 12 months; capacity: keep 10% free".
    public var description: String {
        var parts = ["default \(defaultPeriod)"]
        parts += overrides.map { "\($0.scope) \($0.period)" }
        if let capacity { parts.append("capacity: \(capacity)") }
        return parts.joined(separator: "; ")
    }
}
