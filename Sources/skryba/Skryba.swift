import ArgumentParser
import Foundation
import SkrybaOpus
import SkrybaPipeline

@main
struct Skryba: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skryba",
        abstract: "Skryba call recorder: administration on the appliance.",
        discussion: "Every subcommand that touches the appliance's state takes --config FILE (default /etc/skryba/skryba.toml).",
        version: SkrybaVersion.current,
        subcommands: [BenchCommand.self, EncodeCommand.self])
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run the real capture → Opus pipeline over a WAV as fast as the CPU allows and print JSON figures.",
        discussion: """
            The input (mono 16-bit WAV) is replicated to N channels and looped to the requested length in an
            alsa-lib `type file` PCM; the capture thread, rings, line workers and encoders run exactly as on the
            appliance. Bare libopus then encodes the same audio with the same settings in the same process, and
            the CPU ratio is reported (--no-baseline skips it).
            """)

    @Option(help: "Mono 16-bit WAV at the line rate.") var input: String
    @Option(help: "Lines (capture channels) to record.") var lines: Int = 8
    @Option(help: "Seconds of audio per line.") var seconds: Double = 10
    @Option(help: "Line sample rate (8000 or 16000); default: the WAV's rate.") var rate: Int?
    @Option(help: "Opus bitrate in bit/s.") var bitrate: Int = OpusSettings.defaultBitrate
    @Option(help: "Opus complexity 0...10.") var complexity: Int = OpusSettings.defaultComplexity
    @Option(help: "Keep the .opus files in this directory (default: a temporary one, removed).") var out: String?
    @Flag(help: "Skip the bare-libopus baseline (to time the pipeline from outside).") var noBaseline = false
    @Option(help: "max: as fast as possible, nothing dropped; realtime: the file PCM delivers at the sample rate and full rings drop, as on a device.")
    var pace: String = "max"
    @Option(help: "Run each side this many times and keep the fastest.") var repeats: Int = 1

    func run() throws {
        guard pace == "max" || pace == "realtime" else { throw ValidationError("--pace is max or realtime, not '\(pace)'") }
        var options = Bench.Options(input: input, lines: lines, seconds: seconds)
        options.rate = rate
        options.opus = OpusSettings(bitrate: bitrate, complexity: complexity)
        options.outputDirectory = out
        options.baseline = !noBaseline
        options.realTime = pace == "realtime"
        options.repeats = repeats
        let report = try Bench.run(options)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode a mono 16-bit WAV (8 or 16 kHz) to Ogg Opus with the appliance's line encoder.")

    @Option(help: "Input WAV.") var input: String
    @Option(help: "Output .opus file.") var output: String
    @Option(help: "Opus bitrate in bit/s.") var bitrate: Int = OpusSettings.defaultBitrate
    @Option(help: "Opus complexity 0...10.") var complexity: Int = OpusSettings.defaultComplexity

    func run() throws {
        let result = try EncodeFile.run(input: input, output: output, settings: OpusSettings(bitrate: bitrate, complexity: complexity))
        print("\(output): \(result.bytes) bytes for \(String(format: "%.2f", result.seconds)) s of audio")
    }
}
