import Foundation
import Logging
import SkrybaPipeline
import SkrybaStore
import SkrybaSystem

/// The control socket of a skrybad started without its configuration file (a new appliance): the
/// console's `status`, `alarms` and `log` work before `setup` — the device key's fingerprint for IT
/// to pin, the `not-configured` alarm, the audit log — and everything else says why not.
public final class NotConfiguredResponder: ControlResponder {
    public let logger: Logger
    private let configPath: String
    private let dataDirectory: String
    private let catalog: Catalog
    private let fingerprint: String
    private let startedAt = Date()
    private let clock: any SystemClockStatus

    public init(configPath: String, dataDirectory: String, catalog: Catalog, deviceKeyFingerprint: String, logger: Logger,
                clock: any SystemClockStatus = KernelClockStatus()) {
        self.configPath = configPath
        self.dataDirectory = dataDirectory
        self.catalog = catalog
        fingerprint = deviceKeyFingerprint
        self.logger = logger
        self.clock = clock
    }

    var alarm: LiveStatus.Alarm {
        LiveStatus.Alarm(kind: "not-configured", line: 0, message: "\(configPath) does not exist, so nothing is recorded (the console's setup writes it)",
                         raisedUTC: UTC.string(startedAt), count: 1)
    }

    public func status(at now: Date = Date()) -> LiveStatus {
        let usage = try? StatvfsSpace().usage(of: dataDirectory)
        let trust = clock.trust(at: now)
        return LiveStatus(version: SkrybaVersion.current, state: "not-configured", startedUTC: UTC.string(startedAt), sampleClock: 0,
                          lines: [], calls: [], alarms: [alarm],
                          storage: LiveStatus.Storage(dataDirectory: dataDirectory, totalBytes: usage?.totalBytes ?? 0,
                                                      freeBytes: usage?.availableBytes ?? 0, daysLeft: nil, pending: 0),
                          clock: LiveStatus.Clock(utc: UTC.string(now), synchronised: trust.isTrusted, reason: trust.reason),
                          deviceKeyFingerprint: fingerprint, alarmCount: 1, callsInProgress: 0)
    }

    public func answer(_ request: ControlRequest, actor: String) -> ControlResponse {
        var response = ControlResponse(ok: true)
        switch request.command {
        case "status":
            response.status = status()
        case "alarms":
            return .alarms(active: [alarm], catalog: catalog)
        case "levels":
            response.levels = []
        case "log":
            return .log(request, catalog: catalog)
        case "reload", "announcement-test", "retention-preview":
            return .failure("skrybad is not configured (\(configPath) does not exist): nothing to \(request.command == "reload" ? "reload" : "do") until the console's setup writes it")
        default:
            return .failure("unknown command '\(request.command)'; the commands are \(ApplianceRuntime.commands.joined(separator: ", "))")
        }
        return response
    }
}
