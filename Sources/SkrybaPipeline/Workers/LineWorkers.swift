import SkrybaCapture

/// What a line worker feeds each captured period to (the bench's encoder, the call logic).
/// A consumer keeps its own errors: a failing line must never stall the others or the capture.
public protocol LineConsumer: AnyObject {
    /// How many ring slots this consumer may keep after reading them, at this period size: the ring is
    /// made that much larger (`CaptureRings`' `heldPerRing`), so holding them costs no capture headroom.
    func heldPeriods(periodFrames: Int) -> Int
    /// `period` is `held[held.count - 1]`; the consumer returns how many of the oldest held periods it
    /// is done with, and the worker releases those slots. It must keep at most `heldPeriods` afterwards.
    func consume(_ period: CapturedPeriod, holding held: HeldPeriods) -> Int
    /// Called once, after the last period of the capture; `endFrame` is where the sample clock
    /// stopped (periods dropped at the very end are visible only here). Held periods are still valid.
    func finish(endFrame: UInt64)
}

/// A consumer that looks back at nothing: each period is released as soon as it is consumed.
public protocol ImmediateLineConsumer: LineConsumer {
    func consume(_ period: CapturedPeriod)
}

extension ImmediateLineConsumer {
    public func heldPeriods(periodFrames: Int) -> Int { 0 }
    public func consume(_ period: CapturedPeriod, holding held: HeldPeriods) -> Int {
        consume(period)
        return held.count
    }
}

/// One line's consumer side of its ring: hands each new period to the consumer and releases the
/// slots it is done with. Only the line's worker thread touches it (the SPSC contract).
public struct LineDrain<Consumer: LineConsumer> {
    public let ring: PeriodRing
    public let consumer: Consumer
    /// Periods read and not released yet.
    public private(set) var held = 0

    public init(ring: PeriodRing, consumer: Consumer) {
        self.ring = ring
        self.consumer = consumer
    }

    /// Consumes every period published so far; true when slots were freed.
    @discardableResult public mutating func drain() -> Bool {
        var freed = false
        while let period = ring.peek(offset: held) {
            held += 1
            let done = min(consumer.consume(period, holding: HeldPeriods(ring: ring, count: held)), held)
            if done > 0 {
                ring.release(done)
                held -= done
                freed = true
            }
        }
        return freed
    }

    /// Finishes the consumer (it may still read what it holds), then frees every slot.
    public mutating func finish(endFrame: UInt64) {
        consumer.finish(endFrame: endFrame)
        ring.release(held)
        held = 0
    }
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
                    Self.drain(lines: lines.map { LineDrain(ring: rings.rings[$0], consumer: consumers[$0]) }, capture: capture, wakeup: wakeup)
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

    private static func drain(lines: [LineDrain<Consumer>], capture: CaptureThread, wakeup: WakeSignal) {
        var lines = lines
        while true {
            // Read before draining: if the capture had finished, everything it wrote is visible now.
            let captureFinished = capture.isFinished
            var freedSlots = false
            for index in lines.indices {
                if lines[index].drain() { freedSlots = true }
            }
            if freedSlots { capture.spaceAvailable.signal() }
            if captureFinished { break }
            wakeup.wait()
        }
        let endFrame = capture.position
        for index in lines.indices { lines[index].finish(endFrame: endFrame) }
    }
}
