import ArgumentParser
import Dispatch
import Foundation
import SkrybaCore
import SkrybaOpus
import SkrybaPipeline

@main
struct Skrybad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skrybad",
        abstract: "Skryba appliance daemon: captures every tapped line and records it.",
        discussion: """
            Until the configuration file and call logic arrive, skrybad records every line continuously, each to
            OUT/line-NN.opus, from the capture PCM named by --capture, until SIGINT/SIGTERM or --stop-at-frame.
            """,
        version: SkrybaVersion.current)

    @Option(help: "ALSA capture PCM name (hw:CARD=…, plughw:…, or a name from asound.conf).") var capture: String
    @Option(help: "Interleaved channels the capture device delivers.") var channels: Int
    @Option(help: "Lines to record (line i on channel i-1).") var lines: Int?
    @Option(help: "Sample rate, 8000 or 16000.") var rate: Int = 8000
    @Option(help: "Directory for the recordings.") var out: String
    @Option(help: "Opus bitrate in bit/s.") var bitrate: Int = OpusSettings.defaultBitrate
    @Option(help: "Opus complexity 0...10.") var complexity: Int = OpusSettings.defaultComplexity
    @Option(help: "device: the capture device keeps time and a full ring drops (the board); simulation: a file PCM, wait for the encoders and drop nothing.")
    var pacing: String = "device"
    @Option(help: "Finish and exit when the sample clock reaches this frame (file PCMs never end by themselves).")
    var stopAtFrame: UInt64?

    func run() throws {
        guard pacing == "device" || pacing == "simulation" else { throw ValidationError("--pacing is device or simulation, not '\(pacing)'") }
        let layout = try LineLayout(rate: rate, lines: lines ?? channels, channels: channels)
        var configuration = ContinuousRecorder.Configuration(
            pcmName: capture, layout: layout, periodFrames: layout.samplesPerOpusFrame,
            opus: OpusSettings(bitrate: bitrate, complexity: complexity), outputDirectory: out,
            frameLimit: stopAtFrame, pacing: pacing == "device" ? .device : .waitForConsumers)
        configuration.syncOnFlush = true
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let recorder = ContinuousRecorder(configuration: configuration)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler { recorder.requestStop() }
            source.resume()
            sources.append(source)
        }
        let report = try recorder.run()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
        if !report.lineFailures.isEmpty { throw ExitCode(1) }
    }
}
