import ArgumentParser
import Dispatch
import Foundation
import Synchronization
import Logging
import ServiceLifecycle
import SkrybaALSA
import SkrybaCapture
import SkrybaConfig
import SkrybaCore
import SkrybaOpus
import SkrybaPipeline
import SkrybaSeal
import SkrybaService
import SkrybaStore
import SkrybaSystem

@main
struct Skrybad: AsyncParsableCommand {
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

            As a systemd service (Type=notify, docs/service.md) it says READY once the capture runs and feeds the watchdog \
            only while the capture and the storage move; SIGTERM finishes every call in progress (its last record written and \
            the catalog row settled) before it exits. It logs one line per call started and ended and per alarm raised and \
            cleared, with journald priorities when $JOURNAL_STREAM is set. --control-socket serves `skryba status` and \
            `skryba alarms` (docs/control-socket.md).

            When the --config file does not exist (a new appliance), skrybad starts "not configured": it creates the catalog
            and the device key in the data directory (--data-dir, or /var/lib/skryba), says so on standard error, records
            nothing and waits for the file to appear (then exits with status 75, so that systemd starts it again) or for SIGTERM \
            (docs/configuration.md).

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
    @Option(help: "Serve the control socket at this path (the systemd unit gives /run/skryba/control.sock; without it there is none).")
    var controlSocket: String?
    @Option(help: "The group that may use the control socket (mode 0660, owner root).") var adminGroup: String = ControlSocketServer.defaultGroup
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

    func run() async throws {
        LoggingSystem.bootstrap { JournalLogHandler(label: $0) }
        if let refusal = MemoryLock.lockAll() { FileHandle.standardError.write(Data("skrybad: \(refusal)\n".utf8)) }
        if let config {
            if !FileManager.default.fileExists(atPath: config) { return try runNotConfigured(configPath: config) }
            try await runAppliance(configPath: config)
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

    func alarm(_ text: String) { Self.logger.warning("ALARM: \(text)") }

    static let logger = Logger(label: "skrybad")

    /// Whether this process may run a thread at SCHED_FIFO, as the capture thread asks (a thread
    /// started and joined at once): said at start, so a board without the unit's rights is noticed.
    static func logRealtimePriority(_ priority: Int32?) {
        guard let priority else { return }
        let probe = try? JoinableThread(name: "rt-probe", fifoPriority: priority) {}
        probe?.join()
        if probe?.realtimeScheduling == true {
            logger.info("the capture thread runs at real-time priority (SCHED_FIFO \(priority))")
        } else {
            let said = "real-time priority is not permitted (SCHED_FIFO \(priority) refused): the capture thread runs at normal priority "
                + "and may be delayed under load; grant CAP_SYS_NICE or LimitRTPRIO=\(priority) (the systemd unit does)"
            logger.warning("\(said)")
        }
    }

    /// The journal's line for a call: line, its name, direction, duration, recording id (never a
    /// caller number or dialled digits).
    static func callLine(_ event: CallJournalEvent, name: (Int) -> String) -> String {
        func duration(_ ms: Int64) -> String {
            let seconds = Int((Double(ms) / 1000).rounded())
            return seconds >= 60 ? "\(seconds / 60) min \(seconds % 60) s" : "\(seconds) s"
        }
        switch event {
        case .started(let id, let line, let direction):
            return "call started: line \(line) (\(name(line))), \(direction.rawValue), recording \(id)"
        case .ended(let id, let line, let direction, let ms, let complete, let gaps):
            return "call ended: line \(line) (\(name(line))), \(direction.rawValue), \(duration(ms)), recording \(id), "
                + (complete ? "complete" : "interrupted") + (gaps > 0 ? ", \(gaps) gap\(gaps == 1 ? "" : "s") in the audio" : "")
        case .notRecorded(let line, let direction, let ms, let reason):
            return "call not recorded: line \(line) (\(name(line))), \(direction.rawValue), \(duration(ms)): \(reason)"
        }
    }

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

    func runAppliance(configPath: String) async throws {
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
        let logger = Self.logger
        for finding in appliance.recovery.findings { logger.notice("recovery: \(finding)") }
        for item in appliance.startupRetention.deleted { logger.notice("retention: deleted \(item.subject): \(item.rule)") }
        if let status = appliance.startupRetention.untrustedDateStatus { logger.notice("retention: \(status)") }
        Self.logRealtimePriority(appliance.recorder.capture.realtimePriority)

        let runtime = ApplianceRuntime(appliance: appliance, logger: logger, notifier: ServiceNotifier())
        let journal = AlarmJournal(board: appliance.recorder.alarms, audit: appliance.catalog.audit, logger: logger)
        journal.adopt(appliance.recorder.alarms.active)  // raised while starting
        appliance.recorder.store.onCallEvent = { logger.info("\(Self.callLine($0, name: runtime.lineName))") }
        if progress { appliance.recorder.store.onDurable = Self.progressPrinter() }

        // Shut down in reverse order: the control socket and the timers first, the recorder last.
        let recorder = RecorderService(runtime: runtime)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: recorder, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .cancelGroup,
                  serviceName: "recorder"),
            .init(service: HealthService(runtime: runtime), successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "health"),
            .init(service: RetentionService(runtime: runtime), successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "retention"),
        ]
        if let controlSocket {
            do {
                let server = try ControlSocketServer(path: controlSocket, group: adminGroup, responder: runtime)
                services.append(.init(service: ControlSocketService(server: server), successTerminationBehavior: .gracefullyShutdownGroup,
                                      serviceName: "control-socket"))
            } catch { logger.error("no control socket: \(error)") }
        }
        var groupLogger = Logger(label: "skrybad")
        groupLogger.logLevel = .warning
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                                         logger: groupLogger))
        try await group.run()
        guard var report = recorder.report else { throw ExitCode(1) }
        let lost = audioLost(ringOverflows: report.ringOverflows, lines: configuration.lines.map(\.id), recoveredOverruns: report.recoveredOverruns,
                             periodFrames: configuration.audio.periodFrames, rate: configuration.audio.rate, at: report.framesCaptured)
        // The run's summary of lost audio replaces the alarms raised as it happened.
        report.alarms = report.alarms.filter { $0.kind != .audioLost } + lost
        for active in appliance.recorder.alarms.active {
            appliance.recorder.alarms.clear(active.alarm.kind, line: active.alarm.line, reason: "skrybad stopped")
        }
        journal.drain()
        _ = try appliance.catalog.audit.checkpoint(signer: appliance.deviceKey, at: Date())
        logger.info("stopped: \(report.calls.count) call\(report.calls.count == 1 ? "" : "s") recorded in this run, \(report.end)")
        try printJSON(report)
        if stopAtFrame != nil && !lost.isEmpty { throw ExitCode(3) }
    }

    /// A new appliance has no configuration yet: rather than fail and be restarted every few seconds,
    /// make what needs no configuration (catalog, device key, so IT can pin the key at installation) and idle.
    func runNotConfigured(configPath: String) throws {
        // Catch SIGTERM/SIGINT before anything is said: a stop sent as soon as the message is read
        // is then taken by the signal sources, never by the default action. (The async main runs on
        // a pool thread, so a mask here would not cover the process's other threads.)
        let stopped = DispatchSemaphore(value: 0)
        let sources = onSignals { stopped.signal() }
        let directory = dataDir ?? SkrybaConfiguration.defaultDataDirectory
        let lock = try DataDirectoryLock.acquire(dataDirectory: directory)
        let catalog = try Catalog(dataDirectory: directory)
        let deviceKey = try DeviceKey.loadOrCreate(dataDirectory: directory, audit: catalog.audit, at: Date())
        // The console's status, alarms and log work before setup (the device key for IT to pin);
        // bound before the line below says skrybad is up.
        var server: ControlSocketServer?
        if let controlSocket {
            do {
                server = try ControlSocketServer(path: controlSocket, group: adminGroup, responder: NotConfiguredResponder(
                    configPath: configPath, dataDirectory: directory, catalog: catalog, deviceKeyFingerprint: deviceKey.fingerprint, logger: Self.logger))
                server?.start()
            } catch { Self.logger.error("no control socket: \(error)") }
        }
        FileHandle.standardError.write(Data("""
            skrybad: not configured: \(configPath) does not exist, so nothing is recorded. Write it (the commented template is \
            /usr/share/skryba/skryba.toml.example, or the console's setup); once it is there skrybad exits with status 75 to be started again with it. Device key fingerprint \(deviceKey.fingerprint).

            """.utf8))
        // Under systemd (Type=notify) it is up as it is; the watchdog is fed by a timer, as there is no pipeline to watch.
        let notifier = ServiceNotifier()
        notifier?.send(["READY=1", ServiceNotifier.status("not configured: \(configPath) does not exist; nothing is recorded")])
        // Made only when needed: libdispatch traps on releasing a source that was never resumed.
        var watchdog: (any DispatchSourceTimer)?
        if let notifier, let microseconds = notifier.watchdogMicroseconds {
            let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "skryba.watchdog"))
            let interval = DispatchTimeInterval.microseconds(Int(clamping: max(20_000, microseconds / 2)))
            timer.schedule(deadline: .now(), repeating: interval)
            timer.setEventHandler { notifier.send(["WATCHDOG=1"]) }
            timer.resume()
            watchdog = timer
        }
        // The console's first setup writes the file (the technician cannot restart the service):
        // once it is there, exit so that systemd (Restart=on-failure) starts skrybad with it.
        let appeared = Atomic<Bool>(false)
        let configWatch = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "skryba.config-watch"))
        configWatch.schedule(deadline: .now() + .seconds(1), repeating: .seconds(1))
        configWatch.setEventHandler {
            guard FileManager.default.fileExists(atPath: configPath), !appeared.exchange(true, ordering: .relaxed) else { return }
            stopped.signal()
        }
        configWatch.resume()
        stopped.wait()
        configWatch.cancel()
        server?.stop()
        watchdog?.cancel()
        withExtendedLifetime((lock, catalog, sources)) {}
        if appeared.load(ordering: .relaxed) {
            FileHandle.standardError.write(Data("skrybad: \(configPath) has appeared; exiting with status \(Self.configurationAppearedStatus) so that the service starts again with it.\n".utf8))
            throw ExitCode(Self.configurationAppearedStatus)
        }
    }

    /// Not configured, then configured: systemd's Restart=on-failure starts skrybad again (docs/service.md).
    static let configurationAppearedStatus: Int32 = 75

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
