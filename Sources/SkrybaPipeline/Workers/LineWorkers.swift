import SkrybaCapture

/// What a line worker feeds each captured period to (the bench's encoder, later the call logic).
/// A consumer keeps its own errors: a failing line must never stall the others or the capture.
public protocol LineConsumer: AnyObject {
    func consume(_ period: CapturedPeriod)
    /// Called once, after the last period of the capture; `endFrame` is where the sample clock
    /// stopped (periods dropped at the very end are visible only here).
    func finish(endFrame: UInt64)
}

/// Worker threads that drain the per-line rings into their consumers. Line `i` belongs to worker
/// `i % workers`, so each ring keeps exactly one consumer thread (the SPSC contract).
public final class LineWorkers<Consumer: LineConsumer>: @unchecked Sendable {
    private var threads: [JoinableThread] = []

    /// Starts one thread per wake-up signal of `capture`, named after its lines ("line 3", "lines 1,3,5").
    /// - Throws: `ThreadStartError` when a thread cannot be created; those already started are ended first.
    public init(rings: CaptureRings, capture: CaptureThread, consumers: [Consumer]) throws(ThreadStartError) {
        precondition(consumers.count == rings.rings.count, "one consumer per line")
        let workerCount = capture.consumerWakeups.count
        for worker in 0..<workerCount {
            let lines = Array(stride(from: worker, to: consumers.count, by: workerCount))
            let wakeup = capture.consumerWakeups[worker]
            let name = lines.count == 1 ? "line \(lines[0] + 1)" : "lines " + lines.map { "\($0 + 1)" }.joined(separator: ",")
            do {
                threads.append(try JoinableThread(name: name) {
                    Self.drain(lines: lines.map { (rings.rings[$0], consumers[$0]) }, capture: capture, wakeup: wakeup)
                })
            } catch {
                capture.endWithoutCapture()
                join()
                throw error
            }
        }
    }

    /// Waits until every worker has drained its rings after the capture ended and finished its consumers.
    public func join() {
        for thread in threads { thread.join() }
        threads.removeAll()
    }

    private static func drain(lines: [(PeriodRing, Consumer)], capture: CaptureThread, wakeup: WakeSignal) {
        while true {
            // Read before draining: if the capture had finished, everything it wrote is visible now.
            let captureFinished = capture.isFinished
            var freedSlots = false
            for (ring, consumer) in lines {
                while let period = ring.peek() {
                    consumer.consume(period)
                    ring.release()
                    freedSlots = true
                }
            }
            if freedSlots { capture.spaceAvailable.signal() }
            if captureFinished { break }
            wakeup.wait()
        }
        let endFrame = capture.position
        for (_, consumer) in lines { consumer.finish(endFrame: endFrame) }
    }
}
