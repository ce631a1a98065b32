import Foundation
import Testing
@testable import SkrybaStore

extension RetentionTests {
    /// The policy model and the Warsaw calendar arithmetic, with exact instants.
    @Suite struct PolicyTests {
        @Test func monthsAndDaysAreCountedOnTheWarsawWallClock() {
            // End of month: 31 January + 1 month is the last day of February, same wall-clock time.
            #expect(utcText(RetentionPeriod.months(1).deadline(from: utc("2026-01-31T10:00:00.000Z"))) == "2026-02-28T10:00:00.000Z")
            #expect(utcText(RetentionPeriod.months(1).deadline(from: utc("2028-01-31T10:00:00.000Z"))) == "2028-02-29T10:00:00.000Z")
            #expect(utcText(RetentionPeriod.months(1).deadline(from: utc("2026-08-31T10:00:00.000Z"))) == "2026-09-30T10:00:00.000Z")
            // 12 months from 29 February: 28 February.
            #expect(utcText(RetentionPeriod.months(12).deadline(from: utc("2024-02-29T10:00:00.000Z"))) == "2025-02-28T10:00:00.000Z")
            // Across the spring DST change: 11:00 CET stays 11:00, now CEST (one hour less in UTC).
            #expect(utcText(RetentionPeriod.months(1).deadline(from: utc("2026-03-15T10:00:00.000Z"))) == "2026-04-15T09:00:00.000Z")
            #expect(utcText(RetentionPeriod.days(30).deadline(from: utc("2026-03-15T10:00:00.000Z"))) == "2026-04-14T09:00:00.000Z")
            // And back in autumn: 12:00 CEST + 6 months = 12:00 CET.
            #expect(utcText(RetentionPeriod.months(6).deadline(from: utc("2026-08-31T10:00:00.000Z"))) == "2027-02-28T11:00:00.000Z")
            // A call at 23:30 UTC on 31 January is on 1 February in Warsaw: a month later is 1 March.
            #expect(utcText(RetentionPeriod.months(1).deadline(from: utc("2026-01-31T23:30:00.000Z"))) == "2026-02-28T23:30:00.000Z")
            #expect(RetentionPeriod.untilCapacity.deadline(from: utc("2026-01-31T10:00:00.000Z")) == nil)
            // The 14 days for a secured copy end at midnight Warsaw time, the call's day not counted.
            #expect(utcText(SecuredCopies.requestDeadline(callStart: utc("2026-01-02T10:00:00.000Z"))) == "2026-01-16T23:00:00.000Z")
            // 23:30 on 1 June in Warsaw: the 14th day after it is 15 June, which ends at 16 June 00:00 CEST.
            #expect(utcText(SecuredCopies.requestDeadline(callStart: utc("2026-06-01T21:30:00.000Z"))) == "2026-06-15T22:00:00.000Z")
            #expect(WarsawTime.minute(utc("2026-06-01T21:30:00.000Z")) == "2026-06-01 23:30 CEST")
        }

        @Test func theMostSpecificOverrideWins() {
            let policy = RetentionPolicy(default: .days(30), overrides: [
                RetentionOverride(direction: .outgoing, period: .months(1)),
                RetentionOverride(line: 2, period: .months(6)),
                RetentionOverride(line: 2, direction: .incoming, period: .months(12)),
            ], capacity: CapacityRule(minimumFreePercent: 10))
            #expect(policy.period(line: 1, direction: .incoming) == .days(30))
            #expect(policy.period(line: 1, direction: .outgoing) == .months(1))
            #expect(policy.period(line: 2, direction: .outgoing) == .months(6))
            #expect(policy.period(line: 2, direction: .incoming) == .months(12))
            #expect(policy.period(line: 2, direction: .line) == .months(6))
            #expect(policy.description == "default 30 days; outgoing 1 month; line 2 6 months; line 2 incoming 12 months; capacity: keep 10% free")
            #expect(policy.problems == [])
            #expect(RetentionPeriod.months(1).rule == "retention 1 month")
            #expect(RetentionPeriod.days(30).rule == "retention 30 days")
            #expect(RetentionPeriod.untilCapacity.rule == "as long as capacity allows")
            #expect(CapacityRule(minimumFreePercent: 10, minimumFreeBytes: 1 << 30).requiredFreeBytes(totalBytes: 32 << 30) == 3_435_973_837)
        }

        @Test func ambiguousOrEmptyPoliciesAreNamed() {
            let policy = RetentionPolicy(default: .untilCapacity, overrides: [
                RetentionOverride(line: 3, period: .days(0)),
                RetentionOverride(line: 3, period: .months(1)),
                RetentionOverride(period: .months(1)),
            ])
            #expect(policy.problems == [
                "a retention period must be at least 1 day, not 0",
                "two overrides for line 3; the first one would win",
                "an override needs a line, a direction or both (the default applies to everything else)",
                "'as long as capacity allows' needs a capacity rule (minimum free space), or nothing is ever deleted",
            ])
            #expect(CapacityRule(minimumFreePercent: 120).problem == "the minimum free percentage must be above 0 and below 100, not 120")
        }
    }
}
