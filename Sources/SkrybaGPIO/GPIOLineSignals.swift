#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SkrybaCore

/// Where one supervision signal of a line is wired: a chip, an offset, its electrical settings.
public struct GPIOInputWiring: Equatable, Sendable {
    /// `gpiochip0`, `/dev/gpiochip0`, the chip's label or its number (as `gpiod_chip_open_lookup`).
    public var chip: String
    public var offset: Int
    public var settings: GPIOInputSettings
    public var debounceNanoseconds: UInt64

    public init(chip: String, offset: Int, settings: GPIOInputSettings = GPIOInputSettings(),
                debounceNanoseconds: UInt64 = 10_000_000) {
        self.chip = chip
        self.offset = offset
        self.settings = settings
        self.debounceNanoseconds = debounceNanoseconds
    }
}

/// A tapped line's ring-detect and loop-current (hook) inputs.
public struct GPIOLineWiring: Equatable, Sendable {
    /// 1-based line id as in the configuration.
    public var line: Int
    /// The line's name, for error messages ("Księgowość").
    public var name: String
    public var ring: GPIOInputWiring
    public var hook: GPIOInputWiring

    public init(line: Int, name: String, ring: GPIOInputWiring, hook: GPIOInputWiring) {
        self.line = line
        self.name = name
        self.ring = ring
        self.hook = hook
    }
}

/// Ring and hook from the board's GPIO inputs (libgpiod 1.6, character device), on the sample clock.
///
/// One reader thread polls every input's event fd, reads the kernel's edge timestamps
/// (CLOCK_MONOTONIC), debounces them and maps them to frames with the capture stream's published
/// anchors (`GPIOEdgeConverter`), then queues them for `takeEdges(before:)`.
///
/// An edge is known only once its level has held for the debounce (plus `settleMargin`), so the
/// call logic should ask for edges at least `decisionDelayNanoseconds` behind the audio it has
/// reached; an edge accepted after its frame was handed out is delivered at the next frame instead
/// (`lateEdges`).
public final class GPIOLineSignals: LineSignalSource {
    /// Settling looks this far into the past, so an edge the kernel timestamped but has not queued
    /// yet (interrupt to queue takes microseconds) cannot be missed by the debounce decision.
    public static let settleMargin: UInt64 = 2_000_000
    /// The longest poll(2) wait: how promptly `close()` is noticed.
    static let maximumWait: UInt64 = 50_000_000

    public let decisionDelayNanoseconds: UInt64
    private let queue = SignalEdgeQueue()
    private let control: ReaderControl
    private let thread = Mutex<pthread_t?>(nil)

    /// Opens every line's inputs, reads their levels and starts the reader thread.
    /// - Parameters:
    ///   - anchor: where the capture thread publishes the stream's timestamps; must stay allocated
    ///     until `close()` returns.
    ///   - sampleRate: the capture stream's nominal rate.
    public init(lines: [GPIOLineWiring], anchor: SampleClockAnchor, sampleRate: Int) throws(GPIOError) {
        var chips: [String: GPIOChip] = [:]
        var streams: [GPIOEdgeStream] = []
        var inputs: [GPIOEdgeConverter.Input] = []
        var levels: [Bool] = []
        var targets: [String] = []
        for line in lines {
            for (signal, wiring) in [(LineSignal.ring, line.ring), (.hook, line.hook)] {
                let target = "line \(line.line) (\(line.name)) \(signal.rawValue) input \(wiring.chip) line \(wiring.offset)"
                do throws(GPIOError) {
                    let chip: GPIOChip
                    if let opened = chips[wiring.chip] { chip = opened } else { chip = try GPIOChip(name: wiring.chip) }
                    chips[wiring.chip] = chip
                    // Request first, then read: a change in between shows in both, and the
                    // debouncer ignores an edge to the level it already has.
                    let stream = try chip.requestEdges(offset: wiring.offset, consumer: "skryba line \(line.line) \(signal.rawValue)",
                                                       settings: wiring.settings)
                    levels.append(try stream.level())
                    streams.append(stream)
                } catch {
                    throw GPIOError(function: error.function, target: target, errno: error.errno)
                }
                inputs.append(.init(line: line.line, signal: signal, debounceNanoseconds: wiring.debounceNanoseconds))
                targets.append(target)
            }
        }
        var mapper = SampleClockMapper(nominalRate: sampleRate)
        if let published = anchor.read() { mapper.add(published) }
        let converter = GPIOEdgeConverter(inputs: inputs, initialLevels: levels)
        queue.append(converter.initialEdges(at: monotonicNanoseconds(), clock: mapper))
        decisionDelayNanoseconds = (inputs.map(\.debounceNanoseconds).max() ?? 0) + Self.settleMargin
        control = ReaderControl()
        let reader = GPIOReader(streams: streams, targets: targets, converter: converter, mapper: mapper, anchor: anchor,
                                queue: queue, control: control)
        let started = try startThread { reader.run() }
        thread.withLock { $0 = started }
    }

    deinit { close() }

    public func takeEdges(before frame: UInt64) -> [SignalEdge] { queue.take(before: frame) }

    public var watermarks: EdgeWatermarks? { queue.watermarks }

    public func decisionDelayFrames(rate: Int) -> UInt64 { (decisionDelayNanoseconds * UInt64(rate) + 999_999_999) / 1_000_000_000 }

    /// Stops the reader thread (within `maximumWait`) and releases the lines. Idempotent.
    public func close() {
        control.stopping.store(true, ordering: .releasing)
        if let running = thread.withLock({ state in defer { state = nil }; return state }) { pthread_join(running, nil) }
    }

    /// The error that stopped the reader thread (an input vanished, poll failed); nil while running.
    public var failure: GPIOError? { control.failure.withLock { $0 } }
    /// Edges accepted after the consumer had passed their frame (see `SignalEdgeQueue`).
    public var lateEdges: Int { queue.lateEdges }
}

final class ReaderControl: Sendable {
    let stopping = Atomic<Bool>(false)
    let failure = Mutex<GPIOError?>(nil)
}

/// Everything the reader thread touches; after `start` only that thread uses it.
final class GPIOReader: @unchecked Sendable {
    let streams: [GPIOEdgeStream]
    /// What errors call each input ("line 2 (Księgowość) ring input gpiochip0 line 17").
    let targets: [String]
    var converter: GPIOEdgeConverter
    var mapper: SampleClockMapper
    let anchor: SampleClockAnchor
    let queue: SignalEdgeQueue
    let control: ReaderControl

    init(streams: [GPIOEdgeStream], targets: [String], converter: GPIOEdgeConverter, mapper: SampleClockMapper, anchor: SampleClockAnchor,
         queue: SignalEdgeQueue, control: ReaderControl) {
        self.streams = streams
        self.targets = targets
        self.converter = converter
        self.mapper = mapper
        self.anchor = anchor
        self.queue = queue
        self.control = control
    }

    func run() {
        var fds = streams.map { pollfd(fd: $0.fileDescriptor, events: Int16(POLLIN), revents: 0) }
        do throws(GPIOError) {
            while !control.stopping.load(ordering: .acquiring) {
                var wait = GPIOLineSignals.maximumWait
                if let deadline = converter.deadline {
                    let due = deadline &+ GPIOLineSignals.settleMargin
                    let now = monotonicNanoseconds()
                    wait = min(wait, due > now ? due - now : 0)
                }
                let ready = poll(&fds, nfds_t(fds.count), Int32((wait + 999_999) / 1_000_000))
                if ready < 0 {
                    if errno == EINTR { continue }
                    throw GPIOError(function: "poll", target: "the GPIO inputs", errno: errno)
                }
                // Each wake-up samples the capture's latest anchor: the mapping is then at most one
                // period (plus this wait) behind the stream.
                if let published = anchor.read() { mapper.add(published) }
                var edges: [SignalEdge] = []
                for index in fds.indices where fds[index].revents != 0 {
                    guard fds[index].revents & Int16(POLLIN) != 0 else {
                        throw GPIOError(function: "poll", target: targets[index], errno: EIO)
                    }
                    do throws(GPIOError) {
                        while let edge = try streams[index].nextEdge(timeoutNanoseconds: 0) {
                            if let accepted = converter.observe(edge, input: index, clock: mapper) { edges.append(accepted) }
                        }
                    } catch {
                        throw GPIOError(function: error.function, target: targets[index], errno: error.errno)
                    }
                }
                edges += converter.settle(at: monotonicNanoseconds() &- GPIOLineSignals.settleMargin, clock: mapper)
                if !edges.isEmpty { queue.append(edges) }
            }
        } catch {
            control.failure.withLock { $0 = error }
        }
    }
}

func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// A plain pthread: SkrybaGPIO cannot use SkrybaCapture's `JoinableThread`, and the reader needs
/// no more than start and join.
private func startThread(_ body: @escaping () -> Void) throws(GPIOError) -> pthread_t {
    final class Body { let run: () -> Void; init(_ run: @escaping () -> Void) { self.run = run } }
    let context = Unmanaged.passRetained(Body(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { context in
        Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    guard status == 0 else {
        Unmanaged<Body>.fromOpaque(context).release()
        throw GPIOError(function: "pthread_create", target: "the GPIO reader thread", errno: status)
    }
    return thread
}
