import Foundation
import SkrybaALSA
import SkrybaCore
import SkrybaStore

/// Renders a `Scenario` into files the real daemon runs on: `capture.raw` (interleaved S16_LE, one
/// channel per line), `events.tsv` (the replay backend's ring/hook edges), `announcement.wav`,
/// `asound.conf` (file PCMs for capture and playback), and the frame the run must stop at.
public struct ScenarioRenderer {
    public struct Output: Sendable {
        public var directory: String
        public var captureFile: String
        public var eventsFile: String
        public var announcementFile: String
        public var beepFile: String
        public var alsaConfiguration: String
        public var playbackFile: String
        public var frames: UInt64
        public var announcementFrames: Int
        /// Per call: off-hook and on-hook frames (nil when never answered).
        public var callFrames: [(offHook: UInt64?, onHook: UInt64?)]
    }

    public let scenario: Scenario
    public let directory: String

    public init(scenario: Scenario, directory: String) {
        self.scenario = scenario
        self.directory = directory
    }

    /// The capture stream's size in bytes at most, computed before anything is rendered. Refuses a
    /// scenario whose numbers cannot be rendered (not finite, negative, out of `ScenarioLimits`), that
    /// uses a line id twice, or whose streams (capture, and the playback skrybad writes beside it)
    /// would exceed `ScenarioLimits.maximumCaptureBytes` or the free space of `directory`.
    public func plannedCaptureBytes() throws -> Int {
        guard ScenarioLimits.rates.contains(scenario.rate) else { throw ScenarioError("rate \(scenario.rate) is not a line rate (8000 or 16000)") }
        guard (1...ScenarioLimits.maximumLines).contains(scenario.lines.count) else {
            throw ScenarioError("a scenario has 1 to \(ScenarioLimits.maximumLines) lines, not \(scenario.lines.count)")
        }
        var seen = Set<Int>()
        for line in scenario.lines where !seen.insert(line.id).inserted { throw ScenarioError("line id \(line.id) is used by two lines") }
        func checked(_ value: Double, _ what: String) throws -> Double {
            guard value.isFinite, ScenarioLimits.seconds.contains(value) else {
                throw ScenarioError("\(what) \(value) is outside \(Int(ScenarioLimits.seconds.lowerBound))...\(Int(ScenarioLimits.seconds.upperBound)) seconds")
            }
            return value
        }
        var seconds = 0.0
        for (number, call) in scenario.calls.enumerated() {
            let name = "call \(number + 1):"
            let at = try checked(call.at, "\(name) at"), talk = try checked(call.hangUpAfter, "\(name) hang_up_after")
            // Key presses and dialling are mixed in even past the hang-up: they count too (a key lasts 0.16 s, a dial at most 6 s).
            var last = max(talk, call.dial == nil ? 0 : 7)
            for press in call.presses { last = max(last, try checked(press.after, "\(name) a press after") + 1) }
            guard ScenarioLimits.rings.contains(call.rings) else { throw ScenarioError("\(name) rings \(call.rings) is outside \(ScenarioLimits.rings)") }
            guard (call.dial?.count ?? 1) <= ScenarioLimits.dialLength.upperBound else {
                throw ScenarioError("\(name) the number dialled is longer than \(ScenarioLimits.dialLength.upperBound) keys")
            }
            guard (call.callerID?.utf8.count ?? 1) <= ScenarioLimits.callerIDLength.upperBound else {
                throw ScenarioError("\(name) the caller ID is longer than \(ScenarioLimits.callerIDLength.upperBound) characters")
            }
            // Rings (5 s each), caller ID (at most 3.6 s of DTMF) and the answer, generously; unanswered ringing lasts 10 s.
            // Caller ID before the first ring delays the rings by its length (at most 3.6 s) and half a second.
            let early = call.callerIDBeforeRing && call.callerID != nil ? 4.1 : 0
            seconds = max(seconds, early + (call.direction == .incoming && call.rings == 0 ? at + 10 : at + Double(max(call.rings, 1)) * 5 + 4 + last))
        }
        seconds += try checked(scenario.tailSeconds, "the quiet tail")
        let bytes = seconds * Double(scenario.rate) * Double(scenario.lines.count) * 2
        let limit = ScenarioLimits.maximumCaptureBytes
        guard bytes <= Double(limit) else {
            throw ScenarioError("the scenario would render up to \(Int(bytes) >> 20) MiB of capture audio (\(Int(seconds)) s on \(scenario.lines.count) lines), "
                + "more than the \(limit >> 20) MiB a simulation may use: shorten the calls or use fewer lines")
        }
        // Capture and playback streams, plus room for the recordings and the catalog.
        let needed = Int64(bytes) * 2 + (16 << 20)
        if let free = try? StatvfsSpace().usage(of: directory).availableBytes, free < needed {
            throw ScenarioError("the scenario needs about \(needed >> 20) MiB in \(directory) but only \(free >> 20) MiB are free")
        }
        return Int(bytes)
    }

    public func render() throws -> Output {
        _ = try plannedCaptureBytes()
        let rate = scenario.rate
        func frames(_ seconds: Double) -> Int { Int((seconds * Double(rate)).rounded()) }
        let announcement = try speech(scenario.announcement, voice: "pl", name: "announcement")
        try WAVFile(sampleRate: rate, channels: 1, samples: announcement).write(path: "\(directory)/announcement.wav")
        let beep = SignalSynthesis.tone(frequency: 1000, milliseconds: 400, rate: rate)
        try WAVFile(sampleRate: rate, channels: 1, samples: beep).write(path: "\(directory)/beep.wav")

        let lineIndex = Dictionary(scenario.lines.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        var audio: [[Int16]] = Array(repeating: [], count: scenario.lines.count)
        var edges: [SignalEdge] = []
        var callFrames: [(offHook: UInt64?, onHook: UInt64?)] = []
        var end = 0

        func mix(_ samples: [Int16], into line: Int, at frame: Int, gain: Double = 1) {
            if audio[line].count < frame + samples.count { audio[line] += Array(repeating: 0, count: frame + samples.count - audio[line].count) }
            for (index, sample) in samples.enumerated() {
                let sum = Double(audio[line][frame + index]) + Double(sample) * gain
                audio[line][frame + index] = Int16(max(-32768, min(32767, sum)))
            }
        }

        for (number, call) in scenario.calls.enumerated() {
            guard let index = lineIndex[call.line] else { throw ScenarioError("call \(number + 1) is on line \(call.line), which the scenario does not have") }
            let policy = scenario.lines[index]
            var cursor = frames(call.at)
            var offHook: Int?
            var callerIDEnd = 0
            if call.direction == .incoming {
                let callerIDSignal = call.callerID.map { callerID in
                    call.callerIDFormat == .dtmf
                        ? SignalSynthesis.dtmfCallerID(number: callerID, rate: rate)
                        : SignalSynthesis.fskCallerID(SignalSynthesis.callerIDMessage(number: callerID, dateTime: "11220930",
                                                                                      format: call.callerIDFormat), rate: rate)
                }
                if call.callerIDBeforeRing, let signal = callerIDSignal {
                    mix(signal, into: index, at: cursor)
                    callerIDEnd = cursor + signal.count
                    cursor = callerIDEnd + frames(0.5)
                }
                // Polish cadence: 1 s of ringing, 4 s of silence; CLIP in the first silence (unless sent before).
                for ring in 0..<max(call.rings, 1) {
                    let burst = cursor + ring * frames(5)
                    edges.append(SignalEdge(frame: UInt64(burst), line: call.line, signal: .ring, level: true))
                    edges.append(SignalEdge(frame: UInt64(burst + frames(1)), line: call.line, signal: .ring, level: false))
                    if ring == 0, !call.callerIDBeforeRing, let signal = callerIDSignal {
                        mix(signal, into: index, at: burst + frames(1.5))
                        callerIDEnd = burst + frames(1.5) + signal.count
                    }
                }
                if call.rings > 0 {
                    // Answered half a second after the last ring, and never while caller ID is still being sent.
                    offHook = max(cursor + (call.rings - 1) * frames(5) + frames(1.5), callerIDEnd + frames(0.2))
                } else {
                    end = max(end, cursor + frames(10))
                }
            } else {
                offHook = cursor
            }
            guard let answered = offHook else {
                callFrames.append((nil, nil))
                continue
            }
            cursor = answered
            let onHook = answered + frames(call.hangUpAfter)
            edges.append(SignalEdge(frame: UInt64(answered), line: call.line, signal: .hook, level: true))
            edges.append(SignalEdge(frame: UInt64(onHook), line: call.line, signal: .hook, level: false))
            callFrames.append((UInt64(answered), UInt64(onHook)))

            var speechStart = answered + frames(0.5)
            if call.direction == .incoming, policy.record.contains(.incoming) {
                // The tap hears the announcement the appliance plays into the line.
                mix(Array(announcement.prefix(onHook - answered)), into: index, at: answered, gain: 0.5)
                speechStart = answered + announcement.count + frames(0.5)
            }
            if call.direction == .outgoing, let dial = call.dial {
                let tones = SignalSynthesis.dtmf(dial, rate: rate)
                mix(tones, into: index, at: answered + frames(1))
                speechStart = answered + frames(1) + tones.count + frames(4)
            }
            for press in call.presses {
                mix(SignalSynthesis.dtmf(String(press.key), rate: rate), into: index, at: answered + frames(press.after))
            }
            for (part, text) in call.talk.enumerated() {
                let spoken = try speech(text, voice: call.voice, name: "call\(number + 1)-\(part + 1)")
                let room = onHook - speechStart
                if room > 0 { mix(Array(spoken.prefix(room)), into: index, at: speechStart) }
                speechStart += spoken.count + frames(0.5)
            }
            end = max(end, onHook)
        }
        // Line noise: a real tapped trunk is never digitally silent (a silent channel means a dead tap).
        var generator = SystemRandomNumberGenerator()
        let total = end + frames(scenario.tailSeconds)
        var interleaved = [Int16](repeating: 0, count: total * scenario.lines.count)
        for line in 0..<scenario.lines.count where !scenario.lines[line].deadChannel {
            for frame in 0..<total {
                let sample = frame < audio[line].count ? Int32(audio[line][frame]) : 0
                interleaved[frame * scenario.lines.count + line] = Int16(clamping: sample + Int32(Int.random(in: -24...24, using: &generator)))
            }
        }
        let capture = "\(directory)/capture.raw"
        try interleaved.map(\.littleEndian).withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: capture))

        edges.sort { ($0.frame, $0.line) < ($1.frame, $1.line) }
        var events = "# FRAME\tLINE\tSIGNAL\tLEVEL — rendered from the scenario by skryba simulate\n"
        for edge in edges { events += "\(edge.frame)\t\(edge.line)\t\(edge.signal.rawValue)\t\(edge.level ? 1 : 0)\n" }
        try events.write(toFile: "\(directory)/events.tsv", atomically: true, encoding: .utf8)

        let playback = "\(directory)/playback.raw"
        let alsa = "\(directory)/asound.conf"
        try (FilePCMDefinition.capture(name: "skryba_sim_tap", infile: capture) + FilePCMDefinition.playback(name: "skryba_sim_line_out", outfile: playback))
            .write(toFile: alsa, atomically: true, encoding: .utf8)
        return Output(directory: directory, captureFile: capture, eventsFile: "\(directory)/events.tsv",
                      announcementFile: "\(directory)/announcement.wav", beepFile: "\(directory)/beep.wav", alsaConfiguration: alsa,
                      playbackFile: playback, frames: UInt64(total), announcementFrames: announcement.count, callFrames: callFrames)
    }

    /// espeak-ng, resampled by sox to the line rate.
    func speech(_ text: String, voice: String, name: String) throws -> [Int16] {
        let native = "\(directory)/\(name).native.wav", converted = "\(directory)/\(name).wav"
        try run("espeak-ng", ["-v", voice, "-w", native, text])
        try run("sox", [native, "-r", "\(scenario.rate)", "-c", "1", "-b", "16", converted])
        return try WAVFile.read(path: converted).samples
    }

    func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        do { try process.run() } catch { throw ScenarioError("cannot run \(tool): \(error) (apt-get install espeak-ng sox)") }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ScenarioError("\(tool) failed: \(String(decoding: message, as: UTF8.self))")
        }
    }
}
