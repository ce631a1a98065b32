import Testing
import SkrybaConfig
import SkrybaCore

@Suite struct RetentionConfigurationTests {
    static let base = ConfigKeys.minimalHead

    func line(_ id: Int, _ extra: String = "") -> String {
        """

        [[lines]]
        id = \(id)
        name = "Linia \(id)"
        capture_channel = \(id - 1)
        record = ["outgoing"]
        \(extra)
        """
    }

    @Test func periodsResolveFromTheMostSpecificKey() throws {
        let fixture = try ConfigFixture("retention")
        try fixture.write("", to: "events.tsv")
        let configuration = try fixture.load(Self.base + """
            [retention]
            period = "6m"
            incoming = "12m"
            keep_free = "2GiB"
            check_every_minutes = 15
            """ + line(1, "retention = \"30d\"") + line(2, "retention_outgoing = \"capacity\""))
        let retention = configuration.retention
        #expect(retention.period(line: 1, direction: .incoming) == .days(30))
        #expect(retention.period(line: 2, direction: .outgoing) == .untilCapacity)
        #expect(retention.period(line: 2, direction: .incoming) == .months(12))
        #expect(retention.period(line: 3, direction: .outgoing) == .months(6))
        #expect(retention.keepFreeBytes == 2 << 30 && retention.keepFreePercent == nil)
        #expect(retention.checkEveryMinutes == 15)
    }

    @Test func defaultsAreThirtyDaysAndTenPercentFree() throws {
        let fixture = try ConfigFixture("retention-defaults")
        try fixture.write("", to: "events.tsv")
        let retention = try fixture.load(Self.base + line(1)).retention
        #expect(retention.period(line: 1, direction: .incoming) == .days(30))
        #expect(retention.keepFreePercent == 10 && retention.keepFreeBytes == nil && retention.checkEveryMinutes == 60)
    }

    @Test func badRetentionValuesAreNamedWithTheirLines() throws {
        let fixture = try ConfigFixture("retention-bad")
        try fixture.write("", to: "events.tsv")
        #expect(fixture.problems(Self.base + """
            [retention]
            period = "30 days"
            keep_free = "lots"
            check_every_minutes = 0
            """ + line(1, "retention_incoming = \"13w\"")) == [
            "DIR/skryba.toml:9: retention.period: \"30 days\" is not a retention period (\"30d\" days, \"6m\" calendar months, or \"capacity\")",
            "DIR/skryba.toml:10: retention.keep_free: \"lots\" is not a free-space rule (a percentage from 1% to 90%, or an amount like \"2GiB\" or \"500MiB\")",
            "DIR/skryba.toml:11: retention.check_every_minutes: 0 must be between 1 and 1440",
            "DIR/skryba.toml:17: lines[1].retention_incoming: \"13w\" is not a retention period (\"30d\" days, \"6m\" calendar months, or \"capacity\")",
        ])
    }

    /// Issue 8 items 6 and 16: impossible free-space rules are refused at validation, with file and line.
    @Test func impossibleKeepFreeValuesAreRefusedWithTheirLines() throws {
        let fixture = try ConfigFixture("retention-keep-free")
        try fixture.write("", to: "events.tsv")
        func problems(_ value: String) -> [String] {
            fixture.problems(Self.base + "[retention]\nkeep_free = \"\(value)\"\n" + line(1))
        }
        #expect(problems("8589934592GiB") == [
            "DIR/skryba.toml:9: retention.keep_free: \"8589934592GiB\" is more than any filesystem the appliance can have (at most 1024TiB); give the space to keep free, like \"2GiB\" or \"10%\"",
        ])
        #expect(problems("0%") == [
            "DIR/skryba.toml:9: retention.keep_free: \"0%\" would keep no space free: give 1% to 90% of the recordings' filesystem (10% is the default)",
        ])
        #expect(problems("0GiB") == [
            "DIR/skryba.toml:9: retention.keep_free: \"0GiB\" would keep no space free: give an amount above 0, like \"2GiB\", or a percentage",
        ])
        #expect(problems("95%") == [
            "DIR/skryba.toml:9: retention.keep_free: \"95%\" is more than 90% of the recordings' filesystem: almost nothing could be recorded; give 1% to 90%",
        ])
        for bad in ["nan%", "inf%", "-1GiB", "1e400GiB", "infGiB"] { #expect(problems(bad).count == 1, "\(bad)") }
        #expect(try fixture.load(Self.base + "[retention]\nkeep_free = \"1.5GiB\"\n" + line(1)).retention.keepFreeBytes == 3 << 29)
        #expect(try fixture.load(Self.base + "[retention]\nkeep_free = \"1%\"\n" + line(1)).retention.keepFreePercent == 1)
    }
}
