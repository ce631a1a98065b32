import Foundation
import SkrybaPipeline

/// Runs an external program (opusinfo, opusdec, espeak-ng, sox): the checks nobody here wrote.
struct ToolResult {
    var status: Int32
    var output: String
}

enum Tool {
    /// The project's own executables, built beside this test binary.
    static func product(_ name: String) -> String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(name).path
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> ToolResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ToolResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Decodes with opusdec (honours pre-skip and end trimming) to 8 kHz mono samples.
    static func opusdec(_ path: String, rate: Int = 8000) throws -> [Int16] {
        let output = path + ".decoded.wav"
        let result = try run("opusdec", ["--quiet", "--rate", "\(rate)", path, output])
        guard result.status == 0 else { throw ToolFailure("opusdec failed: \(result.output)") }
        let wav = try WAVFile.read(path: output)
        return wav.samples
    }
}

struct ToolFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum Speech {
    /// Speech from espeak-ng, resampled by sox to 8 kHz mono 16-bit.
    static func make(_ text: String, voice: String, directory: String, rate: Int = 8000) throws -> [Int16] {
        let name = "\(directory)/speech-\(abs(text.hashValue))"
        let spoken = try Tool.run("espeak-ng", ["-v", voice, "-w", "\(name).native.wav", text])
        guard spoken.status == 0 else { throw ToolFailure("espeak-ng failed: \(spoken.output)") }
        let converted = try Tool.run("sox", ["\(name).native.wav", "-r", "\(rate)", "-c", "1", "-b", "16", "\(name).wav"])
        guard converted.status == 0 else { throw ToolFailure("sox failed: \(converted.output)") }
        return try WAVFile.read(path: "\(name).wav").samples
    }
}

enum Signal {
    /// Normalised cross-correlation at the best lag within ±maxLag samples.
    static func bestCorrelation(_ a: [Int16], _ b: [Int16], maxLag: Int = 40) -> (correlation: Double, lag: Int) {
        var best = (correlation: -1.0, lag: 0)
        for lag in -maxLag...maxLag {
            var dot = 0.0, energyA = 0.0, energyB = 0.0
            for index in 0..<min(a.count, b.count) {
                let other = index + lag
                guard other >= 0 && other < b.count else { continue }
                let x = Double(a[index]), y = Double(b[other])
                dot += x * y
                energyA += x * x
                energyB += y * y
            }
            let correlation = dot / max(sqrt(energyA * energyB), 1e-9)
            if correlation > best.correlation { best = (correlation, lag) }
        }
        return best
    }

    static func rms(_ samples: ArraySlice<Int16>) -> Double {
        sqrt(samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(samples.count, 1)))
    }
}
