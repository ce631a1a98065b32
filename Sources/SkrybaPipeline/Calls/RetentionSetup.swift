import Foundation
import SkrybaConfig
import SkrybaCore
import SkrybaStore

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

    public static func engine(_ configuration: SkrybaConfiguration, catalog: Catalog, signer: DeviceKey, actor: String? = nil) -> RetentionEngine {
        RetentionEngine(catalog: catalog, dataDirectory: configuration.dataDirectory, policy: policy(configuration.retention), signer: signer,
                        actor: actor)
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
