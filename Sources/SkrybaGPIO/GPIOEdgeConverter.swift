import Synchronization
import SkrybaCore

/// The pure half of the GPIO backend: kernel edges → debounce → sample clock → `SignalEdge`.
/// `GPIOLineSignals` drives it from its reader thread; tests drive it with synthetic edges.
public struct GPIOEdgeConverter: Sendable {
    public struct Input: Equatable, Sendable {
        /// 1-based line id as in the configuration.
        public var line: Int
        public var signal: LineSignal
        public var debounceNanoseconds: UInt64

        public init(line: Int, signal: LineSignal, debounceNanoseconds: UInt64 = 10_000_000) {
            self.line = line
            self.signal = signal
            self.debounceNanoseconds = debounceNanoseconds
        }
    }

    public let inputs: [Input]
    public private(set) var debouncers: [Debouncer]

    /// - Parameter initialLevels: each input's logical level when its edge request was made.
    public init(inputs: [Input], initialLevels: [Bool]) {
        precondition(inputs.count == initialLevels.count)
        self.inputs = inputs
        debouncers = zip(inputs, initialLevels).map { Debouncer(level: $1, debounceNanoseconds: $0.debounceNanoseconds) }
    }

    /// The earliest time a pending change becomes acceptable; wake up then to `settle`.
    public var deadline: UInt64? { debouncers.compactMap(\.deadline).min() }

    /// The edges that tell the call logic, which assumes idle lines, what is already asserted at
    /// start (a line off hook, or ringing): one per asserted input, at `now`.
    public func initialEdges(at now: UInt64, clock: SampleClockMapper) -> [SignalEdge] {
        let frame = clock.map(monotonicNanoseconds: now).frame
        return zip(inputs, debouncers).compactMap { input, debouncer in
            debouncer.level ? SignalEdge(frame: frame, line: input.line, signal: input.signal, level: true) : nil
        }
    }

    /// One raw kernel edge of input `index` (the index into `inputs`).
    public mutating func observe(_ edge: GPIOEdge, input index: Int, clock: SampleClockMapper) -> SignalEdge? {
        debouncers[index].observe(edge).map { signalEdge($0, input: index, clock: clock) }
    }

    /// Accepts every pending change whose level has held until `now`, in timestamp order.
    public mutating func settle(at now: UInt64, clock: SampleClockMapper) -> [SignalEdge] {
        var accepted: [(GPIOEdge, Int)] = []
        for index in debouncers.indices {
            if let edge = debouncers[index].settle(at: now) { accepted.append((edge, index)) }
        }
        return accepted.sorted { ($0.0.timestampNanoseconds, $0.1) < ($1.0.timestampNanoseconds, $1.1) }
            .map { signalEdge($0.0, input: $0.1, clock: clock) }
    }

    private func signalEdge(_ edge: GPIOEdge, input index: Int, clock: SampleClockMapper) -> SignalEdge {
        SignalEdge(frame: clock.map(monotonicNanoseconds: edge.timestampNanoseconds).frame,
                   line: inputs[index].line, signal: inputs[index].signal, level: edge.level)
    }
}

/// Edges waiting for the call logic, handed out in frame order.
///
/// Once `take(before: f)` has run, an edge that arrives later with a frame below `f` (its
/// acceptance came after the consumer had moved past it) cannot go back in time: it is moved to
/// the first frame not yet handed out and counted in `lateEdges`. Ordering and every level change
/// are kept; only its position is late.
public final class SignalEdgeQueue: Sendable {
    private struct State {
        var edges: [(sequence: UInt64, edge: SignalEdge)] = []
        var nextSequence: UInt64 = 0
        var handedOutBefore: UInt64 = 0
        var lateEdges = 0
    }
    private let state = Mutex(State())
    /// Lets the call logic skip `take` while nothing is due (and tells the queue how far it got).
    public let watermarks = EdgeWatermarks()

    public init() {}

    public func append(_ edges: some Sequence<SignalEdge>) {
        state.withLock { state in
            let first = state.edges.count
            for edge in edges {
                state.edges.append((state.nextSequence, edge))
                state.nextSequence += 1
                watermarks.earliestQueued.min(edge.frame, ordering: .sequentiallyConsistent)
            }
            // Read after publishing (see `EdgeWatermarks`): a consumer that passed the frame without
            // taking the lock did so before this read, so the edge is re-dated here, while still locked.
            let handedOut = max(state.handedOutBefore, watermarks.requestedBefore.load(ordering: .sequentiallyConsistent))
            var earliest = UInt64.max
            for index in state.edges.indices {
                if index >= first, state.edges[index].edge.frame < handedOut {
                    state.edges[index].edge.frame = handedOut
                    state.lateEdges += 1
                }
                earliest = min(earliest, state.edges[index].edge.frame)
            }
            watermarks.earliestQueued.store(earliest, ordering: .sequentiallyConsistent)
        }
    }

    /// Removes and returns the edges with `frame < before`, in frame order (ties: arrival order).
    public func take(before frame: UInt64) -> [SignalEdge] {
        state.withLock { state in
            state.handedOutBefore = max(state.handedOutBefore, frame)
            guard state.edges.contains(where: { $0.edge.frame < frame }) else { return [] }
            let due = state.edges.filter { $0.edge.frame < frame }
            state.edges.removeAll { $0.edge.frame < frame }
            watermarks.earliestQueued.store(state.edges.map(\.edge.frame).min() ?? .max, ordering: .sequentiallyConsistent)
            return due.sorted { ($0.edge.frame, $0.sequence) < ($1.edge.frame, $1.sequence) }.map(\.edge)
        }
    }

    /// Edges that arrived after the consumer had passed their frame.
    public var lateEdges: Int { state.withLock { $0.lateEdges } }
}
