import ArgumentParser
import Foundation
import SkrybaService
import SkrybaStore

/// Where `skryba status` and `skryba alarms` reach the running daemon.
struct ControlSocketOption: ParsableArguments {
    @Option(help: "skrybad's control socket (docs/control-socket.md).") var socket: String = ControlClient.defaultPath

    func request(_ command: String) throws -> ControlResponse {
        let response: ControlResponse
        do { response = try ControlClient.request(command, path: socket) } catch { throw CommandFailure("\(error)") }
        guard response.ok else { throw CommandFailure("skrybad refused '\(command)': \(response.error ?? "no reason given")") }
        return response
    }
}

func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "What the running appliance is doing: lines, calls in progress, alarms, storage, clock.",
        discussion: "Asks skrybad over its control socket; --json prints the same as one JSON object (times in UTC).")

    @OptionGroup var control: ControlSocketOption
    @Flag(help: "Print JSON (alarmCount and callsInProgress count what is listed).") var json = false

    func run() throws {
        guard let status = try control.request("status").status else { throw CommandFailure("skrybad answered 'status' without a status") }
        if json { return print(try jsonText(status)) }
        print("Skryba \(status.version): \(status.state) since \(WarsawTime.second(utc: status.startedUTC))")
        print("")
        printTable(["line", "name", "state", "level", "call"], status.lines.map { line in
            [String(line.id), line.name, line.state, String(format: "%.1f dBFS", line.levelDBFS),
             line.call.map { "\($0.direction), \(Self.duration($0.seconds))" } ?? "-"]
        })
        print("")
        print("Calls in progress: \(status.callsInProgress)")
        let storage = status.storage
        let days = storage.daysLeft.map { String(format: ", about %.1f days left at the current rate", $0) } ?? ""
        print("Storage: \(Self.bytes(storage.freeBytes)) free of \(Self.bytes(storage.totalBytes)) in \(storage.dataDirectory)\(days)")
        print("Clock: \(WarsawTime.second(utc: status.clock.utc)), \(status.clock.synchronised ? "synchronised" : "NOT synchronised"): \(status.clock.reason)")
        print("Device key: \(status.deviceKeyFingerprint)")
        print("Alarms: \(status.alarmCount == 0 ? "none" : "\(status.alarmCount)")")
        for alarm in status.alarms { print("  \(alarm.kind) (line \(alarm.line)) since \(WarsawTime.second(utc: alarm.raisedUTC)): \(alarm.message)") }
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds)
        return whole >= 60 ? "\(whole / 60) min \(whole % 60) s" : "\(whole) s"
    }

    static func bytes(_ count: Int64) -> String {
        for (unit, scale) in [("TiB", 0x1p40), ("GiB", 0x1p30), ("MiB", 0x1p20), ("KiB", 0x1p10)] where Double(count) >= scale {
            return String(format: "%.1f", Double(count) / scale) + " " + unit
        }
        return "\(count) bytes"
    }
}

struct AlarmsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alarms",
        abstract: "Alarms in force and their history (raised, cleared), from the running skrybad or, when it is stopped, the audit log.")

    @OptionGroup var control: ControlSocketOption
    @OptionGroup var data: DataDirectoryOption
    @Flag(help: "Print JSON (times in UTC).") var json = false
    @Option(help: "How many history entries to show, newest last.") var last: Int = 20

    func run() throws {
        let alarms: ControlResponse.Alarms
        var fromAudit = false
        if let live = try? ControlClient.request("alarms", path: control.socket), live.ok, let answer = live.alarms {
            alarms = answer
        } else {
            // skrybad is not running: the history is in the audit log; nothing is in force without a daemon.
            let history = AlarmRecord.history(try data.catalog(actor: "skryba alarms", access: .read).audit.entries())
            alarms = ControlResponse.Alarms(active: [], history: Array(history.suffix(100)))
            fromAudit = true
        }
        if json { return print(try jsonText(alarms)) }
        if fromAudit { print("skrybad is not running (no answer on \(control.socket)): the history below is from the audit log.") }
        print(alarms.active.isEmpty ? "No alarm in force." : "In force:")
        if !alarms.active.isEmpty {
            printTable(["since", "alarm", "line", "what"], alarms.active.map {
                [WarsawTime.second(utc: $0.raisedUTC), $0.kind, String($0.line), $0.message]
            })
        }
        print("")
        let history = alarms.history.suffix(max(0, last))
        print(history.isEmpty ? "No alarm in the history." : "History:")
        if !history.isEmpty {
            printTable(["raised", "cleared", "alarm", "line", "what"], history.map {
                [WarsawTime.second(utc: $0.raisedUTC), $0.clearedUTC.map(WarsawTime.second(utc:)) ?? "in force", $0.kind, String($0.line),
                 $0.message + ($0.clearReason.map { " (cleared: \($0))" } ?? "")].map(FreeText.printable)
            })
        }
    }
}

struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the running skrybad read its configuration again (validated first; calls in progress go on).",
        discussion: "Line names and the [retention] rules take effect at once; any other change is listed for a restart.")

    @OptionGroup var control: ControlSocketOption

    func run() throws {
        guard let reload = try control.request("reload").reload else { throw CommandFailure("skrybad answered 'reload' without a result") }
        print(reload.applied.isEmpty ? "Nothing to apply now." : "Applied: \(reload.applied.joined(separator: ", ")).")
        if !reload.needsRestart.isEmpty {
            print("Changed, in force after a restart of skrybad (systemctl restart skrybad): \(reload.needsRestart.joined(separator: ", ")).")
        }
    }
}
