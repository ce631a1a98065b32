import Crypto
import Dispatch
import Foundation
import SkrybaConfig
import SkrybaCore
import SkrybaStore
import SkrybaSystem

/// Builds the call-recording appliance from its configuration: catalog, device key, recovery,
/// announcements, the ring/hook backend, one `CallLineSetup` per line.
public struct Appliance {
    public let configuration: SkrybaConfiguration
    public let catalog: Catalog
    public let deviceKey: DeviceKey
    public let recovery: FsckReport
    public let recorder: CallRecorder
    /// The retention engine in force (a configuration reload swaps it between runs, never during one).
    public var retention: RetentionEngine { retentionInForce.engine }
    private let retentionInForce: RetentionInForce
    private let clock: any SystemClockStatus
    /// The retention run at start-up (after recovery).
    public let startupRetention: RetentionReport
    /// Clock and storage alarms from retention and new calls.
    public let retentionMonitor: RetentionMonitor
    /// This process owns the data directory while the appliance lives (a second daemon or fsck is refused).
    public let lock: DataDirectoryLock
    public let reserve: StorageReserve

    public struct Options: Sendable {
        public var stopAtFrame: UInt64?
        /// Simulation: a file PCM delivered at this many times real time; nil = as the device delivers.
        public var speed: Double?
        public var simulation = false
        public var limits: (@Sendable (Int) -> LineHealthLimits)?
        /// Replay backend only: pretend edges become known this many frames late, like debounced GPIO.
        public var replayDecisionDelayFrames: UInt64 = 0
        /// Look PCM names up in this asound.conf only (tests); nil = alsa-lib's global configuration.
        public var alsaConfigurationFile: String?
        /// How much each line may queue for storage; nil = sized from the lines and the bitrate.
        public var storageBuffering: StorageBuffering?
        /// Periods of slack per line ring (tests shrink it to cause ring overflows under device pacing).
        public var ringSlots: Int?
        /// Whether the system clock is synchronised (docs/retention.md, "An untrusted clock").
        public var clock: any SystemClockStatus = KernelClockStatus()
        public init() {}
    }

    /// Where the capture thread publishes stream timestamps for the GPIO backend. Lives as long as
    /// the process: the GPIO reader thread may read it until the end.
    public let clockAnchor = SampleClockAnchor.allocate()

    public init(configuration: SkrybaConfiguration, options: Options,
                makeGPIOSignals: ((SkrybaConfiguration, SampleClockAnchor) throws -> any LineSignalSource)? = nil) throws {
        self.configuration = configuration
        let rate = configuration.audio.rate
        lock = try DataDirectoryLock.acquire(dataDirectory: configuration.dataDirectory)
        reserve = StorageReserve(dataDirectory: configuration.dataDirectory)
        // A 100 % full disk: give the catalog, recovery and retention the reserve's room.
        let releasedAtStart = reserve.releaseIfFull()
        catalog = try Catalog(dataDirectory: configuration.dataDirectory)
        deviceKey = try DeviceKey.loadOrCreate(dataDirectory: configuration.dataDirectory, audit: catalog.audit, at: Date())
        catalog.audit.signCheckpoints(with: deviceKey)
        try Self.auditConfigurationChange(configuration, catalog: catalog)
        recovery = try Fsck.run(dataDirectory: configuration.dataDirectory, catalog: catalog, signer: deviceKey, at: Date())
        try RetentionSetup.checkFilesystem(configuration)
        clock = options.clock
        retentionInForce = RetentionInForce(RetentionSetup.engine(configuration, catalog: catalog, signer: deviceKey, clock: options.clock))
        startupRetention = try retentionInForce.engine.run(at: Date())
        reserve.restoreIfRoom()

        let signals: any LineSignalSource
        switch configuration.gpio.backend {
        case .replay(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw ScenarioError("\(path): cannot read the replay file ([gpio] replay)") }
            let replay = try ReplayLineSignals.parse(String(decoding: data, as: UTF8.self), name: path, lines: Set(configuration.lines.map(\.id)))
            replay.decisionDelay = options.replayDecisionDelayFrames
            signals = replay
        case .gpiod:
            guard let makeGPIOSignals else { throw ScenarioError("the gpiod backend is not available in this build") }
            signals = try makeGPIOSignals(configuration, clockAnchor)
        }

        var capture = RecorderConfiguration(pcmName: configuration.audio.capture, layout: try configuration.lineLayout(),
                                            periodFrames: configuration.audio.periodFrames, opus: configuration.opus,
                                            frameLimit: options.stopAtFrame, pacing: options.simulation ? .waitForConsumers : .device)
        capture.packetsPerPage = configuration.packetsPerFlush
        capture.recorderID = configuration.recorderID
        capture.alsaConfigurationFile = options.alsaConfigurationFile
        capture.clockAnchor = clockAnchor
        if let slots = options.ringSlots { capture.slotsPerRing = slots }
        if let speed = options.speed {
            capture.realTimeSource = true
            capture.realTimeSpeed = speed
        }
        let setups = try configuration.lines.map { line in
            let announcement = try line.announcement.map { try Self.clip($0, id: line.announcementID) }
            let notice = try line.outgoingNotice.map { try Self.clip($0, id: nil) }
            let policy = LinePolicy(record: line.record, consent: line.consentMode(rate: rate),
                                    announcementFrames: announcement.map { UInt64($0.samples.count) },
                                    outgoingNoticeFrames: notice.map { UInt64($0.samples.count) },
                                    outgoingNoticeAfterDialPauseFrames: UInt64(3 * rate))
            return CallLineSetup(line: line.id, name: line.name, playbackChannel: line.playbackChannel, rate: rate, opus: configuration.opus,
                                 packetsPerPage: configuration.packetsPerFlush, policy: policy, announcement: announcement,
                                 outgoingNotice: notice, recorderID: configuration.recorderID,
                                 limits: options.limits?(rate) ?? .standard(rate: rate))
        }
        let store = try CallStore(dataDirectory: configuration.dataDirectory, catalog: catalog, recipients: configuration.recipients)
        recorder = CallRecorder(capture: capture, lines: setups, playbackPCM: configuration.audio.playback,
                                playbackChannels: configuration.audio.playbackChannels, store: store, signals: signals,
                                storageBuffering: options.storageBuffering ?? .sized(lines: setups.count, bitrate: configuration.opus.bitrate,
                                                                                      flushIntervalMs: configuration.packetsPerFlush * 20))
        let retention = retentionInForce, alarms = recorder.alarms, reserve = reserve
        let monitor = RetentionMonitor(alarms: alarms, clock: options.clock)
        retentionMonitor = monitor
        let bitrate = configuration.opus.bitrate
        store.beforeOpen = {
            // Room for what a call really needs (docs/retention.md, "Room for the next call") before its file is created.
            let engine = retention.engine
            if let room = try? engine.roomForNextCall(bitrate: bitrate), let report = try? engine.makeRoom(bytesNeeded: room, at: Date()) {
                monitor.observe(report)
            }
        }
        store.isClockTrusted = { monitor.clockTrust(at: $0).isTrusted }
        let maintenance = DispatchQueue(label: "skryba.storage-full")
        store.onStorageFailure = { error in
            guard error.errno == ENOSPC, reserve.release() else { return }
            alarms.raise(Alarm(kind: .storageFull, line: 0, frame: 0, message: Self.diskFullMessage(reserve, during: "while recording")))
            // Off the line worker: deleting can take longer than a ring's slack.
            maintenance.async {
                if let report = try? retention.engine.makeRoom(bytesNeeded: reserve.size, at: Date()) { monitor.observe(report) }
                reserve.restoreIfRoom()
            }
        }
        if releasedAtStart {
            alarms.raise(Alarm(kind: .storageFull, line: 0, frame: 0, message: Self.diskFullMessage(reserve, during: "at start-up")))
        }
        monitor.observe(startupRetention)
    }

    static func diskFullMessage(_ reserve: StorageReserve, during moment: String) -> String {
        "the filesystem of \(reserve.dataDirectory) was full \(moment); the storage reserve (\(reserve.size >> 20) MiB, \(StorageReserve.fileName)) "
            + "was released so the catalog can close calls and retention can make room; it is made again once there is room"
    }

    /// A reloaded configuration's [retention] rules, in force from the next retention run or call
    /// (calls in progress are untouched); checked against the filesystem first.
    public func applyRetention(_ changed: SkrybaConfiguration) throws {
        try RetentionSetup.checkFilesystem(changed)
        retentionInForce.replace(RetentionSetup.engine(changed, catalog: catalog, signer: deviceKey, clock: clock))
    }

    /// Runs retention now (the daemon's timer); raises the storage alarm when nothing may be deleted.
    @discardableResult
    public func runRetention() throws -> RetentionReport {
        let report = try retentionInForce.engine.run(at: Date())
        retentionMonitor.observe(report)
        reserve.restoreIfRoom()
        return report
    }

    /// A `config-changed` audit entry when the configuration file is not the one the appliance last
    /// ran with: its SHA-256 and what a DPO cares about (recipients, retention, recorded directions).
    public static func auditConfigurationChange(_ configuration: SkrybaConfiguration, catalog: Catalog, actor: String? = nil) throws {
        guard let data = FileManager.default.contents(atPath: configuration.path) else { return }
        let hash = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let last = try catalog.audit.entries().last { $0.kind == AuditKind.configChanged.rawValue }
        guard last.map({ !$0.details.contains(hash) }) ?? true else { return }
        let lines = configuration.lines.map { line in
            "\(line.id):\(CallDirection.allCases.filter(line.record.contains).map(\.rawValue).joined(separator: "+"))"
        }
        try catalog.audit.append(.configChanged, subject: configuration.path, details: [
            "sha256": hash, "recipients": configuration.recipients.map(\.description).joined(separator: ","),
            "retention": configuration.retention.period.description, "recorded": lines.joined(separator: " "),
        ], actor: actor, at: Date())
    }

    /// A WAV as an announcement: its id (given, or the file name) and the SHA-256 of the file.
    static func clip(_ path: String, id: String?) throws -> AnnouncementPlayer.Clip {
        guard let data = FileManager.default.contents(atPath: path) else { throw ScenarioError("\(path): cannot read the announcement") }
        let wav = try WAVFile.parse([UInt8](data), path: path)
        return AnnouncementPlayer.Clip(id: id ?? (path as NSString).lastPathComponent,
                                       sha256: SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined(), samples: wav.samples)
    }
}

/// The retention engine the appliance uses, swapped whole by a configuration reload.
final class RetentionInForce: @unchecked Sendable {
    private let lock = NSLock()
    private var current: RetentionEngine

    init(_ engine: RetentionEngine) { current = engine }

    var engine: RetentionEngine { lock.withLock { current } }
    func replace(_ engine: RetentionEngine) { lock.withLock { current = engine } }
}
