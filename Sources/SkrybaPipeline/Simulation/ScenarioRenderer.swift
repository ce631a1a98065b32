import Foundation
import SkrybaALSA
import SkrybaCore

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

    public func render() throws -> Output {
        let rate = scenario.rate
        func frames(_ seconds: Double) -> Int { Int((seconds * Double(rate)).rounded()) }
        let announcement = try speech(scenario.announcement, voice: "pl", name: "announcement")
        try WAVFile(sampleRate: rate, channels: 1, samples: announcement).write(path: "\(directory)/announcement.wav")
        let beep = SignalSynthesis.tone(frequency: 1000, milliseconds: 400, rate: rate)
        try WAVFile(sampleRate: rate, channels: 1, samples: beep).write(path: "\(directory)/beep.wav")

        let lineIndex = Dictionary(uniqueKeysWithValues: scenario.lines.enumerated().map { ($1.id, $0) })
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
                // Polish cadence: 1 s of ringing, 4 s of silence; CLIP in the first silence.
                for ring in 0..<max(call.rings, 1) {
                    let burst = cursor + ring * frames(5)
                    edges.append(SignalEdge(frame: UInt64(burst), line: call.line, signal: .ring, level: true))
                    edges.append(SignalEdge(frame: UInt64(burst + frames(1)), line: call.line, signal: .ring, level: false))
                    if ring == 0, let callerID = call.callerID {
                        let signal = call.callerIDFormat == .dtmf
                            ? SignalSynthesis.dtmfCallerID(number: callerID, rate: rate)
                            : SignalSynthesis.fskCallerID(SignalSynthesis.callerIDMessage(number: callerID, dateTime: "11220930",
                                                                                          format: call.callerIDFormat), rate: rate)
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
