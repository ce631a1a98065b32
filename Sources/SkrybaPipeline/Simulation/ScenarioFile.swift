import Foundation
import SkrybaConfig
import SkrybaCore
import SkrybaStore

/// Scenario files (TOML), for `skryba simulate FILE`; `docs/simulation.md` has the format and an example.
/// Every value is checked against `ScenarioLimits` here, with its file and line, before anything is rendered.
extension Scenario {
    public static func load(path: String) throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else { throw ScenarioError("\(path): cannot read the scenario") }
        guard data.count <= 4 << 20 else { throw ScenarioError("\(path): the scenario is larger than 4 MiB; is it the right file?") }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses scenario text as if it were the file at `path` (messages name `path`).
    public static func parse(_ text: String, path: String) throws -> Scenario {
        let root = try TOMLParser.parse(text, name: path)
        var problems: [String] = []
        func problem(_ value: TOMLValue?, _ key: String, _ message: String) {
            problems.append("\(path):\(value.map { "\($0.line)" } ?? "?"): \(key): \(message)")
        }
        func string(_ table: TOMLTable, _ key: String, _ context: String, required: Bool = true) -> String? {
            guard let value = table[key] else { if required { problem(nil, context + key, "missing") }; return nil }
            guard let text = value.string else { problem(value, context + key, "must be a string, found \(value.typeDescription)"); return nil }
            return text
        }
        /// Seconds: a finite number within `ScenarioLimits.seconds`.
        func seconds(_ table: TOMLTable, _ key: String, _ context: String, required: Bool = true) -> Double? {
            guard let value = table[key] else { if required { problem(nil, context + key, "missing") }; return nil }
            // Spelled out: `value.integer.map(Double.init) ?? value.float` crashes the 6.3 optimiser
            // (an ownership-verifier failure in CopyPropagation) and so the release build.
            let number: Double
            if let whole = value.integer { number = Double(whole) } else if let real = value.float { number = real } else {
                problem(value, context + key, "must be a number of seconds, found \(value.typeDescription)")
                return nil
            }
            let range = ScenarioLimits.seconds
            guard number.isFinite, range.contains(number) else {
                problem(value, context + key, "\(value.literal) is outside \(Int(range.lowerBound))...\(Int(range.upperBound)) seconds")
                return nil
            }
            return number
        }
        func integer(_ table: TOMLTable, _ key: String, _ context: String, in range: ClosedRange<Int>, required: Bool = true) -> Int? {
            guard let value = table[key] else { if required { problem(nil, context + key, "missing") }; return nil }
            guard let number = value.integer else { problem(value, context + key, "must be a whole number, found \(value.typeDescription)"); return nil }
            guard range.contains(number) else { problem(value, context + key, "\(number) is outside \(range.lowerBound)...\(range.upperBound)"); return nil }
            return number
        }
        func keys(_ table: TOMLTable, _ key: String, _ context: String, length: ClosedRange<Int>, allowed: Set<Character>, what: String) -> String? {
            guard let text = string(table, key, context, required: false) else { return nil }
            guard length.contains(text.count), text.allSatisfy(allowed.contains) else {
                problem(table[key], context + key, "\(TOMLFormat.quoted(text)) is not \(what) (\(length.lowerBound) to \(length.upperBound) of \(String(allowed.sorted())))")
                return nil
            }
            return text
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
        if let value = root["rate"] {
            if let rate = value.integer, ScenarioLimits.rates.contains(rate) { scenario.rate = rate } else {
                problem(value, "rate", "\(value.literal) is not a line rate (8000 or 16000)")
            }
        }
        // Range and finiteness are the renderer's checks (ScenarioRenderer.plannedCaptureBytes).
        if let value = root["tail_seconds"] {
            if let whole = value.integer { scenario.tailSeconds = Double(whole) } else if let real = value.float { scenario.tailSeconds = real } else {
                problem(value, "tail_seconds", "must be a number of seconds, found \(value.typeDescription)")
            }
        }
        let lines = root["lines"]?.array ?? []
        if lines.count > ScenarioLimits.maximumLines {
            problem(root["lines"], "lines", "\(lines.count) [[lines]]: a scenario has at most \(ScenarioLimits.maximumLines)")
        }
        var firstUse: [Int: Int] = [:]
        for (index, value) in lines.prefix(ScenarioLimits.maximumLines).enumerated() {
            let context = "lines[\(index + 1)]."
            guard let table = value.table else { problem(value, "lines", "must be [[lines]] tables"); continue }
            let id = integer(table, "id", context, in: ScenarioLimits.lineIDs) ?? 0
            if id != 0, let first = firstUse[id] {
                problem(table["id"], context + "id", "\(id) is already the id of lines[\(first)]")
            } else if id != 0 {
                firstUse[id] = index + 1
            }
            var line = Scenario.Line(id: id, name: string(table, "name", context) ?? "Line \(id)")
            if let problemText = FreeText.problem(line.name, field: "the name") { problem(table["name"], context + "name", problemText) }
            line.record = directions(table["record"], context + "record") ?? line.record
            line.consent = string(table, "consent", context, required: false) ?? "continue"
            if line.consent != "continue" && line.consent != "opt-out-key" {
                problem(table["consent"], context + "consent", "\(TOMLFormat.quoted(line.consent)) is neither \"continue\" nor \"opt-out-key\"")
            }
            line.optOutKey = keys(table, "opt_out_key", context, length: 1...1, allowed: ScenarioLimits.telephoneKeys, what: "a telephone key")?.first
            if line.consent == "opt-out-key", line.optOutKey == nil, table["opt_out_key"] == nil {
                problem(table["consent"], context + "opt_out_key", "required with consent = \"opt-out-key\"")
            }
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
            var call = Scenario.Call(line: integer(table, "line", context, in: ScenarioLimits.lineIDs) ?? 0, direction: direction,
                                     at: seconds(table, "at", context) ?? 0, hangUpAfter: seconds(table, "hang_up_after", context) ?? 0)
            call.rings = integer(table, "rings", context, in: ScenarioLimits.rings, required: false) ?? 2
            call.callerID = keys(table, "caller_id", context, length: ScenarioLimits.callerIDLength, allowed: Set("0123456789+"), what: "a caller number")
            if let format = string(table, "caller_id_format", context, required: false) {
                guard let parsed = SignalSynthesis.CallerIDFormat(rawValue: format) else {
                    problem(table["caller_id_format"], context + "caller_id_format", "'\(format)' is not fsk-mdmf, fsk-sdmf or dtmf")
                    continue
                }
                call.callerIDFormat = parsed
            }
            call.callerIDBeforeRing = table["caller_id_before_ring"]?.boolean ?? false
            call.dial = keys(table, "dial", context, length: ScenarioLimits.dialLength, allowed: ScenarioLimits.telephoneKeys, what: "a number to dial")
            call.talk = table["talk"]?.array?.compactMap(\.string) ?? []
            call.voice = keys(table, "voice", context, length: 1...40, allowed: Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_+"),
                              what: "an espeak-ng voice") ?? "pl"
            for press in table["presses"]?.array ?? [] {
                guard let entry = press.table, let key = entry["key"]?.string, key.count == 1, let character = key.first,
                      ScenarioLimits.telephoneKeys.contains(character), let after = seconds(entry, "after", context + "presses.") else {
                    problem(press, context + "presses", "each press is { key = \"9\", after = 3.0 } (a telephone key, seconds after off-hook)")
                    continue
                }
                call.presses.append((character, after))
            }
            scenario.calls.append(call)
        }
        if scenario.lines.isEmpty { problems.append("\(path): no [[lines]]") }
        let ids = Set(scenario.lines.map(\.id))
        for (index, call) in scenario.calls.enumerated() where call.line != 0 && !ids.contains(call.line) {
            problems.append("\(path): calls[\(index + 1)].line: line \(call.line) is not among the [[lines]]")
        }
        guard problems.isEmpty else { throw ScenarioError(problems.joined(separator: "\n")) }
        return scenario
    }
}
