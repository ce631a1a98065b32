import Foundation
import Logging
import ServiceLifecycle
import SkrybaPipeline

/// The capture, the line workers, GPIO and storage: `CallRecorder.run` on a thread of its own (it
/// starts the real-time capture thread, one worker per core and the storage thread). Graceful
/// shutdown asks the capture to stop at the next period; every call in progress then ends there,
/// its final record is written and fsync'ed and its catalog row settled before `run` returns.
public final class RecorderService: Service, @unchecked Sendable {
    private let runtime: ApplianceRuntime
    private let lock = NSLock()
    private var result: Result<CallRunReport, any Error>?

    public init(runtime: ApplianceRuntime) { self.runtime = runtime }

    /// The run's report once `run` returned (nil if it failed).
    public var report: CallRunReport? { lock.withLock { try? result?.get() } }

    public func run() async throws {
        let recorder = runtime.appliance.recorder
        let runtime = runtime
        let outcome: Result<CallRunReport, any Error> = await withGracefulShutdownHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    continuation.resume(returning: Result { try recorder.run() })
                }
                thread.name = "recorder"
                thread.start()
            }
        } onGracefulShutdown: {
            runtime.beginStopping()
            recorder.requestStop()
        }
        lock.withLock { result = outcome }
        _ = try outcome.get()
    }
}

/// The health check behind systemd's watchdog, at half the watchdog interval (or every second
/// without one): READY once the capture runs, then WATCHDOG=1 only while the pipeline moves.
public struct HealthService: Service {
    let runtime: ApplianceRuntime

    public init(runtime: ApplianceRuntime) { self.runtime = runtime }

    /// Half `WATCHDOG_USEC`, as sd_watchdog_enabled(3) advises, at least 20 ms; 1 s without a watchdog.
    public var interval: Duration {
        guard let microseconds = runtime.notifier?.watchdogMicroseconds else { return .seconds(1) }
        return .microseconds(max(20_000, Int64(clamping: microseconds / 2)))
    }

    public func run() async throws {
        let interval = interval
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            runtime.check()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        runtime.beginStopping()
    }
}

/// Retention every `check_every_minutes` while recording (it also runs at start-up and before each call).
public struct RetentionService: Service {
    let runtime: ApplianceRuntime

    public init(runtime: ApplianceRuntime) { self.runtime = runtime }

    public func run() async throws {
        let minutes = runtime.currentConfiguration.retention.checkEveryMinutes
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: .seconds(minutes * 60)) })) != nil else { return }
            do { try runtime.appliance.runRetention() } catch {
                runtime.logger.error("the retention run failed: \(error)")
            }
        }
    }
}

/// The control socket for as long as the daemon runs; removed at shutdown.
public struct ControlSocketService: Service {
    let server: ControlSocketServer

    public init(server: ControlSocketServer) { self.server = server }

    public func run() async throws {
        server.start()
        try? await gracefulShutdown()
        server.stop()
    }
}
