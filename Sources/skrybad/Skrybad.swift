import ArgumentParser
import Dispatch
import Foundation
import SkrybaALSA
import SkrybaCapture
import SkrybaConfig
import SkrybaCore
import SkrybaOpus
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

@main
struct Skrybad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skrybad",
        abstract: "Skryba appliance daemon: detects calls on every tapped line, announces, records them sealed into the catalog.",
        discussion: """
            skrybad --config /etc/skryba/skryba.toml runs the appliance (docs/configuration.md). At start-up it creates the
            device key if needed and runs recovery (skryba fsck); on exit it signs an audit checkpoint and prints a JSON report
            of the calls to standard output. Without an age recipient it refuses to record (exit status 2).

            The capture is paced by what alsa-lib opened (a sound card by the device, a file PCM with no clock of its own by the
            consumer; --pacing overrides), said in one line at start. Audio lost to a full ring or a capture overrun is an
            audio-lost alarm; a run bounded by --stop-at-frame that lost audio exits with status 3.

            When the --config file does not exist (a new appliance), skrybad starts "not configured": it creates the catalog
            and the device key in the data directory (--data-dir, or /var/lib/skryba), says so on standard error, records
            nothing and waits for SIGTERM; write the configuration and restart it (docs/configuration.md).

            Without --config, --capture/--channels/--data-dir/--recipient record every line whole, each as one recording
            (direction "line"): for bring-up and soak tests before the GPIO wiring is done.
            """,
        version: SkrybaVersion.current)

    @Option(help: "The configuration file (TOML).") var config: String?
    @Option(help: "Finish the calls in progress and exit when the sample clock reaches this frame (file PCMs never end by themselves).")
    var stopAtFrame: UInt64?
    @Option(help: "Overrides the pacing chosen from the capture PCM. device: the capture device keeps time and a full ring drops (the board); simulation: wait for the encoders and drop nothing (a file PCM, which has no clock of its own).")
    var pacing: String?
    @Option(help: "Simulation only: deliver a file PCM at this many times real time, 0.01 to 1000 (e.g. 1 for real time).") var speed: Double?
    @Flag(help: "Print a JSON line to stdout after every durable (fsync'ed) record.") var progress = false
    @Flag(help: "Simulations and test benches without a time daemon: trust the system clock unless it reads before 2026 (docs/retention.md).")
    var assumeClockSynchronised = false

    @Option(help: "Whole-line mode: ALSA capture PCM name.") var capture: String?
    @Option(help: "Whole-line mode: interleaved channels the capture device delivers, 1 to 64.") var channels: Int?
    @Option(help: "Whole-line mode: lines to record (line i on channel i-1), 1 to --channels.") var lines: Int?
    @Option(help: "Whole-line mode: sample rate, 8000 or 16000.") var rate: Int = 8000
    @Option(help: "Whole-line mode: data directory (catalog.sqlite, keys/, recordings/).") var dataDir: String?
    @Option(help: "Whole-line mode: age1… recipient to seal to (repeatable; from age-keygen -y).") var recipient: [String] = []
    @Option(help: "Whole-line mode: Opus bitrate in bit/s.") var bitrate: Int = OpusSettings.defaultBitrate
    @Option(help: "Whole-line mode: Opus complexity 0...10.") var complexity: Int = OpusSettings.defaultComplexity
    @Option(help: "Whole-line mode: seal and fsync at least this often, in ms of audio (20...5000, a multiple of 20).")
    var flushIntervalMs: Int = 1000

    func validate() throws {
        if let pacing, pacing != "device" && pacing != "simulation" { throw ValidationError("--pacing is device or simulation, not '\(pacing)'") }
        if config == nil && (capture == nil || channels == nil || dataDir == nil) {
            throw ValidationError("give --config FILE, or for whole-line mode --capture, --channels and --data-dir")
        }
        if let speed, !(speed.isFinite && Self.speedRange.contains(speed)) {
            throw ValidationError("--speed \(speed) must be a number from \(Self.speedRange.lowerBound) to \(Self.speedRange.upperBound) (times real time)")
        }
        let most = LineLayout.maximumChannels
        if let channels, !(1...most).contains(channels) { throw ValidationError("--channels \(channels) must be between 1 and \(most)") }
        if let lines, !(1...(channels ?? most)).contains(lines) {
            throw ValidationError("--lines \(lines) must be between 1 and --channels (\(channels ?? most))")
        }
    }

    /// A file PCM delivered between a hundredth of real time and a thousand times it.
    static let speedRange = 0.01...1000.0

    func run() throws {
        if let refusal = MemoryLock.lockAll() { FileHandle.standardError.write(Data("skrybad: \(refusal)\n".utf8)) }
        if let config {
            if !FileManager.default.fileExists(atPath: config) { return try runNotConfigured(configPath: config) }
            try runAppliance(configPath: config)
        } else { try runWholeLines() }
    }

    /// The pacing for `capture`: from what alsa-lib opened unless `--pacing` says otherwise; printed.
    func choosePacing(capture: String) throws -> CapturePacing {
        let choice = PacingChoice(pcmName: capture, clock: try PCM.clock(name: capture, stream: .capture),
                                  requested: pacing.map { $0 == "device" ? .device : .waitForConsumers })
        FileHandle.standardError.write(Data("skrybad: \(choice)\n".utf8))
        return choice.pacing
    }

    /// Alarms for audio the run dropped (stderr and, for the appliance, the report); a bounded run
    /// (`--stop-at-frame`) that lost audio then exits with status 3.
    func audioLost(ringOverflows: [RingOverflow], lines: [Int], recoveredOverruns: UInt64, periodFrames: Int, rate: Int,
                   at frame: UInt64) -> [Alarm] {
        let lost = Alarm.audioLost(ringOverflows: ringOverflows, lines: lines, recoveredOverruns: recoveredOverruns,
                                   bufferFrames: periodFrames * PCMParameters(rate: rate, channels: 1, periodFrames: periodFrames).periodsPerBuffer,
                                   rate: rate, at: frame)
        for raised in lost { alarm(raised.description) }
        return lost
    }

    func alarm(_ text: String) { FileHandle.standardError.write(Data("skrybad: ALARM: \(text)\n".utf8)) }

    func onSignals(_ stop: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler(handler: stop)
            source.resume()
            return source
        }
    }

    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    func runAppliance(configPath: String) throws {
        let configuration: SkrybaConfiguration
        do { configuration = try ConfigurationLoader.load(path: configPath) } catch {
            FileHandle.standardError.write(Data("skrybad: the configuration has problems:\n\(error)\n".utf8))
            if error.problems.contains(where: { $0.key == "recipients" }) { throw ExitCode(2) }
            throw ExitCode(1)
        }
        var options = Appliance.Options()
        options.stopAtFrame = stopAtFrame
        options.speed = speed
        options.simulation = try choosePacing(capture: configuration.audio.capture) == .waitForConsumers
        if assumeClockSynchronised { options.clock = AssumedSynchronisedClock() }
        let appliance = try Appliance(configuration: configuration, options: options, makeGPIOSignals: GPIOBackend.make(_:anchor:))
        for finding in appliance.recovery.findings { FileHandle.standardError.write(Data("skrybad: recovery: \(finding)\n".utf8)) }
        for item in appliance.startupRetention.deleted { FileHandle.standardError.write(Data("skrybad: retention: deleted \(item.subject): \(item.rule)\n".utf8)) }
        if let status = appliance.startupRetention.untrustedDateStatus { FileHandle.standardError.write(Data("skrybad: retention: \(status)\n".utf8)) }
        for raised in appliance.recorder.alarms.alarms { alarm(raised.description) }  // raised while starting
        appliance.recorder.alarms.onAlarm = { alarm($0.description) }
        // Retention runs at start-up (above) and then every check_every_minutes while recording.
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "skryba.retention"))
        let interval = DispatchTimeInterval.seconds(configuration.retention.checkEveryMinutes * 60)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler {
            do { try appliance.runRetention() } catch { alarm("retention run failed: \(error)") }
        }
        timer.resume()
        defer { timer.cancel() }
        if progress { appliance.recorder.store.onDurable = Self.progressPrinter() }
        let recorder = appliance.recorder
        let sources = onSignals { recorder.requestStop() }
        var report = try recorder.run()
        let lost = audioLost(ringOverflows: report.ringOverflows, lines: configuration.lines.map(\.id), recoveredOverruns: report.recoveredOverruns,
                             periodFrames: configuration.audio.periodFrames, rate: configuration.audio.rate, at: report.framesCaptured)
        report.alarms += lost
        _ = try appliance.catalog.audit.checkpoint(signer: appliance.deviceKey, at: Date())
        withExtendedLifetime(sources) {}
        try printJSON(report)
        if stopAtFrame != nil && !lost.isEmpty { throw ExitCode(3) }
    }

    /// A new appliance has no configuration yet: rather than fail and be restarted every few seconds,
    /// make what needs no configuration (catalog, device key, so IT can pin the key at installation) and idle.
    func runNotConfigured(configPath: String) throws {
        // Block SIGTERM/SIGINT before anything is said: a stop sent as soon as the message is read
        // stays pending for sigwait instead of landing before a handler exists (threads made from
        // here on inherit the mask).
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
        let directory = dataDir ?? SkrybaConfiguration.defaultDataDirectory
        let lock = try DataDirectoryLock.acquire(dataDirectory: directory)
        let catalog = try Catalog(dataDirectory: directory)
        let deviceKey = try DeviceKey.loadOrCreate(dataDirectory: directory, audit: catalog.audit, at: Date())
        FileHandle.standardError.write(Data("""
            skrybad: not configured: \(configPath) does not exist, so nothing is recorded. Write it (the commented template is \
            /usr/share/skryba/skryba.toml.example) and restart skrybad. Device key fingerprint \(deviceKey.fingerprint).

            """.utf8))
        var received: Int32 = 0
        sigwait(&stopSignals, &received)
        withExtendedLifetime((lock, catalog)) {}
    }

    static func progressPrinter() -> (RecordingID, UInt64, UInt64) -> Void {
        let output = FileHandle.standardOutput
        let lock = NSLock()
        return { id, records, position in
            lock.withLock { output.write(Data("{\"durable\":\"\(id)\",\"records\":\(records),\"position\":\(position)}\n".utf8)) }
        }
    }

    func runWholeLines() throws {
        guard let capture, let channels, let dataDir else { return }
        guard (20...5000).contains(flushIntervalMs), flushIntervalMs % 20 == 0 else {
            throw ValidationError("--flush-interval-ms must be a multiple of 20 between 20 and 5000, not \(flushIntervalMs)")
        }
        let recipients = try recipient.map { try AgeRecipient(parsing: $0) }
        guard !recipients.isEmpty else {
            alarm("\(SealedWriterError.noRecipients)")
            throw ExitCode(2)
        }
        let layout = try LineLayout(rate: rate, lines: lines ?? channels, channels: channels)
        let lock = try DataDirectoryLock.acquire(dataDirectory: dataDir)
        let reserve = StorageReserve(dataDirectory: dataDir)
        if reserve.releaseIfFull() { alarm("the filesystem of \(dataDir) is full; the storage reserve was released to start") }
        let catalog = try Catalog(dataDirectory: dataDir)
        let deviceKey = try DeviceKey.loadOrCreate(dataDirectory: dataDir, audit: catalog.audit, at: Date())
        let recovery = try Fsck.run(dataDirectory: dataDir, catalog: catalog, at: Date())
        for finding in recovery.findings { FileHandle.standardError.write(Data("skrybad: recovery: \(finding)\n".utf8)) }

        var configuration = RecorderConfiguration(
            pcmName: capture, layout: layout, periodFrames: layout.samplesPerOpusFrame,
            opus: OpusSettings(bitrate: bitrate, complexity: complexity),
            frameLimit: stopAtFrame, pacing: try choosePacing(capture: capture))
        configuration.packetsPerPage = flushIntervalMs / 20
        if let speed {
            configuration.realTimeSource = true
            configuration.realTimeSpeed = speed
        }
        reserve.restoreIfRoom()
        let store = try CatalogStore(dataDirectory: dataDir, catalog: catalog, recipients: recipients)
        // Recordings on an unsynchronised clock are flagged here too (docs/retention.md, "An untrusted clock").
        let clock: any SystemClockStatus = assumeClockSynchronised ? AssumedSynchronisedClock() : KernelClockStatus()
        let trust = clock.trust(at: Date())
        if !trust.isTrusted { alarm("clock-not-synchronised: \(trust.reason)") }
        store.calls.isClockTrusted = { clock.trust(at: $0).isTrusted }
        catalog.audit.signCheckpoints(with: deviceKey)
        store.calls.onStorageFailure = { error in
            if error.errno == ENOSPC, reserve.release() { alarm("the filesystem of \(dataDir) is full; the storage reserve was released") }
        }
        if progress { store.onDurable = Self.progressPrinter() }
        let recorder = ContinuousRecorder(configuration: configuration, store: store)
        let sources = onSignals { recorder.requestStop() }
        let report = try recorder.run()
        _ = try catalog.audit.checkpoint(signer: deviceKey, at: Date())
        withExtendedLifetime((sources, lock)) {}
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        FileHandle.standardError.write(try encoder.encode(report) + Data("\n".utf8))
        let lost = audioLost(ringOverflows: report.ringOverflows, lines: Array(1...layout.lineCount), recoveredOverruns: report.recoveredOverruns,
                             periodFrames: report.periodFrames, rate: rate, at: report.framesCaptured)
        if !report.lineFailures.isEmpty { throw ExitCode(1) }
        if stopAtFrame != nil && !lost.isEmpty { throw ExitCode(3) }
    }
}
