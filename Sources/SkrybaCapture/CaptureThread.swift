#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import SkrybaCore

/// The memory the capture path runs on: one ring per line, the channel map and the read buffer.
/// Allocated once before the capture thread starts and freed after it ended.
public final class CaptureRings: @unchecked Sendable {
    public let layout: LineLayout
    public let periodFrames: Int
    public let rings: UnsafeMutableBufferPointer<PeriodRing>
    let lineChannels: UnsafeMutableBufferPointer<Int>
    let buffer: UnsafeMutablePointer<Int16>

    /// - Parameters:
    ///   - slotsPerRing: periods of slack per line (the capture's headroom).
    ///   - heldPerRing: periods the line's consumer keeps after reading them (`LineConsumer.heldPeriods`),
    ///     added to the slack so that holding them costs no headroom; the sum is rounded up to a power of two.
    public init(layout: LineLayout, periodFrames: Int, slotsPerRing: Int, heldPerRing: Int = 0) {
        self.layout = layout
        self.periodFrames = periodFrames
        rings = .allocate(capacity: layout.lineCount)
        for line in 0..<layout.lineCount {
            rings.initializeElement(at: line, to: .allocate(slotCount: slotsPerRing + max(0, heldPerRing), periodFrames: periodFrames))
        }
        lineChannels = .allocate(capacity: layout.lineCount)
        _ = lineChannels.initialize(from: layout.captureChannels)
        buffer = .allocate(capacity: periodFrames * layout.channels)
        buffer.initialize(repeating: 0, count: periodFrames * layout.channels)
    }

    deinit {
        for ring in rings { ring.deallocate() }
        rings.deallocate()
        lineChannels.deallocate()
        buffer.deallocate()
    }

    public func makeLoop<Source: CaptureSource>(source: Source, frameLimit: UInt64?, pacing: CapturePacing,
                                                clockAnchor: SampleClockAnchor? = nil) -> CaptureLoop<Source> {
        precondition(source.channels == layout.channels, "the source delivers \(source.channels) channels, the layout expects \(layout.channels)")
        return CaptureLoop(source: source, rings: UnsafeBufferPointer(rings), lineChannels: UnsafeBufferPointer(lineChannels),
                           buffer: buffer, frameLimit: frameLimit, pacing: pacing, clockAnchor: clockAnchor)
    }

    public var overflows: [RingOverflow] { rings.map(\.overflow) }
}

/// Why the capture thread ended.
public enum CaptureEnd: Equatable, Sendable {
    case reachedFrameLimit
    case stopRequested
    /// The device failed beyond recovery (e.g. -ENODEV: the USB interface was unplugged).
    case deviceFailed(code: Int32)
}

public struct CaptureOutcome: Equatable, Sendable {
    public var end: CaptureEnd
    public var framesCaptured: UInt64
    public var recoveredOverruns: UInt64
    /// Whether the thread got SCHED_FIFO (needs CAP_SYS_NICE or an rtprio limit; the board image grants it).
    public var realtimeScheduling: Bool
}

/// Runs a `CaptureLoop` on a dedicated thread and wakes the line workers after every period.
public final class CaptureThread: @unchecked Sendable {
    /// Posted after every period that reached the rings; one per worker thread.
    public let consumerWakeups: [WakeSignal]
    /// Consumers post this after freeing slots (`.waitForConsumers` pacing waits on it).
    public let spaceAvailable = WakeSignal.make()
    private let control = UnsafeMutablePointer<Atomic<Bool>>.allocate(capacity: 2)  // [stop, finished]
    private let published = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: 1)  // sample clock, for monitors
    private var thread: JoinableThread?
    private var outcome: CaptureOutcome?

    public init(consumers: Int) {
        consumerWakeups = (0..<consumers).map { _ in WakeSignal.make() }
        control.initialize(to: Atomic(false))
        (control + 1).initialize(to: Atomic(false))
        published.initialize(to: Atomic(0))
    }

    deinit {
        for signal in consumerWakeups { signal.destroy() }
        spaceAvailable.destroy()
        control.deinitialize(count: 2)
        control.deallocate()
        published.deinitialize(count: 1)
        published.deallocate()
    }

    /// True once the capture loop ended and every period it read is in the rings.
    public var isFinished: Bool { (control + 1).pointee.load(ordering: .acquiring) }
    /// The sample clock as last published by the capture thread.
    public var position: UInt64 { published.pointee.load(ordering: .relaxed) }

    public func requestStop() { control.pointee.store(true, ordering: .relaxed) }

    /// When the capture thread could not be started (or a worker could not): marks the capture as
    /// ended at frame 0 and wakes the workers, so those already running drain nothing and can be joined.
    public func endWithoutCapture() {
        (control + 1).pointee.store(true, ordering: .releasing)
        for wakeup in consumerWakeups { wakeup.signal() }
    }

    /// Starts the thread. Asks for SCHED_FIFO at `realtimePriority` and falls back to normal
    /// scheduling when the process may not have it (reported in the outcome).
    /// - Throws: `ThreadStartError` when the thread cannot be created (nothing was started).
    public func start<Source: CaptureSource>(_ loop: CaptureLoop<Source>, realtimePriority: Int32? = 70) throws(ThreadStartError) {
        precondition(thread == nil, "start() once")
        let stop = control, finished = control + 1, clock = published
        let wakeups = UnsafeMutableBufferPointer<WakeSignal>.allocate(capacity: consumerWakeups.count)
        _ = wakeups.initialize(from: consumerWakeups)
        let space = spaceAvailable
        do {
            thread = try JoinableThread(name: "capture", fifoPriority: realtimePriority) { [self] in
                var loop = loop
                let end = Self.run(&loop, stop: stop, clock: clock, wakeups: UnsafeBufferPointer(wakeups), space: space)
                clock.pointee.store(loop.position, ordering: .relaxed)
                outcome = CaptureOutcome(end: end, framesCaptured: loop.position,
                                         recoveredOverruns: loop.recoveredOverruns, realtimeScheduling: false)
                finished.pointee.store(true, ordering: .releasing)
                for wakeup in wakeups { wakeup.signal() }
                wakeups.deallocate()
            }
        } catch {
            wakeups.deallocate()
            throw error
        }
    }

    /// Waits for the capture thread to end and returns how it ended.
    public func join() -> CaptureOutcome {
        guard let thread else { preconditionFailure("join() without start()") }
        thread.join()
        self.thread = nil
        var result = outcome!
        result.realtimeScheduling = thread.realtimeScheduling
        return result
    }

    /// The real-time loop. Everything it touches is a local value or a raw pointer.
    private static func run<Source: CaptureSource>(
        _ loop: inout CaptureLoop<Source>, stop: UnsafeMutablePointer<Atomic<Bool>>, clock: UnsafeMutablePointer<Atomic<UInt64>>,
        wakeups: UnsafeBufferPointer<WakeSignal>, space: WakeSignal
    ) -> CaptureEnd {
        while !stop.pointee.load(ordering: .relaxed) {
            switch loop.step() {
            case .captured:
                clock.pointee.store(loop.position, ordering: .relaxed)
                for wakeup in wakeups { wakeup.signal() }
            case .recoveredOverrun, .deviceUnavailable, .resumedAfterOutage:
                continue
            case .waitingForConsumers:
                space.wait(timeoutNanoseconds: 50_000_000)
            case .reachedLimit:
                return .reachedFrameLimit
            case .failed(let code):
                return .deviceFailed(code: code)
            }
        }
        return .stopRequested
    }
}
