import Foundation
import SkrybaCore

/// Shares one `LineSignalSource` among the line workers: each asks for its own line's edges up to
/// the frame its audio has reached; edges for other lines wait in their queues.
public final class SignalDispatcher: @unchecked Sendable {
    private let source: any LineSignalSource
    private let lock = NSLock()
    private var queues: [Int: [SignalEdge]] = [:]

    public init(source: any LineSignalSource) { self.source = source }

    public func decisionDelayFrames(rate: Int) -> UInt64 { source.decisionDelayFrames(rate: rate) }

    public func edges(line: Int, before frame: UInt64) -> [SignalEdge] {
        lock.withLock {
            for edge in source.takeEdges(before: frame) { queues[edge.line, default: []].append(edge) }
            guard let queue = queues[line], !queue.isEmpty else { return [] }
            let split = queue.firstIndex { $0.frame >= frame } ?? queue.count
            queues[line] = Array(queue[split...])
            return Array(queue[..<split])
        }
    }
}
