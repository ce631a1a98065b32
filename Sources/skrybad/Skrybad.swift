import ArgumentParser
import Dispatch
import Foundation
import SkrybaCore
import SkrybaOpus
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore

@main
struct Skrybad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skrybad",
        abstract: "Skryba appliance daemon: captures every tapped line and records it, sealed, into the catalog.",
        discussion: """
            Until call detection arrives, every line is recorded whole from start to stop, each as one sealed
            recording (direction "line") in DATA_DIR/recordings/YYYY/MM/DD/<id>.skryba with its catalog row.
            At start-up it creates the device key if needed and runs recovery (skryba fsck); on exit it signs an
            audit checkpoint. Without an age recipient it refuses to record (exit status 2).
            """,
        version: SkrybaVersion.current)

    @Option(help: "ALSA capture PCM name (hw:CARD=…, plughw:…, or a name from asound.conf).") var capture: String
    @Option(help: "Interleaved channels the capture device delivers.") var channels: Int
    @Option(help: "Lines to record (line i on channel i-1).") var lines: Int?
    @Option(help: "Sample rate, 8000 or 16000.") var rate: Int = 8000
    @Option(help: "Data directory: catalog.sqlite, keys/, recordings/.") var dataDir: String
    @Option(help: "age1… recipient to seal to (repeatable; from age-keygen -y).") var recipient: [String] = []
    @Option(help: "Opus bitrate in bit/s.") var bitrate: Int = OpusSettings.defaultBitrate
    @Option(help: "Opus complexity 0...10.") var complexity: Int = OpusSettings.defaultComplexity
    @Option(help: "device: the capture device keeps time and a full ring drops (the board); simulation: a file PCM, wait for the encoders and drop nothing.")
    var pacing: String = "device"
    @Option(help: "Simulation only: deliver a file PCM at this many times real time (e.g. 1 for real time).") var speed: Double?
    @Option(help: "Finish and exit when the sample clock reaches this frame (file PCMs never end by themselves).")
    var stopAtFrame: UInt64?
    @Option(help: "Seal and fsync a record at least this often, in milliseconds of audio (20...5000, a multiple of 20). A power cut loses at most this much.")
    var flushIntervalMs: Int = 1000
    @Flag(help: "Print a JSON line to stdout after every durable (fsync'ed) record.") var progress = false

    func run() throws {
        guard pacing == "device" || pacing == "simulation" else { throw ValidationError("--pacing is device or simulation, not '\(pacing)'") }
        guard (20...5000).contains(flushIntervalMs), flushIntervalMs % 20 == 0 else {
            throw ValidationError("--flush-interval-ms must be a multiple of 20 between 20 and 5000, not \(flushIntervalMs)")
        }
        let recipients = try recipient.map { try AgeRecipient(parsing: $0) }
        guard !recipients.isEmpty else {
            FileHandle.standardError.write(Data("skrybad: ALARM: \(SealedWriterError.noRecipients)\n".utf8))
            throw ExitCode(2)
        }
        let layout = try LineLayout(rate: rate, lines: lines ?? channels, channels: channels)

        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let catalog = try Catalog(dataDirectory: dataDir)
        let deviceKey = try DeviceKey.loadOrCreate(dataDirectory: dataDir, audit: catalog.audit, at: Date())
        let recovery = try Fsck.run(dataDirectory: dataDir, catalog: catalog, at: Date())
        for finding in recovery.findings { FileHandle.standardError.write(Data("skrybad: recovery: \(finding)\n".utf8)) }

        var configuration = RecorderConfiguration(
            pcmName: capture, layout: layout, periodFrames: layout.samplesPerOpusFrame,
            opus: OpusSettings(bitrate: bitrate, complexity: complexity),
            frameLimit: stopAtFrame, pacing: pacing == "device" ? .device : .waitForConsumers)
        configuration.packetsPerPage = flushIntervalMs / 20
        if let speed {
            configuration.realTimeSource = true
            configuration.realTimeSpeed = speed
        }
        let store = try CatalogStore(dataDirectory: dataDir, catalog: catalog, recipients: recipients)
        if progress {
            let output = FileHandle.standardOutput
            let lock = NSLock()
            store.onDurable = { id, records, position in
                lock.withLock { output.write(Data("{\"durable\":\"\(id)\",\"records\":\(records),\"position\":\(position)}\n".utf8)) }
            }
        }
        let recorder = ContinuousRecorder(configuration: configuration, store: store)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler { recorder.requestStop() }
            source.resume()
            sources.append(source)
        }
        let report = try recorder.run()
        _ = try catalog.audit.checkpoint(signer: deviceKey, at: Date())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        FileHandle.standardError.write(try encoder.encode(report) + Data("\n".utf8))
        if !report.lineFailures.isEmpty { throw ExitCode(1) }
    }
}
