import Foundation
import SkrybaConfig
import SkrybaCore
import SkrybaSeal

/// `skryba simulate`: renders a scenario, writes the appliance configuration for it, runs the real
/// `skrybad` on real alsa-lib file PCMs and the replay backend, and returns what it recorded.
public enum Simulator {
    public struct Result: Sendable {
        public var rendered: ScenarioRenderer.Output
        public var configurationFile: String
        public var dataDirectory: String
        public var report: CallRunReport
        /// skrybad's standard output (the JSON report) and standard error, as the journal would get them.
        public var reportText: String
        public var daemonLog: String
    }

    /// The configuration the appliance would have for this scenario (docs/configuration.md).
    public static func configuration(for scenario: Scenario, recipients: [AgeRecipient], dataDirectory: String) -> String {
        var text = """
            # Written by skryba simulate for a simulated office.
            data_dir = "\(dataDirectory)"
            recipients = [\(recipients.map { "\"\($0)\"" }.joined(separator: ", "))]
            recorder_id = "simulated-office"
            flush_interval_ms = 1000

            [audio]
            capture = "skryba_sim_tap"
            playback = "skryba_sim_line_out"
            rate = \(scenario.rate)
            channels = \(scenario.lines.count)

            [gpio]
            backend = "replay"
            replay = "events.tsv"

            """
        for (index, line) in scenario.lines.enumerated() {
            text += """

                [[lines]]
                id = \(line.id)
                name = \(TOMLFormat.quoted(line.name))
                capture_channel = \(index)
                playback_channel = \(index)
                record = [\(CallDirection.allCases.filter(line.record.contains).map { "\"\($0.rawValue)\"" }.joined(separator: ", "))]
                announcement = "announcement.wav"
                announcement_id = "ogolny-2026-11"
                consent = "\(line.consent)"

                """
            if let key = line.optOutKey { text += "opt_out_key = \"\(key)\"\n" }
            if line.outgoingBeep { text += "outgoing_notice = \"beep.wav\"\n" }
        }
        return text
    }

    public static func run(_ scenario: Scenario, directory: String, recipients: [AgeRecipient], skrybad: String) throws -> Result {
        let rendered = try ScenarioRenderer(scenario: scenario, directory: directory).render()
        let dataDirectory = "\(directory)/data"
        let configurationFile = "\(directory)/skryba.toml"
        try configuration(for: scenario, recipients: recipients, dataDirectory: dataDirectory)
            .write(toFile: configurationFile, atomically: true, encoding: .utf8)

        let daemon = try runDaemon(skrybad, configurationFile: configurationFile, rendered: rendered, arguments: ["--pacing", "simulation"])
        guard daemon.status == 0 else { throw ScenarioError("skrybad failed (exit \(daemon.status)):\n\(daemon.log)") }
        let report = try JSONDecoder().decode(CallRunReport.self, from: daemon.report)
        return Result(rendered: rendered, configurationFile: configurationFile, dataDirectory: dataDirectory, report: report,
                      reportText: String(decoding: daemon.report, as: UTF8.self), daemonLog: daemon.log)
    }

    /// `skrybad --config` over a rendered office, bounded at its last frame: exit status, the JSON
    /// report (stdout) and the log (stderr). The clock is assumed synchronised: the simulated office's
    /// dates are the machine's, whatever its time daemon says.
    public static func runDaemon(_ skrybad: String, configurationFile: String, rendered: ScenarioRenderer.Output,
                                 arguments: [String] = []) throws -> (status: Int32, report: Data, log: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: skrybad)
        process.arguments = ["--config", configurationFile, "--stop-at-frame", "\(rendered.frames)", "--assume-clock-synchronised"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["ALSA_CONFIG_PATH"] = rendered.alsaConfiguration
        process.environment = environment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let logData = errors.fileHandleForReading.readDataToEndOfFile()
        let reportData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, reportData, String(decoding: logData, as: UTF8.self))
    }
}
