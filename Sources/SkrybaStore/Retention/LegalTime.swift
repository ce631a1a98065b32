import Foundation

/// Calendar arithmetic in the offices' legal time, Europe/Warsaw (CET/CEST). A retention of "1 month"
/// or "30 days", the 14 days to ask for a secured copy and the 4 months a copy is kept are counted
/// as a person in the office counts them: on the Warsaw wall clock, so "1 month from 31 January
/// 10:00" is "28 February 10:00" and a period spanning a DST change keeps its wall-clock time.
/// Stored times stay UTC (docs/storage.md); only the arithmetic happens here. docs/retention.md.
public enum LegalTime {
    public static let timeZoneIdentifier = "Europe/Warsaw"

    public static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        if let zone = TimeZone(identifier: timeZoneIdentifier) {
            calendar.timeZone = zone
        } else {
            // Without tzdata, Warsaw's winter offset: deadlines may be an hour off in summer, never a crash.
            FileHandle.standardError.write(Data("skryba: time zone \(timeZoneIdentifier) is unknown (install tzdata); counting retention in UTC+1\n".utf8))
            calendar.timeZone = TimeZone(secondsFromGMT: 3600)!
        }
        return calendar
    }()

    /// `date` plus `months` calendar months on the Warsaw wall clock. End of month: a day the target
    /// month lacks becomes its last day (31 January + 1 month = 28/29 February; 31 August + 1 month =
    /// 30 September), Foundation's rule. A wall-clock time the target day skips (02:00–03:00 on the
    /// last Sunday of March) moves forward by the gap.
    public static func adding(months: Int, to date: Date) -> Date {
        calendar.date(byAdding: .month, value: months, to: date) ?? date
    }

    /// `date` plus `days` calendar days on the Warsaw wall clock (23, 24 or 25 hours each).
    public static func adding(days: Int, to date: Date) -> Date {
        calendar.date(byAdding: .day, value: days, to: date) ?? date
    }

    /// The first instant of the Warsaw day after `date`'s Warsaw day plus `days` days: the end of a
    /// period "of N days counted from the day of the event", the day of the event itself not counted
    /// (Polish civil code, art. 111 §2).
    public static func endOfDay(days: Int, after date: Date) -> Date {
        let startOfDay = calendar.startOfDay(for: date)
        return calendar.date(byAdding: .day, value: days + 1, to: startOfDay) ?? date
    }
}
