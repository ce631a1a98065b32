import Foundation
import Logging
import SkrybaALSA
import SkrybaCapture
import SkrybaConfig
import SkrybaCore
import SkrybaGPIO
import SkrybaPipeline
import SkrybaStore
import SkrybaSystem

/// The running appliance as the service sees it: live status, the health check behind the
/// watchdog, and configuration changes. Shared by the services skrybad runs (docs/service.md).
public final class ApplianceRuntime: @unchecked Sendable {
    public let appliance: Appliance
    public let logger: Logger
    public let notifier: ServiceNotifier?
    public let startedAt = Date()
    private let space: any FilesystemSpace
    private let lock = NSLock()
    private var configuration: SkrybaConfiguration
    private var stopping = false
    private var ready = false
    private var last: (capture: UInt64, storage: UInt64)?
    /// When the capture and the storage last moved (or had nothing to do).
    private var moved: (capture: Date, storage: Date)?
    /// How long no progress is a stall: a second, or while a lost capture device is being reopened,
    /// the longest back-off and a second (docs/service.md).
    public static let stallSeconds = 1.0
    public static let reopeningStallSeconds = Double(ReopeningPCMSource.longestBackoffNanoseconds) / 1e9 + 1
    private var stalled: String?
    private var lostSeen: [UInt64] = []
    /// Free space at the first check and when: the rate the filesystem fills at since the start.
    private var spaceBaseline: (at: Date, free: Int64)?

    public init(appliance: Appliance, logger: Logger, notifier: ServiceNotifier?, space: any FilesystemSpace = StatvfsSpace()) {
        self.appliance = appliance
        self.logger = logger
        self.notifier = notifier
        self.space = space
        configuration = appliance.configuration
        appliance.retentionMonitor.daysLeft = { [weak self] in self?.daysLeft(at: Date()) }
    }

    public var currentConfiguration: SkrybaConfiguration { lock.withLock { configuration } }

    /// SIGTERM came: the status says so and the watchdog stops expecting the capture to move.
    public func beginStopping() {
        lock.withLock { stopping = true }
        notifier?.send(["STOPPING=1", ServiceNotifier.status("stopping: finishing the calls in progress")])
    }

    // MARK: Health

    /// What one health check found (the watchdog pings only when `healthy`).
    public struct Health: Equatable, Sendable {
        public var healthy: Bool
        public var status: String
    }

    /// One health check, at every watchdog interval: the capture must have moved its sample clock
    /// and the storage thread must have handled a message (or have none waiting) since the last
    /// check; a stuck thread stops the pings, so systemd restarts the daemon. Also raises audio
    /// lost to ring overflows as it happens, ends quiet event alarms and watches the clock.
    @discardableResult
    public func check(at now: Date = Date()) -> Health? {
        let alarms = appliance.recorder.alarms
        alarms.clearQuietEvents(at: now)
        _ = appliance.retentionMonitor.clockTrust(at: now)
        guard let progress = appliance.recorder.progress else { return nil }
        raiseAudioLost(progress)
        watchCaptureDevice()
        let gpioFailure = watchGPIO()
        // Reopening a lost device is progress too: the capture thread is alive and doing its job.
        let captureProgress = progress.capturePosition &+ appliance.recorder.captureHealth.reopenAttempts
        let reopening = appliance.recorder.captureHealth.isGone
        let (health, becameReady, changed) = lock.withLock { () -> (Health, Bool, Bool) in
            var since = moved ?? (now, now)
            if let last {
                if captureProgress != last.capture { since.capture = now }
                if progress.storageHandled != last.storage || progress.storagePending == 0 { since.storage = now }
            }
            last = (captureProgress, progress.storageHandled)
            moved = since
            let captureLimit = reopening ? Self.reopeningStallSeconds : Self.stallSeconds
            var problem: String?
            if !stopping {
                if now.timeIntervalSince(since.capture) >= captureLimit {
                    problem = "the capture is stuck at frame \(progress.capturePosition) (no audio from \(configuration.audio.capture))"
                } else if let gpioFailure {
                    problem = "the GPIO inputs cannot be read (\(gpioFailure)); calls cannot be detected"
                } else if now.timeIntervalSince(since.storage) >= Self.stallSeconds {
                    problem = "the storage service is stuck with \(progress.storagePending) messages waiting (flash or SQLite blocked)"
                }
            }
            let calls = progress.lines.filter { $0.call != nil }.count
            let inForce = alarms.active.count
            let text = problem.map { "not healthy: \($0)" }
                ?? "recording \(progress.lines.count) line\(progress.lines.count == 1 ? "" : "s"), \(calls) call\(calls == 1 ? "" : "s") "
                + "in progress, \(inForce) alarm\(inForce == 1 ? "" : "s")"
            let changed = problem != stalled
            stalled = problem
            let becameReady = !ready
            ready = true
            return (Health(healthy: problem == nil, status: text), becameReady, changed)
        }
        if changed, !becameReady {
            if health.healthy { logger.notice("healthy again: \(health.status)") } else { logger.error("\(health.status); the watchdog is no longer fed") }
        }
        var fields = [ServiceNotifier.status(health.status)]
        if becameReady { fields.insert("READY=1", at: 0) }
        if health.healthy { fields.append("WATCHDOG=1") }
        notifier?.send(fields)
        return health
    }

    /// The capture device gone (the USB audio interface unplugged) is an alarm until it is back.
    private func watchCaptureDevice() {
        let device = appliance.recorder.captureHealth, alarms = appliance.recorder.alarms
        let inForce = alarms.isInForce(.captureDeviceGone)
        let capture = currentConfiguration.audio.capture
        if device.isGone && !inForce {
            alarms.raise(Alarm(kind: .captureDeviceGone, line: 0, frame: appliance.recorder.progress?.capturePosition ?? 0, message:
                "the capture device \(capture) failed (\(alsaErrorText(device.lastErrorCode))): is the USB audio interface connected? It is "
                + "opened again every 2 s at most; recording resumes by itself when it is back, and the outage is a gap in the recordings"))
        } else if !device.isGone && inForce {
            let seconds = Double(device.lostFrames) / Double(currentConfiguration.audio.rate)
            alarms.clear(.captureDeviceGone, reason: String(format: "the capture device is back; recording resumed (%.1f s lost in all)", seconds))
        }
    }

    /// A GPIO reader thread that stopped on an error raises `gpio-failed`; the health check then
    /// stops feeding the watchdog, so systemd restarts the daemon, which opens the chip again.
    private func watchGPIO() -> String? {
        guard let gpio = appliance.recorder.signals as? GPIOLineSignals, let failure = gpio.failure else { return nil }
        let alarms = appliance.recorder.alarms
        if !alarms.isInForce(.gpioFailed) {
            alarms.raise(Alarm(kind: .gpioFailed, line: 0, frame: appliance.recorder.progress?.capturePosition ?? 0, message:
                "the GPIO inputs stopped: \(failure); ringing and hook changes are not seen, so calls are not detected "
                + "(the watchdog restarts skrybad)"))
        }
        return "\(failure)"
    }

    private func raiseAudioLost(_ progress: CallRecorder.Progress) {
        let lines = currentConfiguration.lines
        let rate = currentConfiguration.audio.rate
        let newlyLost: [(Int, RingOverflow)] = lock.withLock {
            if lostSeen.count != progress.ringOverflows.count { lostSeen = Array(repeating: 0, count: progress.ringOverflows.count) }
            var found: [(Int, RingOverflow)] = []
            for (index, overflow) in progress.ringOverflows.enumerated() where overflow.frames > lostSeen[index] {
                lostSeen[index] = overflow.frames
                found.append((index, overflow))
            }
            return found
        }
        for (index, overflow) in newlyLost where index < lines.count {
            let line = lines[index].id
            appliance.recorder.alarms.raise(Alarm(kind: .audioLost, line: line, frame: progress.capturePosition, message:
                String(format: "line %d has lost %.3f s of audio so far (%llu frames in %llu dropped periods): its ring was full because "
                       + "the line worker fell behind the capture", line, Double(overflow.frames) / Double(rate), overflow.frames, overflow.periods)))
        }
    }

    /// Days until the recordings' filesystem is full at the rate it filled since the first check
    /// (nil until it has filled measurably).
    public func daysLeft(at now: Date) -> Double? {
        guard let usage = try? space.usage(of: appliance.configuration.dataDirectory) else { return nil }
        let baseline = lock.withLock {
            if spaceBaseline == nil { spaceBaseline = (now, usage.availableBytes) }
            return spaceBaseline!
        }
        let used = Double(baseline.free - usage.availableBytes), seconds = now.timeIntervalSince(baseline.at)
        guard used > 0, seconds >= 60 else { return nil }
        return Double(usage.availableBytes) / (used / seconds) / 86_400
    }

    // MARK: Status

    public func status(at now: Date = Date()) -> LiveStatus {
        let configuration = currentConfiguration
        let progress = appliance.recorder.progress
        let rate = Double(configuration.audio.rate)
        var lines: [LiveStatus.Line] = []
        var calls: [LiveStatus.Call] = []
        for (index, line) in configuration.lines.enumerated() {
            let live = progress.flatMap { index < $0.lines.count ? $0.lines[index] : nil }
            var call: LiveStatus.Call?
            if let live, let current = live.call {
                call = LiveStatus.Call(line: line.id, direction: current.direction.rawValue,
                                       seconds: Double(live.frame.frames(since: current.startFrame)) / rate)
                calls.append(call!)
            }
            let state = live.map { $0.frame == 0 ? "starting" : ($0.isOffHook ? "off-hook" : "on-hook") } ?? "starting"
            lines.append(LiveStatus.Line(id: line.id, name: line.name, state: state, levelDBFS: ((live?.peakDBFS ?? -96) * 10).rounded() / 10,
                                         call: call))
        }
        let usage = try? space.usage(of: configuration.dataDirectory)
        let trust = appliance.retentionMonitor.clock.trust(at: now)
        let alarms = appliance.recorder.alarms.active.map(LiveStatus.Alarm.init)
        let isStopping = lock.withLock { stopping }
        return LiveStatus(
            version: SkrybaVersion.current, state: isStopping ? "stopping" : (progress == nil ? "starting" : "recording"),
            startedUTC: UTC.string(startedAt), sampleClock: progress?.capturePosition ?? 0, lines: lines, calls: calls, alarms: alarms,
            storage: LiveStatus.Storage(dataDirectory: configuration.dataDirectory, totalBytes: usage?.totalBytes ?? 0,
                                        freeBytes: usage?.availableBytes ?? 0, daysLeft: daysLeft(at: now).map { ($0 * 10).rounded() / 10 },
                                        pending: progress?.storagePending ?? 0),
            clock: LiveStatus.Clock(utc: UTC.string(now), synchronised: trust.isTrusted, reason: trust.reason),
            deviceKeyFingerprint: appliance.deviceKey.fingerprint, alarmCount: alarms.count, callsInProgress: calls.count)
    }

    // MARK: Changes

    /// What a configuration reload did.
    public struct Reload: Codable, Sendable, Equatable {
        /// Applied at once (the calls in progress go on as they are).
        public var applied: [String]
        /// Changed in the file but in force only after a restart of skrybad.
        public var needsRestart: [String]
    }

    /// Reads the configuration file again, validates it as at start-up and applies what can change
    /// while calls are being recorded: line names and the [retention] rules. Nothing else changes
    /// under a running capture; what differs is listed for a restart. Audited (`config-changed`).
    public func reloadConfiguration(actor: String) throws -> Reload {
        let running = currentConfiguration
        let changed = try ConfigurationLoader.load(path: running.path)
        var applied: [String] = [], restart: [String] = []
        if changed.retention != running.retention {
            try appliance.applyRetention(changed)
            applied.append("retention")
        }
        let names = zip(running.lines, changed.lines).filter { $0.id == $1.id && $0.name != $1.name }
        let renamedOnly = running.lines.map { line in
            var line = line
            if let new = changed.line(id: line.id) { line.name = new.name }
            return line
        }
        if !names.isEmpty { applied.append("line names") }
        if renamedOnly != changed.lines { restart.append("lines") }
        if changed.audio != running.audio { restart.append("audio") }
        if changed.gpio != running.gpio { restart.append("gpio") }
        if changed.recipients != running.recipients { restart.append("recipients") }
        if changed.opus != running.opus || changed.flushIntervalMs != running.flushIntervalMs { restart.append("opus") }
        if changed.dataDirectory != running.dataDirectory { restart.append("data_dir") }
        if changed.recorderID != running.recorderID { restart.append("recorder_id") }
        lock.withLock {
            configuration.retention = changed.retention
            configuration.lines = renamedOnly
        }
        try Appliance.auditConfigurationChange(changed, catalog: appliance.catalog, actor: actor)
        let reload = Reload(applied: applied, needsRestart: restart)
        let said = "configuration reloaded by \(actor): \(applied.isEmpty ? "nothing to apply" : "applied " + applied.joined(separator: ", "))"
            + (restart.isEmpty ? "" : "; changed but in force after a restart: " + restart.joined(separator: ", "))
        logger.notice("\(said)")
        return reload
    }

    /// `announcement test N` from the console while skrybad runs: played on an idle line only, and
    /// audited (`announcement-tested`, with the frame it started at) so that a DPO can tell a
    /// technician's test in the playback from an announcement a caller heard.
    public func testAnnouncement(line: Int, actor: String) -> Result<ControlResponse.AnnouncementTest, ControlSocketError> {
        let rate = Double(currentConfiguration.audio.rate)
        switch appliance.recorder.testAnnouncement(line: line) {
        case .playing(let id, let frames, let startFrame, let channel):
            let test = ControlResponse.AnnouncementTest(line: line, announcementID: id, seconds: Double(frames) / rate, startFrame: startFrame, channel: channel)
            do {
                try appliance.catalog.audit.append(.announcementTested, details: ["line": String(line), "announcement_id": id,
                                                                                 "start_frame": String(startFrame), "frames": String(frames)], actor: actor, at: Date())
            } catch {
                logger.error("the announcement test on line \(line) was played but not audited: \(error)")
            }
            logger.notice("announcement test on line \(line) (\(lineName(line))) by \(actor)")
            return .success(test)
        case .noSuchLine:
            return .failure(ControlSocketError("there is no line \(line); the lines are \(currentConfiguration.lines.map { String($0.id) }.joined(separator: ", "))"))
        case .noAnnouncement:
            return .failure(ControlSocketError("line \(line) has no announcement (it records no incoming calls)"))
        case .noPlayback:
            return .failure(ControlSocketError("skrybad has no playback device open (audio.playback is not set)"))
        case .notRunning:
            return .failure(ControlSocketError("the capture is not running yet (or is being reopened); try again in a moment"))
        case .lineBusy:
            return .failure(ControlSocketError("line \(line) is busy (off hook, a call in progress, or its announcement playing): nothing was played"))
        }
    }

    /// What `period` in place of the configured one would do to the catalog now (the console asks
    /// before `set retention` writes the file; on the image only skrybad may open the catalog).
    public func retentionPreview(_ period: RetentionConfiguration.Period, at now: Date = Date()) throws -> ControlResponse.RetentionPreview {
        var retention = currentConfiguration.retention
        retention.period = period
        let plan = try appliance.catalog.retentionPreview(RetentionSetup.policy(retention), at: now)
        return ControlResponse.RetentionPreview(period: period.description, dueNow: plan.dueNow.count, rescheduled: plan.changes.count)
    }

    /// The line's configured name (the journal's call lines).
    public func lineName(_ id: Int) -> String { currentConfiguration.line(id: id)?.name ?? "line \(id)" }
}
