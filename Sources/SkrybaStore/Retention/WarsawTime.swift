import Foundation

/// Times as the office reads them: the Warsaw wall clock with its zone, "2026-12-02 14:05 CET" or
/// "2026-07-01 09:30 CEST". Needs tzdata (/usr/share/zoneinfo/Europe/Warsaw); without it every time
/// is printed in UTC and labelled "UTC" rather than shifted by a guessed offset (docs/documents.md).
/// The one formatter for every date a person reads: documents, the `skryba` CLI, skryba-tools and
/// the console. JSON, CSV and the catalog keep UTC ISO 8601 (UTCTimestamp).
public enum WarsawTime {
    public static let zone: TimeZone? = TimeZone(identifier: "Europe/Warsaw")

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone ?? TimeZone(secondsFromGMT: 0)!
        return calendar
    }()

    /// "CET", "CEST", or "UTC" without tzdata. Computed, not Foundation's abbreviation, which on
    /// Linux may read "GMT+1".
    public static func zoneName(at date: Date) -> String {
        guard let zone else { return "UTC" }
        return zone.isDaylightSavingTime(for: date) ? "CEST" : "CET"
    }

    /// "2026-12-02 14:05 CET".
    public static func minute(_ date: Date) -> String {
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return "\(day(date)) \(pad(parts.hour, 2)):\(pad(parts.minute, 2)) \(zoneName(at: date))"
    }

    /// "2026-12-02 14:05:09 CET".
    public static func second(_ date: Date) -> String {
        let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
        return "\(day(date)) \(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2)) \(zoneName(at: date))"
    }

    /// A stored UTC timestamp ("2026-12-02T13:05:09.000Z") as `second` prints it; "-" for nil, the
    /// text itself if it is not a timestamp.
    public static func second(utc text: String?) -> String {
        guard let text else { return "-" }
        guard let date = UTCTimestamp.date(from: text) ?? (try? Date(text, strategy: .iso8601)) else { return text }
        return second(date)
    }

    /// "2026-12-02": the Warsaw calendar day.
    public static func day(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))"
    }

    /// "1 min 05 s", "12 s": a call's length.
    public static func duration(seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let hours = total / 3600, minutes = total % 3600 / 60, rest = total % 60
        if hours > 0 { return "\(hours) h \(pad(minutes, 2)) min \(pad(rest, 2)) s" }
        if minutes > 0 { return "\(minutes) min \(pad(rest, 2)) s" }
        return "\(rest) s"
    }

    static func pad(_ value: Int?, _ width: Int) -> String {
        let digits = String(value ?? 0)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
