import Foundation
import Synchronization
import SkrybaCore

/// Shares one `LineSignalSource` among the line workers: each asks for its own line's edges up to
/// the frame its audio has reached; edges for other lines wait in their queues.
///
/// Asked 50 times a second per line, and almost always with nothing due: that answer costs two
/// atomic loads and one atomic max when the source has `watermarks` — no lock, no call through the
/// protocol, nothing allocated. Only when an edge may be due does a worker take the lock.
public final class SignalDispatcher: @unchecked Sendable {
    private let source: any LineSignalSource
    private let sourceMarks: EdgeWatermarks?
    private let lock = NSLock()
    private var queues: [Int: [SignalEdge]] = [:]
    /// The earliest edge waiting in `queues` for any line (`UInt64.max` when none); written under `lock`.
    private let earliestQueued = Atomic<UInt64>(.max)

    public init(source: any LineSignalSource) {
        self.source = source
        sourceMarks = source.watermarks
    }

    public func decisionDelayFrames(rate: Int) -> UInt64 { source.decisionDelayFrames(rate: rate) }

    /// The edges of `line` with `frame < before`, in frame order.
    public func edges(line: Int, before frame: UInt64) -> [SignalEdge] {
        // The source's mark first, then ours: a worker that sees the source drained also sees the 0 stored
        // below before the drain (or the queues' real minimum after it), never the stale value of before.
        if let sourceMarks, !sourceMarks.mayHaveEdges(before: frame), earliestQueued.load(ordering: .sequentiallyConsistent) >= frame { return [] }
        return lock.withLock {
            // While edges move from the source into `queues`, the other workers must take the lock: without
            // this, one that asked in between saw neither the source's edge nor the queued one, and its
            // edge was applied a period late (a call's start frame off under load).
            earliestQueued.store(0, ordering: .sequentiallyConsistent)
            for edge in source.takeEdges(before: frame) { queues[edge.line, default: []].append(edge) }
            var result: [SignalEdge] = []
            if let queue = queues[line], !queue.isEmpty {
                let split = queue.firstIndex { $0.frame >= frame } ?? queue.count
                queues[line] = Array(queue[split...])
                result = Array(queue[..<split])
            }
            earliestQueued.store(queues.values.compactMap(\.first?.frame).min() ?? .max, ordering: .sequentiallyConsistent)
            return result
        }
    }
}
