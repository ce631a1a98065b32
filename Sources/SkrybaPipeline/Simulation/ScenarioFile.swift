import Foundation
import SkrybaConfig
import SkrybaCore

/// Scenario files (TOML), for `skryba simulate FILE`; `docs/simulation.md` has the format and an example.
extension Scenario {
    public static func load(path: String) throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else { throw ScenarioError("\(path): cannot read the scenario") }
        let root = try TOMLParser.parse(String(decoding: data, as: UTF8.self), name: path)
        var problems: [String] = []
        func problem(_ value: TOMLValue?, _ key: String, _ message: String) {
            problems.append("\(path):\(value.map { "\($0.line)" } ?? "?"): \(key): \(message)")
        }
        func string(_ table: TOMLTable, _ key: String, _ context: String, required: Bool = true) -> String? {
            guard let value = table[key] else { if required { problem(nil, context + key, "missing") }; return nil }
            guard let text = value.string else { problem(value, context + key, "must be a string, found \(value.typeDescription)"); return nil }
            return text
        }
        func number(_ table: TOMLTable, _ key: String, _ context: String, required: Bool = true) -> Double? {
            guard let value = table[key] else { if required { problem(nil, context + key, "missing") }; return nil }
            if let integer = value.integer { return Double(integer) }
            if let float = value.float { return float }
            problem(value, context + key, "must be a number, found \(value.typeDescription)")
            return nil
        }
        func directions(_ value: TOMLValue?, _ key: String) -> Set<CallDirection>? {
            guard let value else { return nil }
            let parsed = value.array?.compactMap { $0.string.flatMap(CallDirection.init(rawValue:)) }
            guard let parsed, parsed.count == value.array?.count else {
                problem(value, key, "must be a list of \"incoming\"/\"outgoing\"")
                return nil
            }
            return Set(parsed)
        }

        var scenario = Scenario(announcement: string(root, "announcement", "") ?? "", lines: [], calls: [])
        if let rate = number(root, "rate", "", required: false) { scenario.rate = Int(rate) }
        for (index, value) in (root["lines"]?.array ?? []).enumerated() {
            let context = "lines[\(index + 1)]."
            guard let table = value.table else { problem(value, "lines", "must be [[lines]] tables"); continue }
            let id = number(table, "id", context).map(Int.init) ?? 0
            var line = Scenario.Line(id: id, name: string(table, "name", context) ?? "Line \(id)")
            line.record = directions(table["record"], context + "record") ?? line.record
            line.consent = string(table, "consent", context, required: false) ?? "continue"
            line.optOutKey = string(table, "opt_out_key", context, required: false)?.first
            line.outgoingBeep = table["outgoing_beep"]?.boolean ?? false
            scenario.lines.append(line)
        }
        for (index, value) in (root["calls"]?.array ?? []).enumerated() {
            let context = "calls[\(index + 1)]."
            guard let table = value.table else { problem(value, "calls", "must be [[calls]] tables"); continue }
            let directionText = string(table, "direction", context) ?? "incoming"
            guard let direction = CallDirection(rawValue: directionText) else {
                problem(table["direction"], context + "direction", "'\(directionText)' is neither incoming nor outgoing")
                continue
            }
            var call = Scenario.Call(line: number(table, "line", context).map(Int.init) ?? 0, direction: direction,
                                     at: number(table, "at", context) ?? 0, hangUpAfter: number(table, "hang_up_after", context) ?? 0)
            call.rings = number(table, "rings", context, required: false).map(Int.init) ?? 2
            call.callerID = string(table, "caller_id", context, required: false)
            if let format = string(table, "caller_id_format", context, required: false) {
                guard let parsed = SignalSynthesis.CallerIDFormat(rawValue: format) else {
                    problem(table["caller_id_format"], context + "caller_id_format", "'\(format)' is not fsk-mdmf, fsk-sdmf or dtmf")
                    continue
                }
                call.callerIDFormat = parsed
            }
            call.dial = string(table, "dial", context, required: false)
            call.talk = table["talk"]?.array?.compactMap(\.string) ?? []
            call.voice = string(table, "voice", context, required: false) ?? "pl"
            for press in table["presses"]?.array ?? [] {
                guard let entry = press.table, let key = entry["key"]?.string?.first, let after = number(entry, "after", context + "presses.") else {
                    problem(press, context + "presses", "each press is { key = \"9\", after = 3.0 }")
                    continue
                }
                call.presses.append((key, after))
            }
            scenario.calls.append(call)
        }
        if scenario.lines.isEmpty { problems.append("\(path): no [[lines]]") }
        let ids = Set(scenario.lines.map(\.id))
        for (index, call) in scenario.calls.enumerated() where !ids.contains(call.line) {
            problems.append("\(path): calls[\(index + 1)].line: line \(call.line) is not among the [[lines]]")
        }
        guard problems.isEmpty else { throw ScenarioError(problems.joined(separator: "\n")) }
        return scenario
    }
}
